import { redact, rememberSecretsIn } from "../../ops/lib/redact";

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
  // Every string of a secret output, whatever its name: the whole value is secret.
  for (const output of Object.values(outputs)) if (output.secret) rememberSecretsIn(output.value, () => true);
  return Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.value]));
}

/**
 * Runs an update or destroy with the engine's progress shown to whoever runs the script, on
 * stderr (stdout is kept for what the script prints), each line through redact() first: the
 * engine masks the secrets it knows, but a command resource's failure quotes what the command
 * printed. The Automation API hands `onOutput` the CLI's stdout in chunks as they arrive
 * (@pulumi/pulumi 3.270.0 automation/cmd.js:173-179), which may cut a URL in two, so whole
 * lines are redacted and the last, unfinished one once the run has ended.
 *
 * A form redact() reads over several lines is held until its next line has arrived: a line that
 * may open one (STARTS_A_BLOCK: a netrc machine, a variable's name before its value, a JSON name
 * whose value is on the next line, config's "value" before "secret") among the last HELD_LINES
 * lines; and a PEM private key, from its BEGIN line until its END line or KEY_LIMIT characters.
 * Each chunk is searched from where the last one ended, so a long run costs linear time.
 */
const HELD_LINES = 6;
const KEY_LIMIT = 64 * 1024;
const STARTS_A_BLOCK = /^[ \t]*(?:machine[ \t]|default[ \t]*\r?$|(?:-[ \t]+)?name:|"value"[ \t]*:|payload:[ \t]*\r?$|[^\r\n]*"[ \t]*:[ \t]*\r?$)/;
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/g;

export async function withProgress<T>(run: (onOutput: (chunk: string) => void) => Promise<T>, write: (text: string) => void = (text) => void process.stderr.write(text)): Promise<T> {
  let pending = "";
  /** While a private key is open: where in `pending` to look for its END next. */
  let keyFrom: number | undefined;
  const onOutput = (chunk: string) => {
    const from = pending.length;
    pending += chunk;
    if (keyFrom !== undefined) {
      if (!pending.includes("-----END ", keyFrom) && pending.length < KEY_LIMIT) {
        keyFrom = Math.max(0, pending.length - 16);
        return;
      }
      keyFrom = undefined;
    }
    let cut = pending.lastIndexOf("\n") + 1;
    const lines = pending.slice(0, cut).split("\n").slice(0, -1);
    // The held lines: the last few complete ones, or those from an open key's BEGIN line (searched in the new text only).
    let start = cut;
    for (let i = lines.length - 1, at = cut; i >= 0 && i >= lines.length - HELD_LINES; i -= 1) {
      at -= lines[i]!.length + 1;
      if (STARTS_A_BLOCK.test(lines[i]!)) start = at;
    }
    // The last key opened in the new text (an earlier one there may have closed already).
    const key = [...pending.slice(Math.max(0, from - 64)).matchAll(PRIVATE_KEY)].at(-1);
    if (key) {
      const at = Math.max(0, from - 64) + key.index!;
      if (!pending.includes("-----END ", at)) {
        start = Math.min(start, pending.lastIndexOf("\n", at) + 1);
        keyFrom = at;
      }
    }
    cut = Math.min(cut, start);
    if (cut === 0) return;
    write(redact(pending.slice(0, cut)));
    pending = pending.slice(cut);
    if (keyFrom !== undefined) keyFrom -= cut;
  };
  try {
    return await run(onOutput);
  } finally {
    if (pending) write(redact(pending));
  }
}
