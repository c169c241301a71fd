// Prints one plain closing line, "awaaz: N passed, N failed, N skipped", that any CI can read.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests: passed, numFailedTests: failed, numPendingTests: skipped, numTodoTests: todo } = results;
    const broken = results.numRuntimeErrorTestSuites;
    process.stdout.write(`\nawaaz: ${passed} passed, ${failed + broken} failed, ${skipped + todo} skipped\n`);
  }
}
module.exports = SummaryReporter;
