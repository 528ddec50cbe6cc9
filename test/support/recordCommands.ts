import childProcess from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
import { recordOutput } from "./canary";

/**
 * In every test worker (vitest `setupFiles`): what any command a test runs synchronously prints
 * is kept for the secret canary's end-of-run search (./canary.ts), not only the commands run
 * through the project's helpers. The module's functions are wrapped, and the wrappers made what
 * `import { spawnSync } from "node:child_process"` binds to (Node: module.syncBuiltinESMExports,
 * https://nodejs.org/api/module.html#modulesyncbuiltinesmexports). Commands started with the
 * asynchronous `spawn` are not wrapped (reading their streams here would take data from their
 * readers); the tests that use it send output to files or "ignore".
 *
 * One exception: the standard output of a command asked to print secrets for its caller to read
 * (`pulumi config --show-secrets`, which is how the offline plan decrypts a stack file as the
 * engine would: scripts/lib/stackFile.ts) is data held in memory, never printed; its standard
 * error, which a failure shows, is kept like any other.
 */
const cp = childProcess as unknown as Record<string, (...args: unknown[]) => unknown>;
const label = (file: unknown) => `command-${String(file).split("/").pop()}`;
const handsOverSecrets = (args: unknown[]) => [args[0], ...(Array.isArray(args[1]) ? args[1] : [])].some((a) => /(^|\s)--show-secrets(\s|$)/.test(String(a)));
const text = (value: unknown) => (typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("latin1") : "");

for (const name of ["execFileSync", "execSync"]) {
  const original = cp[name]!;
  cp[name] = function (this: unknown, ...args: unknown[]) {
    try {
      const out = original.apply(this, args);
      if (!handsOverSecrets(args)) recordOutput(label(args[0]), text(out));
      return out;
    } catch (error) {
      const e = error as { stdout?: unknown; stderr?: unknown };
      recordOutput(label(args[0]), handsOverSecrets(args) ? "" : text(e.stdout), text(e.stderr));
      throw error;
    }
  };
}
const spawnSync = cp.spawnSync!;
cp.spawnSync = function (this: unknown, ...args: unknown[]) {
  const result = spawnSync.apply(this, args) as { stdout?: unknown; stderr?: unknown };
  recordOutput(label(args[0]), handsOverSecrets(args) ? "" : text(result.stdout), text(result.stderr));
  return result;
};
syncBuiltinESMExports();
