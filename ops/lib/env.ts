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
 * Runs an ops script: prints only the error's message (never a stack with connection details),
 * redacted, the credentials it was given through the environment remembered first: a driver's or
 * a tool's error may quote one in any form.
 */
export function runMain(main: () => Promise<void>): void {
  rememberEnvironmentSecrets();
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`error: ${redact(message)}\n`);
      process.exit(1);
    },
  );
}
