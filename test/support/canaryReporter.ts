import type { Reporter, TestCase } from "vitest/node" with { "resolution-mode": "import" };
import { recordOutput } from "./canary";

/**
 * Keeps, for the secret canary's end-of-run search (./canary.ts), what the run itself prints:
 * every console line a test writes, and every failed test's error, which the reporter prints
 * to the CI log. Runs in vitest's main process, where the global setup set the canary folder.
 */
export default class CanaryReporter implements Reporter {
  onUserConsoleLog(log: { content: string }): void {
    recordOutput("console", log.content);
  }

  onTestCaseResult(testCase: TestCase): void {
    const errors = testCase.result().errors ?? [];
    if (errors.length) recordOutput("test-errors", ...errors.map((e) => `${e.message}\n${e.stack ?? ""}\n${e.diff ?? ""}`));
  }
}
