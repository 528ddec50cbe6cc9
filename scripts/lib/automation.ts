/**
 * Pulumi's Automation API as `npm run rotate` and `npm run review` use it: the `pulumi` on PATH,
 * or the CLI under `pulumiRoot` (`<root>/bin/pulumi`; default GAIA_PULUMI_ROOT, where
 * scripts/pulumi-cli.sh builds it), with the environment the CLI needs.
 */
export interface AutomationOptions {
  pulumiRoot?: string;
  envVars?: Record<string, string>;
}

export async function automation(options: AutomationOptions = {}) {
  const api = await import("@pulumi/pulumi/automation/index.js");
  const pulumiRoot = options.pulumiRoot ?? process.env.GAIA_PULUMI_ROOT;
  const pulumiCommand = pulumiRoot ? await api.PulumiCommand.get({ root: pulumiRoot }) : undefined;
  return { LocalWorkspace: api.LocalWorkspace, workspaceOptions: { pulumiCommand, envVars: options.envVars } };
}

/** An update's outputs as plain values (secrets decrypted), as the scripts read them. */
export function outputValues(outputs: Record<string, { value: unknown }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.value]));
}

/** The engine's progress, for whoever runs the script; stdout is kept for what it prints. */
export const toStderr = (out: string) => void process.stderr.write(out);
