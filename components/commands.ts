import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/**
 * How a command resource runs an ops script: `ops/<script>.ts` bundled ahead into one file
 * (`npm run build:ops`, run by `npm ci`), with the project's Node.js and its compile cache
 * (NODE_COMPILE_CACHE, Node.js 22.1+), so a run starts in tens of milliseconds instead of
 * compiling TypeScript first.
 */
export function opsCommandLine(script: string, verb: string): string {
  return `NODE_COMPILE_CACHE=node_modules/.cache/gaia-ops node_modules/.bin/node dist/ops/${script}.cjs ${verb}`;
}

/**
 * A command resource that runs one of the project's ops scripts (`ops/<script>.ts`).
 * Everything the script needs, secrets included, goes through the environment: the command
 * line is plain text in plans and state, the environment is encrypted with the stack's
 * secrets when any value in it is secret.
 *
 * What the script prints stays out of the engine's log: pulumi-command streams stdout and
 * stderr to it whatever `additionalSecretOutputs` says (pulumi-command #260, #401), unless
 * `logging` is "none" (provider/pkg/provider/local/commandOutputs.go, `run`, 1.2.1). The
 * previous run's stdout is not handed to the next run either (`addPreviousOutputInEnv`,
 * default true, same file). stdout/stderr stay secret in the state. On failure the provider
 * puts stdout and stderr in its error message, so the scripts never print a secret.
 */
export interface OpsCommandArgs {
  script: string;
  create: string;
  update?: string;
  delete?: string;
  environment: Record<string, pulumi.Input<string>>;
  /** Re-create (not update) when any of these change. */
  triggers?: pulumi.Input<unknown>[];
  /** Keep stdout and stderr secret in the state (default). Off only for scripts whose output the program reads and that print no secret. */
  secretOutput?: boolean;
  /**
   * Hand the previous run's stdout to the next run (PULUMI_COMMAND_STDOUT), so a delete knows
   * whether its create made the thing or adopted it. Only for scripts that print no secret.
   */
  previousOutput?: boolean;
}

export function opsCommand(name: string, args: OpsCommandArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
  const run = (verb: string) => opsCommandLine(args.script, verb);
  return new command.local.Command(
    name,
    {
      create: run(args.create),
      update: args.update ? run(args.update) : undefined,
      delete: args.delete ? run(args.delete) : undefined,
      environment: args.environment,
      triggers: args.triggers,
      logging: "none",
      addPreviousOutputInEnv: args.previousOutput === true,
    },
    args.secretOutput === false ? opts : { ...opts, additionalSecretOutputs: ["stdout", "stderr"] },
  );
}
