import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { isMap, isScalar, parseDocument, type Document } from "yaml";
import { ENCRYPTED_PLACEHOLDER } from "../../components/config";

export const PROJECT_ROOT = path.resolve(__dirname, "../..");

/** The stacks that have a stack file (`Pulumi.<stack>.yaml`) in `root`, sorted. */
export function stackNames(root = PROJECT_ROOT): string[] {
  return readdirSync(root)
    .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/**
 * A stack file's `config:` map as the engine hands it to the program: every value a string,
 * objects as JSON with sorted keys, and a key secret when it holds a `secure:` value anywhere
 * (a `--path` secret makes its whole top-level key secret: test/fixtures/pulumi-cli). An
 * encrypted value cannot be read here: it becomes a placeholder, itself secret, and its key is
 * listed in `undecrypted`.
 */
export interface StackFileConfig {
  config: Record<string, string>;
  secretKeys: string[];
  /** Dotted paths of encrypted values (`gaia:local.postgresUrl`), replaced by placeholders. */
  undecrypted: string[];
}

export function readStackFile(stack: string, root = PROJECT_ROOT): StackFileConfig {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  const parsed = parseDocument(readFileSync(file, "utf8"));
  const error = parsed.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const key = configKeyAt(parsed, error.pos[0]);
    throw new StackFileError(
      `${path.basename(file)}${at ? ` line ${at.line}, column ${at.col}` : ""}${key ? `, in ${key}` : ""}: ${error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}: fix the YAML (keys under config:, indented with spaces).`,
    );
  }
  let doc: { config?: Record<string, unknown> };
  try {
    // An alias to no anchor, or one that multiplies too far, is found only here (yaml's toJS: ReferenceError).
    doc = (parsed.toJS() ?? {}) as { config?: Record<string, unknown> };
  } catch (error) {
    throw new StackFileError(`${path.basename(file)}: ${(error as Error).message.split("\n")[0]}: write the value out instead of an alias (*name).`);
  }
  if (doc.config !== undefined && (doc.config === null || typeof doc.config !== "object" || Array.isArray(doc.config))) {
    throw new StackFileError(`${path.basename(file)}: config must be a map of keys such as gaia:platform: fix the file.`);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const undecrypted: string[] = [];
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    const before = undecrypted.length;
    const plain = withPlaceholders(value, key, undecrypted);
    if (undecrypted.length > before) secretKeys.push(key);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(sortedKeys(plain));
  }
  return { config, secretKeys, undecrypted };
}

/**
 * The config key whose entry holds `offset`, as far as the YAML parsed: the last key under
 * `config:` that starts at or before it (a broken value makes what follows it parse as keys of
 * its own, which start after the error). Undefined before the first key or outside `config:`.
 */
function configKeyAt(doc: Document, offset: number): string | undefined {
  const config = isMap(doc.contents) ? doc.contents.get("config", true) : undefined;
  if (!isMap(config)) return undefined;
  const started = config.items.filter((pair) => isScalar(pair.key) && (pair.key.range?.[0] ?? Infinity) <= offset);
  const last = started.at(-1)?.key;
  return isScalar(last) ? String(last.value) : undefined;
}

/** The value with each `{secure: …}` replaced by the placeholder, recording where. */
function withPlaceholders(value: unknown, at: string, found: string[]): unknown {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && entries[0]![0] === "secure") {
      found.push(at);
      return ENCRYPTED_PLACEHOLDER;
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, withPlaceholders(v, `${at}.${k}`, found)]));
  }
  if (Array.isArray(value)) return value.map((v, i) => withPlaceholders(v, `${at}[${i}]`, found));
  return value;
}

/** The engine's JSON of an object value: keys sorted, at every level. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** A stack file that is not YAML, or not a map of config keys: one sentence with the file, the line and the key, and the fix. */
export class StackFileError extends Error {
  override name = "StackFileError";
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
