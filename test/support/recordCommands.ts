import childProcess, { type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { promisify } from "node:util";
import { canaryFile, recordOutput } from "./canary";

/**
 * In every test worker (vitest `setupFiles`): whatever a test's commands and the test itself
 * print is kept for the secret canary's end-of-run search (./canary.ts), not only what goes
 * through the project's helpers.
 *
 * - child_process's functions are wrapped, and the wrappers made what `import { spawnSync } from
 *   "node:child_process"` binds to (Node: module.syncBuiltinESMExports,
 *   https://nodejs.org/api/module.html#modulesyncbuiltinesmexports).
 * - The synchronous ones record what they return or throw. `spawn` records its output streams as
 *   they flow (a listener added at once, so a caller reading them from the start, as execa and
 *   the Pulumi automation API do, sees all of it), and an output it was asked to inherit is
 *   piped instead and passed on to this process's own, recorded on the way; a detached command's
 *   inherited output is left alone, since a pipe would tie it to this process. `execFile` and
 *   `exec` record what their callback (or their promisified form) receives.
 * - process.stdout and process.stderr record every write, for what a test or a module prints
 *   without console (which vitest's reporter sees: ./canaryReporter.ts).
 *
 * vitest runs setup files before every test file, even in a worker that ran them already
 * (isolate: false), so the wrapping is done once per process, marked on globalThis.
 *
 * One exception: the standard output of a command asked to print secrets for its caller to read
 * (`pulumi config --show-secrets`, which is how the offline plan decrypts a stack file as the
 * engine would: scripts/lib/stackFile.ts) is data held in memory, never printed; its standard
 * error, which a failure shows, is kept like any other.
 */
type Fn = (...args: unknown[]) => unknown;
const label = (file: unknown) => `command-${String(file).split("/").pop()}`;
const handsOverSecrets = (args: unknown[]) => [args[0], ...(Array.isArray(args[1]) ? args[1] : [])].some((a) => /(^|\s)--show-secrets(\s|$)/.test(String(a)));
const text = (value: unknown) => (typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("latin1") : "");

function wrapChildProcess(): void {
  const cp = childProcess as unknown as Record<string, Fn>;
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

  const spawn = cp.spawn!;
  cp.spawn = function (this: unknown, ...args: unknown[]) {
    const at = Array.isArray(args[1]) ? 2 : 1;
    const options = (args[at] ?? {}) as childProcess.SpawnOptions;
    const stdio = typeof options.stdio === "string" ? [options.stdio, options.stdio, options.stdio] : [...(options.stdio ?? [])];
    const inherited = [1, 2].filter((fd) => !options.detached && [fd, "inherit", fd === 1 ? process.stdout : process.stderr].includes(stdio[fd] as never));
    if (inherited.length > 0) {
      for (const fd of inherited) stdio[fd] = "pipe";
      args = [...args];
      args[at] = { ...options, stdio };
    }
    const child = spawn.apply(this, args) as ChildProcess;
    const file = canaryFile("outputs", label(args[0]));
    for (const fd of [1, 2]) {
      const stream = child.stdio[fd];
      if (!stream || (fd === 1 && handsOverSecrets(args))) continue;
      stream.on("data", (chunk: Buffer | string) => {
        if (file) appendFileSync(file, chunk);
        if (inherited.includes(fd)) (fd === 1 ? process.stdout : process.stderr).write(chunk);
      });
    }
    return child;
  };

  for (const name of ["execFile", "exec"]) {
    const original = cp[name]!;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const last = args.length - 1;
      if (typeof args[last] === "function") {
        const callback = args[last] as Fn;
        args = [...args];
        args[last] = (error: unknown, stdout: unknown, stderr: unknown) => {
          recordOutput(label(args[0]), handsOverSecrets(args) ? "" : text(stdout), text(stderr));
          return callback(error, stdout, stderr);
        };
      }
      return original.apply(this, args);
    };
    // The promisified form resolves { stdout, stderr } (Node's own util.promisify.custom on these two); kept so.
    Object.defineProperty(wrapped, promisify.custom, {
      value: (...args: unknown[]) =>
        new Promise((resolve, reject) => {
          wrapped(...args, (error: (Error & object) | null, stdout: unknown, stderr: unknown) =>
            error ? reject(Object.assign(error, { stdout, stderr })) : resolve({ stdout, stderr }),
          );
        }),
    });
    cp[name] = wrapped;
  }
  syncBuiltinESMExports();
}

function recordWrites(stream: NodeJS.WriteStream, name: string): void {
  const write = stream.write.bind(stream) as Fn;
  let file: string | undefined;
  stream.write = function (...args: unknown[]) {
    file ??= canaryFile("outputs", name);
    if (file && (typeof args[0] === "string" || args[0] instanceof Uint8Array)) appendFileSync(file, args[0]);
    return write(...args) as boolean;
  } as typeof stream.write;
}

const WRAPPED = Symbol.for("gaia.canary.recordCommands");
const state = globalThis as { [WRAPPED]?: true };
if (!state[WRAPPED]) {
  state[WRAPPED] = true;
  wrapChildProcess();
  for (const stream of [process.stdout, process.stderr]) recordWrites(stream, stream === process.stdout ? "stdout" : "stderr");
}
