import { redact, rememberSecret } from "../../ops/lib/redact";

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

/**
 * An update's outputs as plain values (secrets decrypted), as the scripts read them; each secret's
 * strings remembered, so that redact() takes them out of any later error or progress line.
 */
export function outputValues(outputs: Record<string, { value: unknown; secret?: boolean }>): Record<string, unknown> {
  for (const output of Object.values(outputs)) if (output.secret) rememberStrings(output.value);
  return Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.value]));
}

function rememberStrings(value: unknown): void {
  if (typeof value === "string") rememberSecret(value);
  else if (value && typeof value === "object") for (const item of Object.values(value)) rememberStrings(item);
}

/**
 * Runs an update or destroy with the engine's progress shown to whoever runs the script, on
 * stderr (stdout is kept for what the script prints), each line through redact() first: the
 * engine masks the secrets it knows, but a command resource's failure quotes what the command
 * printed. The Automation API hands `onOutput` the CLI's stdout in chunks as they arrive
 * (@pulumi/pulumi 3.270.0 automation/cmd.js:173-179), which may cut a URL in two, so whole
 * lines are redacted and the last, unfinished one once the run has ended. A PEM private key is
 * several lines: from its BEGIN line, text is held until its END line (or 1 MB) has arrived.
 */
const HOLD_LIMIT = 1024 * 1024;

export async function withProgress<T>(run: (onOutput: (chunk: string) => void) => Promise<T>, write: (text: string) => void = (text) => void process.stderr.write(text)): Promise<T> {
  let pending = "";
  const onOutput = (chunk: string) => {
    pending += chunk;
    let cut = pending.lastIndexOf("\n") + 1;
    const key = pending.lastIndexOf("-----BEGIN ");
    if (key >= 0 && !pending.includes("-----END ", key) && pending.length < HOLD_LIMIT) cut = Math.min(cut, pending.lastIndexOf("\n", key) + 1);
    if (cut === 0) return;
    write(redact(pending.slice(0, cut)));
    pending = pending.slice(cut);
  };
  try {
    return await run(onOutput);
  } finally {
    if (pending) write(redact(pending));
  }
}
