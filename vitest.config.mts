import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Database tests use unique names per run; files may run in parallel.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
