/**
 * The AWS CLI as the cloud restore drill drives it: `aws rds <command> … --region <r> --output json`
 * through execFileSync (an argv, never a shell, so no value is ever read as shell syntax).
 *
 * What its failures look like, from aws/aws-cli at 2.36.7 (the v2 line a runner installs):
 *   - a service error (botocore ClientError) exits 254 (awscli/constants.py CLIENT_ERROR_RC,
 *     awscli/errorhandler.py ClientErrorHandler) and prints botocore's MSG_TEMPLATE,
 *     "An error occurred (<Code>) when calling the <Operation> operation: <Message>"
 *     (awscli/botocore/exceptions.py ClientError), after "aws: [ERROR]: " (awscli/errorformat.py);
 *   - a waiter that gives up or meets a failure state exits 255 (WaiterError is no ClientError:
 *     GeneralExceptionHandler, GENERAL_ERROR_RC) with "Waiter <Name> failed: <reason>"
 *     (awscli/botocore/exceptions.py WaiterError, awscli/botocore/waiter.py Waiter.wait);
 *   - v1 (aws/aws-cli develop, awscli/clidriver.py main) exits 255 for both, without the prefix.
 * So the code is read from the message, not from the exit status: the same on either line.
 * Output goes through a pager only on a terminal (awscli/utils.py OutputStreamFactory
 * get_output_stream: is_a_tty()); execFileSync's pipe is none, so no --no-cli-pager (v2 only).
 */
import { execFileSync } from "node:child_process";

export class AwsCliError extends Error {
  override name = "AwsCliError";
  constructor(
    message: string,
    /** The service's error code ("DBInstanceNotFound"), when the CLI printed one. */
    readonly code: string | undefined,
    readonly status: number | null,
  ) {
    super(message);
  }
}

/** The CLI's error line, without its "aws: [ERROR]:" prefix and the usage text around it. */
function errorLine(stderr: string): string {
  const lines = stderr.split("\n").map((line) => line.replace(/^aws: \[ERROR\]:\s*/, "").trim()).filter(Boolean);
  return lines.find((line) => /An error occurred \(|^Waiter |Unknown options|required/.test(line)) ?? lines.at(-1) ?? "no output";
}

export interface AwsCli {
  /** `aws rds <args…> --region <region> --output json`, its JSON answer (undefined when it printed none: `wait`). */
  rds<T = unknown>(...args: string[]): T | undefined;
}

/** The CLI at `cli` (a name on PATH or a path), in `region`, with `env` as its environment. */
export function awsCli(cli: string, region: string, env: NodeJS.ProcessEnv): AwsCli {
  return {
    rds<T>(...args: string[]): T | undefined {
      let stdout: string;
      try {
        stdout = execFileSync(cli, ["rds", ...args, "--region", region, "--output", "json"], {
          encoding: "utf8",
          env,
          stdio: ["ignore", "pipe", "pipe"],
          // A wait polls every 30 s up to 60 times (botocore rds waiters-2.json DBInstanceAvailable): 30 min, and a margin.
          timeout: 35 * 60_000,
          maxBuffer: 16 * 2 ** 20,
        });
      } catch (error) {
        const e = error as { code?: string; status?: number | null; stderr?: string; message: string };
        if (e.code === "ENOENT") throw new AwsCliError(`no AWS CLI at "${cli}" (install it, or set GAIA_AWS_CLI)`, undefined, null);
        const line = errorLine(e.stderr ?? e.message);
        throw new AwsCliError(line, /An error occurred \(([^)]+)\)/.exec(line)?.[1], e.status ?? null);
      }
      return stdout.trim() ? (JSON.parse(stdout) as T) : undefined;
    },
  };
}
