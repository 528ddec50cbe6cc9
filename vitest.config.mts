import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The secret canary around the whole run (test/support/canary.ts): set up and searched once,
    // every command's output recorded in each worker, and what the run prints kept by its reporter.
    globalSetup: ["test/support/globalSetup.ts"],
    setupFiles: ["test/support/recordCommands.ts"],
    reporters: ["default", "./test/support/canaryReporter.ts"],
    // Database tests use unique names per run; files may run in parallel. They wait on servers and
    // child processes more than they compute, so two workers even on two cores (vitest's default
    // there is one: availableParallelism() - 1): about 115 s instead of 160 s for `npm test`.
    maxWorkers: Math.max(2, availableParallelism()),
    // Test files share their worker's module cache instead of each importing Pulumi's SDK, the
    // cloud SDKs and pg afresh: `npm test` took 138 s isolated and 117 s shared on this 2-core
    // machine (import time 19 % -> 4 %; scripts/bench-tests.sh). Safe because no test file relies on
    // a fresh module: each sets Pulumi's mocks before it builds (scripts/lib/cloudMocks.ts), and
    // the setup file wraps child_process once per process (test/support/recordCommands.ts).
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
