// Prints one plain closing line, "awaaz: N passed, N failed, N skipped", that any CI can read,
// naming the engine when scripts/test.sh (`npm test`) runs jest once per engine; it also
// appends the line to AWAAZ_TEST_SUMMARY_FILE, where that script reads both runs' lines back.
const fs = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests: passed, numFailedTests: failed, numPendingTests: skipped, numTodoTests: todo } = results;
    const broken = results.numRuntimeErrorTestSuites;
    const run = process.env.AWAAZ_TEST_RUN ? ` (on ${process.env.AWAAZ_TEST_RUN})` : '';
    const line = `awaaz: ${passed} passed, ${failed + broken} failed, ${skipped + todo} skipped${run}\n`;
    process.stdout.write(`\n${line}`);
    if (process.env.AWAAZ_TEST_SUMMARY_FILE) fs.appendFileSync(process.env.AWAAZ_TEST_SUMMARY_FILE, line);
  }
}
module.exports = SummaryReporter;
