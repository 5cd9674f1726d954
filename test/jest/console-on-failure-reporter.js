// @ts-check
const { DefaultReporter } = require('@jest/reporters');

/**
 * Jest's default reporter, except that a test file's console output (the winston lines of the API and workers
 * the integration tests run in-process) is printed only when that file failed: a passing run stays quiet,
 * and a failure keeps the logs that explain it.
 */
class ConsoleOnFailureReporter extends DefaultReporter {
  /** @override @type {DefaultReporter['onTestResult']} */
  onTestResult(test, result, aggregatedResults) {
    const failed = result.numFailingTests > 0 || result.testExecError !== undefined || Boolean(result.failureMessage);
    super.onTestResult(test, failed ? result : { ...result, console: undefined }, aggregatedResults);
  }
}

module.exports = ConsoleOnFailureReporter;
