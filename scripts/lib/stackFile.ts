import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { stackFileName } from "../../components/config";
import { parseStackFile, type StackFileConfig } from "../../stacks/stackFile";

export { StackFileError, type StackFileConfig } from "../../stacks/stackFile";

export const PROJECT_ROOT = path.resolve(__dirname, "../..");

/** The stacks that have a stack file (`Pulumi.<stack>.yaml`) in `root`, sorted. */
export function stackNames(root = PROJECT_ROOT): string[] {
  return readdirSync(root)
    .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** This project's name (Pulumi.yaml): the namespace Pulumi gives a config key written without one. */
export const PROJECT = "gaia-database";

/**
 * A stack file's `config:` map as the engine hands it to the program (stacks/stackFile.ts), or
 * a `StackFileError` naming the file, each key and its fix, for anything Pulumi would ignore or
 * read otherwise than meant.
 */
export function readStackFile(stack: string, root = PROJECT_ROOT): StackFileConfig {
  return parseStackFile(stackFileName(stack), readFileSync(path.join(root, stackFileName(stack)), "utf8"), PROJECT);
}

/** The stack's configuration, decrypted by the Pulumi CLI where it can be; how it was read, for people. */
export interface StackConfig extends StackFileConfig {
  /** One sentence on the encrypted values: decrypted by the CLI, or why not. Undefined where the file has none. */
  decryption?: string;
}

/**
 * A stack's configuration as the engine would hand it. Where the file holds encrypted values
 * and a Pulumi CLI can decrypt them (logged in to the stack's backend, its secrets provider
 * available: PULUMI_CONFIG_PASSPHRASE, cloud KMS credentials), it is what
 * `pulumi config --json --show-secrets` prints: every value as the engine passes it and
 * whether it is secret (pulumi/pulumi v3.274.1, pkg/cmd/pulumi/config/config.go:
 * `configValueJSON`, value/objectValue/secret; `--non-interactive` from pkg/cmd/pulumi/pulumi.go). Otherwise the file's values with
 * placeholders (readStackFile), and the CLI's reason.
 *
 * `pulumi`: the CLI to ask (default: `pulumi` on PATH); null asks none. `env`: its environment
 * (default: this process's).
 */
export function readStackConfig(stack: string, options: { root?: string; pulumi?: string | null; env?: NodeJS.ProcessEnv } = {}): StackConfig {
  const root = options.root ?? PROJECT_ROOT;
  const file = readStackFile(stack, root);
  if (file.undecrypted.length === 0) return file;
  const encrypted = file.undecrypted.join(", ");
  const cli = options.pulumi === undefined ? "pulumi" : options.pulumi;
  if (cli === null) return { ...file, decryption: `${encrypted}: encrypted, not decrypted (no Pulumi CLI asked)` };
  try {
    const printed = execFileSync(cli, ["config", "--json", "--show-secrets", "--stack", stack, "--cwd", root, "--non-interactive"], {
      encoding: "utf8",
      // Never a prompt: a missing passphrase is an error, not a wait for input.
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...(options.env ?? process.env), PULUMI_SKIP_UPDATE_CHECK: "true" },
      timeout: 60_000,
    });
    const engine = JSON.parse(printed) as Record<string, { value?: string; secret: boolean }>;
    const config = Object.fromEntries(Object.entries(engine).map(([key, entry]) => [key, entry.value ?? ""]));
    const secretKeys = Object.keys(engine).filter((key) => engine[key]!.secret);
    return { config, secretKeys, undecrypted: [], decryption: `${encrypted}: decrypted by \`pulumi config --show-secrets\` (shown as [secret])` };
  } catch (error) {
    const e = error as { code?: string; stderr?: string; message: string };
    const why = e.code === "ENOENT"
      ? "no pulumi CLI on PATH"
      : (e.stderr ?? "").trim().split("\n").find((line) => line.startsWith("error:"))?.replace(/^error:\s*/, "") ?? e.message.split("\n")[0];
    return { ...file, decryption: `${encrypted}: encrypted, and pulumi config could not decrypt it (${why}), so planned with placeholders` };
  }
}
