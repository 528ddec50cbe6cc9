import type { Reporter, SerializedError, TestCase, TestModule } from "vitest/node" with { "resolution-mode": "import" };
import { recordOutput } from "./canary";

/**
 * Keeps, for the secret canary's end-of-run search (./canary.ts), what the run itself prints:
 * every console line a test writes, and every error the reporter prints to the CI log: a failed
 * test's, a hook's or a suite's (beforeAll, a describe's body), a test file's that failed to
 * load, and the unhandled ones, each with its causes. Runs in vitest's main process, where the
 * global setup set the canary folder.
 */
export default class CanaryReporter implements Reporter {
  onUserConsoleLog(log: { content: string }): void {
    recordOutput("console", log.content);
  }

  onTestCaseResult(testCase: TestCase): void {
    recordErrors("test-errors", testCase.result().errors ?? []);
  }

  onTestModuleEnd(testModule: TestModule): void {
    recordErrors("module-errors", [...testModule.errors(), ...[...testModule.children.allSuites()].flatMap((suite) => suite.errors())]);
  }

  onTestRunEnd(_modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    recordErrors("unhandled-errors", unhandledErrors);
  }
}

/** An error as the reporter prints it: message, stack, diff, and its causes ("Caused by:"), each in turn. */
function recordErrors(label: string, errors: ReadonlyArray<unknown>): void {
  const text = (error: unknown, depth = 0): string => {
    if (!error || typeof error !== "object" || depth > 10) return String(error ?? "");
    const e = error as { message?: unknown; stack?: unknown; diff?: unknown; cause?: unknown };
    return [e.message, e.stack, e.diff].filter(Boolean).map(String).join("\n") + (e.cause ? `\nCaused by: ${text(e.cause, depth + 1)}` : "");
  };
  if (errors.length) recordOutput(label, ...errors.map((e) => text(e)));
}
