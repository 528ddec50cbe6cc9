import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The secret canary around the whole run (test/support/canary.ts).
    globalSetup: ["test/support/globalSetup.ts"],
    // Database tests use unique names per run; files may run in parallel.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
