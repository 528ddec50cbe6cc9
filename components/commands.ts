import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/**
 * A command resource that runs one of the project's ops scripts (`ops/<script>.ts`) with tsx.
 * Everything the script needs, secrets included, goes through the environment: the command
 * line is plain text in plans and state, the environment is encrypted with the stack's
 * secrets when any value in it is secret. stdout/stderr are kept secret in state as well
 * (pulumi-command #260), though the scripts print no secret.
 */
export interface OpsCommandArgs {
  script: string;
  create: string;
  update?: string;
  delete?: string;
  environment: Record<string, pulumi.Input<string>>;
  /** Re-create (not update) when any of these change. */
  triggers?: pulumi.Input<unknown>[];
}

export function opsCommand(name: string, args: OpsCommandArgs, opts: pulumi.CustomResourceOptions): command.local.Command {
  const run = (verb: string) => `node_modules/.bin/tsx ops/${args.script}.ts ${verb}`;
  return new command.local.Command(
    name,
    {
      create: run(args.create),
      update: args.update ? run(args.update) : undefined,
      delete: args.delete ? run(args.delete) : undefined,
      environment: args.environment,
      triggers: args.triggers,
    },
    { ...opts, additionalSecretOutputs: ["stdout", "stderr"] },
  );
}
