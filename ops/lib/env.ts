import { redact, rememberEnvironmentSecrets } from "./redact";

/**
 * Reads the inputs of an ops script. Command resources pass everything through the
 * environment, never the command line, so secrets stay out of process listings and of the
 * command string Pulumi shows in plans.
 */
export function requireEnv(name: string, purpose: string): string {
  const value = process.env[name];
  if (!value) {
    throw new OpsError(`${name} is not set: it must hold ${purpose}.`);
  }
  return value;
}

export function optionalEnv(name: string): string | undefined {
  return process.env[name] || undefined;
}

/** An error whose message is meant for the operator as it is: it says what to fix. */
export class OpsError extends Error {
  override name = "OpsError";
}

/**
 * Exits once everything written to stdout and stderr has gone out: on a pipe both are
 * asynchronous, and process.exit drops what the pipe has not taken yet (Node.js, process "A note
 * on process I/O"; a plan printed through a pipe stopped at 64 KB). An empty write's callback
 * comes after every write before it.
 */
export function exitAfterOutput(code: number): void {
  let streams = 2;
  const flushed = () => {
    if (--streams === 0) process.exit(code);
  };
  process.stdout.write("", flushed);
  process.stderr.write("", flushed);
}

/**
 * Runs an ops script: prints only the error's message (never a stack with connection details),
 * redacted, the credentials it was given through the environment remembered first: a driver's or
 * a tool's error may quote one in any form.
 */
export function runMain(main: () => Promise<void>): void {
  rememberEnvironmentSecrets();
  main().then(
    () => exitAfterOutput(0),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`error: ${redact(message)}\n`);
      exitAfterOutput(1);
    },
  );
}
