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
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
