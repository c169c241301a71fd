require('fast-check').configureGlobal({ numRuns: 3000 });
