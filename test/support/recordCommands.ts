import childProcess, { type ChildProcess } from "node:child_process";
import fs, { appendFileSync } from "node:fs";
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
/** A file name for a command's output: the program's own name, never the rest of a command line (which may hold a secret). */
const label = (file: unknown) => `command-${(String(file).trim().split(/\s+/)[0] ?? "").split("/").pop()!.replace(/[^\w.-]/g, "_").slice(0, 40)}`;
const handsOverSecrets = (args: unknown[]) => [args[0], ...(Array.isArray(args[1]) ? args[1] : [])].some((a) => /(^|\s)--show-secrets(\s|$)/.test(String(a)));
const text = (value: unknown) => (typeof value === "string" ? value : Buffer.isBuffer(value) ? value.toString("latin1") : "");

/** Where a command's options sit among its arguments: after the argument list when there is one. */
const optionsAt = (args: unknown[], name: string) => (name === "execSync" ? 1 : Array.isArray(args[1]) ? 2 : 1);

/**
 * The arguments with an inherited standard output or error made a pipe (which fds were), so
 * what the command prints can be recorded and then passed on; a detached command is left alone.
 */
function piped(args: unknown[], at: number): { args: unknown[]; inherited: number[] } {
  const options = (args[at] ?? {}) as childProcess.SpawnOptions;
  const stdio = typeof options.stdio === "string" ? [options.stdio, options.stdio, options.stdio] : [...(options.stdio ?? [])];
  const inherited = [1, 2].filter((fd) => !options.detached && [fd, "inherit", fd === 1 ? process.stdout : process.stderr].includes(stdio[fd] as never));
  if (inherited.length === 0) return { args, inherited };
  for (const fd of inherited) stdio[fd] = "pipe";
  const copy = [...args];
  while (copy.length < at) copy.push(undefined);
  copy[at] = { ...options, stdio };
  return { args: copy, inherited };
}

const passOn = (fd: number, chunk: unknown) => {
  if (typeof chunk === "string" || chunk instanceof Uint8Array) (fd === 1 ? process.stdout : process.stderr).write(chunk);
};

function wrapChildProcess(): void {
  const cp = childProcess as unknown as Record<string, Fn>;
  for (const name of ["execFileSync", "execSync"]) {
    const original = cp[name]!;
    cp[name] = function (this: unknown, ...given: unknown[]) {
      // Only stdout is returned; an inherited stderr is piped and passed on when the command ends.
      const { args, inherited } = piped(given, optionsAt(given, name));
      try {
        const out = original.apply(this, args);
        if (!handsOverSecrets(args)) recordOutput(label(args[0]), text(out));
        if (inherited.includes(1)) passOn(1, out);
        return inherited.includes(1) ? null : out;
      } catch (error) {
        const e = error as { stdout?: unknown; stderr?: unknown };
        recordOutput(label(args[0]), handsOverSecrets(args) ? "" : text(e.stdout), text(e.stderr));
        for (const fd of inherited) passOn(fd, fd === 1 ? e.stdout : e.stderr);
        throw error;
      }
    };
  }
  const spawnSync = cp.spawnSync!;
  cp.spawnSync = function (this: unknown, ...given: unknown[]) {
    const { args, inherited } = piped(given, optionsAt(given, "spawnSync"));
    const result = spawnSync.apply(this, args) as { stdout?: unknown; stderr?: unknown; output?: unknown[] };
    recordOutput(label(args[0]), handsOverSecrets(args) ? "" : text(result.stdout), text(result.stderr));
    for (const fd of inherited) {
      passOn(fd, fd === 1 ? result.stdout : result.stderr);
      // What the caller asked for: nothing captured where it inherited.
      if (fd === 1) result.stdout = null;
      else result.stderr = null;
      if (Array.isArray(result.output)) result.output[fd] = null;
    }
    return result;
  };

  const spawn = cp.spawn!;
  cp.spawn = function (this: unknown, ...given: unknown[]) {
    const { args, inherited } = piped(given, optionsAt(given, "spawn"));
    const child = spawn.apply(this, args) as ChildProcess;
    const file = canaryFile("outputs", label(args[0]));
    record(child, file, inherited, handsOverSecrets(args));
    return child;
  };

  // fork inherits this process's output unless `silent`: made silent, and passed on as spawn's.
  const fork = cp.fork!;
  cp.fork = function (this: unknown, ...given: unknown[]) {
    const at = Array.isArray(given[1]) ? 2 : 1;
    const options = (given[at] ?? {}) as childProcess.ForkOptions;
    const inherits = !options.silent && !options.stdio && !options.detached;
    const args = [...given];
    while (args.length < at) args.push([]);
    if (inherits) args[at] = { ...options, silent: true };
    const child = fork.apply(this, args) as ChildProcess;
    record(child, canaryFile("outputs", label(given[0])), inherits ? [1, 2] : [], false);
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

/** Records a child's piped output as it flows, and passes on what it was asked to inherit. */
function record(child: ChildProcess, file: string | undefined, inherited: number[], handsOver: boolean): void {
  for (const fd of [1, 2]) {
    const stream = child.stdio[fd];
    if (!stream) continue;
    stream.on("data", (chunk: Buffer | string) => {
      // What a command prints for its caller to read (--show-secrets) is not kept, but still passed on when inherited.
      if (file && !(fd === 1 && handsOver)) appendFileSync(file, chunk);
      if (inherited.includes(fd)) passOn(fd, chunk);
    });
  }
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
  // Writes to the standard outputs' descriptors that bypass the streams.
  const fsModule = fs as unknown as Record<string, Fn>;
  const writeSync = fsModule.writeSync!;
  let file: string | undefined;
  fsModule.writeSync = function (this: unknown, ...args: unknown[]) {
    if (args[0] === 1 || args[0] === 2) {
      file ??= canaryFile("outputs", "fd-writes");
      if (file && (typeof args[1] === "string" || args[1] instanceof Uint8Array)) appendFileSync(file, args[1]);
    }
    return writeSync.apply(this, args);
  };
  syncBuiltinESMExports();
}
