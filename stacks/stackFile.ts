import { ownEntry } from "./configKeys";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { isMap, isScalar, isSeq, parseDocument, type Document, type Pair } from "yaml";
import { ENCRYPTED_PLACEHOLDER, NAMESPACE, stackFileName, stackSettings } from "../components/config";
import { CREDENTIAL_NAME, plainTextCredential } from "../components/core/rules";
import { closest } from "../components/core/suggest";

/**
 * A stack file (`Pulumi.<stack>.yaml`) as Pulumi reads it, and what Pulumi would let pass
 * silently in it: the offline plan reads it here (scripts/lib/stackFile.ts), and so does the
 * program before anything else (index.ts), since the engine hands the program only what it kept.
 *
 * Pulumi (pulumi/pulumi v3.274.1, sdk/go/common/workspace) reads the file into `ProjectStack`
 * with a YAML decoder that ignores keys it does not know (a top-level `confg:`, or a key meant
 * to be indented under a setting), puts a config key written without a namespace in the
 * project's (loaders.go, stackConfigNamespacedWithProject), reads a key without a value as an
 * empty string (checkForEmptyConfig, a warning only), and takes `ns:config:name` for `ns:name`
 * (resource/config/key.go, ParseKey).
 */

/** The top-level keys of a stack file (project.go, ProjectStack); Pulumi ignores any other. */
export const STACK_FILE_KEYS = ["config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt"] as const;

/**
 * A stack file that is not YAML, or holds what Pulumi would ignore or read otherwise than
 * meant: each problem one sentence with the file, the key and the fix; several listed.
 */
export class StackFileError extends Error {
  override name = "StackFileError";
  readonly problems: string[];
  constructor(problems: string | string[], file?: string) {
    const list = typeof problems === "string" ? [problems] : problems;
    super(list.length === 1 ? list[0]! : `${file ?? "The stack file"} has ${list.length} problems; nothing was created or changed:\n${list.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = list;
  }
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

/**
 * Reads a stack file's text (`file`: its name, `Pulumi.<stack>.yaml`), or throws a
 * `StackFileError` listing every problem of its shape: YAML that does not parse, a top-level
 * key Pulumi ignores, a key indented too little, a key without a namespace or without a value,
 * a credential in plain text. `project`: the Pulumi project, whose namespace Pulumi gives a key
 * written without one.
 */
export function parseStackFile(file: string, text: string, project: string): StackFileConfig {
  const parsed = parseDocument(text);
  const error = parsed.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const key = at ? keyPathAt(text, at.line) : configKeyAt(parsed, error.pos[0]);
    // yaml's words for a second document are advice to its caller (parseAllDocuments): said for people.
    if (error.code === "MULTIPLE_DOCS") {
      throw new StackFileError(`${file}${at ? ` line ${at.line}` : ""}${key ? `, after ${key}` : ""}: a second YAML document (---) begins here, which Pulumi does not read: a stack file is one document; remove the --- and what follows, or move its keys under config:.`);
    }
    throw new StackFileError(
      `${file}${at ? ` line ${at.line}, column ${at.col}` : ""}${key ? `, in ${key}` : ""}: ${error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}: fix the YAML (keys under config:, indented with spaces).`,
    );
  }
  // A list or a map as a key: yaml would turn it into text with a warning on the console.
  const collectionKey = keyPathOfCollectionKey(parsed);
  if (collectionKey !== undefined) {
    throw new StackFileError(`${file}: a key${collectionKey ? ` under ${collectionKey}` : ""} is a list or a map (? [...] or ? {...}), which Pulumi reads as no key of its config: write the key as text.`);
  }
  let doc: unknown;
  try {
    // An alias to no anchor, or one that multiplies too far, is found only here (yaml's toJS: ReferenceError).
    doc = parsed.toJS() ?? {};
  } catch (error) {
    throw new StackFileError(`${file}: ${(error as Error).message.split("\n")[0]}: write the value out instead of an alias (*name).`);
  }
  if (typeof doc !== "object" || Array.isArray(doc) || !isMap(parsed.contents)) {
    if (parsed.contents === null) return { config: {}, secretKeys: [], undecrypted: [] };
    throw new StackFileError(`${file}: a stack file is a map of top-level keys such as config: fix the file.`);
  }
  const top = doc as { config?: unknown };
  if (top.config !== undefined && (top.config === null || typeof top.config !== "object" || Array.isArray(top.config))) {
    throw new StackFileError(`${file}: config must be a map of keys such as gaia:platform: fix the file.`);
  }
  const problems = shapeProblems(file, parsed, project);
  const values = (top.config ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(values)) {
    if (key.startsWith(`${NAMESPACE}:`)) problems.push(...plainTextCredentials(value, engineKey(key) ?? key).map((p) => `${file}: ${p}`));
    const tagged = taggedValue(value, key);
    if (tagged) problems.push(`${file}: ${tagged}`);
  }
  if (problems.length) throw new StackFileError(problems, file);

  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const undecrypted: string[] = [];
  for (const [written, value] of Object.entries(values)) {
    const key = engineKey(written)!;
    const before = undecrypted.length;
    const plain = withPlaceholders(value, key, undecrypted);
    if (undecrypted.length > before) secretKeys.push(key);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(sortedKeys(plain));
  }
  return { config, secretKeys, undecrypted };
}

/**
 * The stack file of `stack` in `root`, read as `parseStackFile` reads it, if there is one (a
 * stack whose config lives elsewhere has none); throws its `StackFileError`.
 */
export function checkStackFile(stack: string, root: string, project: string): StackFileConfig | undefined {
  const file = path.join(root, stackFileName(stack));
  return existsSync(file) ? parseStackFile(stackFileName(stack), readFileSync(file, "utf8"), project) : undefined;
}

/** The key as the engine holds it (`gaia:config:replicas` is `gaia:replicas`), or undefined for one it cannot read. */
function engineKey(key: string): string | undefined {
  const parts = key.split(":");
  if (parts.length === 2 && parts[0] && parts[1]) return key;
  if (parts.length === 3 && parts[1] === "config" && parts[0] && parts[2]) return `${parts[0]}:${parts[2]}`;
  return undefined;
}

/** The name of a map pair's key, as written. */
const keyName = (pair: Pair): string => (isScalar(pair.key) ? String(pair.key.value) : String(pair.key));

/** Whether a pair has no value at all (`gaia:instance:` and nothing under it), which Pulumi reads as "". */
const isEmpty = (pair: Pair) => pair.value === null || (isScalar(pair.value) && pair.value.value === null);

/**
 * What Pulumi would ignore or read otherwise than meant, in the order of the file: keys at the
 * top level it does not know, config keys without a namespace, or a value, or that it cannot
 * parse, and keys that are one indentation short of the setting above them.
 */
function shapeProblems(file: string, doc: Document, project: string): string[] {
  const settings = stackSettings();
  const names = Object.keys(settings);
  /** The keys of a setting's block ([] for a map of any keys); null for a value, a list, or a key not gaia's. */
  const blockKeys = (key: string): readonly string[] | null => {
    const engine = engineKey(key);
    return engine?.startsWith(`${NAMESPACE}:`) ? ownEntry(settings, engine.slice(NAMESPACE.length + 1)) ?? null : null;
  };
  const problems: string[] = [];
  const topItems = isMap(doc.contents) ? (doc.contents.items as Pair[]) : [];
  const configPair = topItems.find((pair) => keyName(pair) === "config");
  const configItems = configPair && isMap(configPair.value) ? (configPair.value.items as Pair[]) : [];

  /**
   * The setting a key without a namespace was meant to be indented under, if it was: the block
   * above it (`gaia:instance:`), when that has no value or has a key of this name, and the key is
   * not itself a setting written without its namespace.
   */
  const underParent = (name: string, parent: Pair | undefined): string | undefined => {
    if (!parent) return undefined;
    const parentKey = keyName(parent);
    const subKeys = blockKeys(parentKey);
    if (subKeys === null) return undefined;
    if (subKeys.includes(name)) return parentKey;
    return (subKeys.length === 0 || isEmpty(parent)) && !closest(name, names) ? parentKey : undefined;
  };
  /** The pair itself if it has a block or no value, so that keys indented too little below it would belong to it. */
  const blockOf = (pair: Pair) => (isEmpty(pair) || isMap(pair.value) ? pair : undefined);

  const parents = new Set<Pair>();
  let parent: Pair | undefined;
  const seen = new Map<string, string>();
  for (const pair of configItems) {
    const key = keyName(pair);
    if (!key.includes(":")) {
      const under = underParent(key, parent);
      if (under) {
        parents.add(parent!);
        problems.push(`${key} is beside ${under} in ${file}, not under it: indent it under ${under}.`);
        continue;
      }
      const meant = closest(key, names);
      problems.push(
        `${key} in ${file} has no namespace, so Pulumi reads it as ${project}:${key}, which ${meant ? `the program does not read: did you mean ${NAMESPACE}:${meant}?` : `nothing reads: remove it, or write it as ${NAMESPACE}:<setting> if it is one (docs/configuration.md, "Stacks and configuration").`}`,
      );
      parent = undefined;
      continue;
    }
    parent = blockOf(pair);
    const engine = engineKey(key);
    if (!engine) {
      const [namespace, ...rest] = key.split(":");
      problems.push(
        `${file}: ${key} is not a key Pulumi can read (namespace:name, with one colon): ${namespace === NAMESPACE && rest.every(Boolean) ? `did you mean ${NAMESPACE}:${rest.join(".")}?` : `write it as namespace:name, such as ${NAMESPACE}:replicas.`}`,
      );
      continue;
    }
    const twice = seen.get(engine);
    if (twice !== undefined) problems.push(`${file}: ${key} and ${twice} are the same key to Pulumi (${engine}): keep one.`);
    seen.set(engine, key);
  }
  // Keys without a value: unless keys indented too little were meant to be its block (said above).
  const emptyProblem = (pair: Pair) => {
    const key = keyName(pair);
    return `${file}: ${key} has no value, so Pulumi reads it as an empty string: ${blockKeys(key) ? "indent its settings under it" : "give it one"}, or remove it.`;
  };

  const configAt = configPair ? topItems.indexOf(configPair) : -1;
  for (const [index, pair] of topItems.entries()) {
    const key = keyName(pair);
    if ((STACK_FILE_KEYS as readonly string[]).includes(key)) continue;
    const topKey = closest(key, STACK_FILE_KEYS);
    if (topKey && !key.includes(":")) {
      problems.push(`${file}: ${key} is not a top-level key of a stack file, so Pulumi ignores it and everything under it: did you mean ${topKey}?`);
      continue;
    }
    if (key.includes(":")) {
      problems.push(`${key} is at the top level of ${file}, where Pulumi ignores it: indent it under config:.`);
      continue;
    }
    // A key after config: is most likely one of the last setting's, indented too little.
    const under = configAt >= 0 && index > configAt ? underParent(key, parent) : undefined;
    if (under) {
      parents.add(parent!);
      problems.push(`${key} is at the top level of ${file}, where Pulumi ignores it: indent it under ${under}.`);
      continue;
    }
    const meant = closest(key, names);
    problems.push(
      meant === key
        ? `${key} is at the top level of ${file}, where Pulumi ignores it: write it under config: as ${NAMESPACE}:${key}.`
        : meant
        ? `${key} is at the top level of ${file}, where Pulumi ignores it: did you mean ${NAMESPACE}:${meant}, under config:?`
        : `${key} is at the top level of ${file}, where Pulumi ignores it: remove it (a stack file holds ${STACK_FILE_KEYS.map((k) => `${k}:`).join(", ")}).`,
    );
  }
  for (const pair of configItems) {
    if (keyName(pair).includes(":") && isEmpty(pair) && !parents.has(pair)) problems.push(emptyProblem(pair));
  }
  return problems;
}

/**
 * The values of a `gaia:` key whose names say they hold credentials (components/core/rules.ts)
 * and that are written in plain text, at any depth: each value on its own, since a `secure:`
 * value beside one makes the whole key secret to the engine, and the program could not tell.
 */
function plainTextCredentials(value: unknown, at: string): string[] {
  if (!value || typeof value !== "object" || Array.isArray(value) || isSecure(value)) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
    if (isSecure(v)) return [];
    if (CREDENTIAL_NAME.test(key) && typeof v === "string" && v !== "") return [plainTextCredential(`${at}.${key}`)];
    return plainTextCredentials(v, `${at}.${key}`);
  });
}

const isSecure = (value: unknown): boolean =>
  Boolean(value) && typeof value === "object" && !Array.isArray(value) && Object.keys(value as object).length === 1 && "secure" in (value as object);

/**
 * The config key whose entry holds `offset`, as far as the YAML parsed: the last key under
 * `config:` that starts at or before it (a broken value makes what follows it parse as keys of
 * its own, which start after the error). Undefined before the first key or outside `config:`.
 */
/** Where a pair's key is a collection: the path of the map holding it ("" at the top), or undefined where none is. */
function keyPathOfCollectionKey(doc: Document): string | undefined {
  let found: string | undefined;
  const walk = (node: unknown, at: string) => {
    if (found !== undefined) return;
    if (isMap(node)) {
      for (const pair of node.items as Pair[]) {
        if (pair.key !== null && !isScalar(pair.key)) return void (found = at);
        walk(pair.value, at ? `${at}.${keyName(pair)}` : keyName(pair));
      }
    } else if (isSeq(node)) node.items.forEach((item) => walk(item, at));
  };
  walk(doc.contents, "");
  return found === "config" ? "config" : found?.replace(/^config\./, "");
}

/**
 * The key a broken line belongs to, read from the text's indentation (the document cannot be
 * trusted where it does not parse): the keys open above the line, then the line's own, as the
 * messages name settings (`gaia:aws.allowedSecurityGroupIds`); a key pushed out of `config:` to
 * the top level is named with the one it followed.
 */
function keyPathAt(text: string, line: number): string | undefined {
  const keyOf = (l: string) => /^(\s*)(?:- )?([^\s#'"-][^#]*?|"[^"]*"|'[^']*'):(?:\s|$)/.exec(l);
  const open: { indent: number; key: string }[] = [];
  const path = () => open.map((o) => o.key).filter((k, i) => !(i === 0 && k === "config")).join(".");
  // The last setting named in full (a namespaced key first): what a key without one came after.
  let lastSetting: string | undefined;
  const enter = (l: string) => {
    const m = keyOf(l);
    if (!m) return;
    const indent = m[1]!.length;
    while (open.length && open.at(-1)!.indent >= indent) open.pop();
    open.push({ indent, key: m[2]!.replace(/^["']|["']$/g, "") });
    if (path().split(".")[0]!.includes(":")) lastSetting = path();
  };
  const lines = text.split("\n");
  for (const l of lines.slice(0, Math.max(0, line))) enter(l);
  const found = path();
  if (!found) return lastSetting;
  return found.split(".")[0]!.includes(":") || !lastSetting ? found : `${found} (after ${lastSetting})`;
}

function configKeyAt(doc: Document, offset: number): string | undefined {
  const config = isMap(doc.contents) ? doc.contents.get("config", true) : undefined;
  if (!isMap(config)) return undefined;
  const started = config.items.filter((pair) => isScalar(pair.key) && (pair.key.range?.[0] ?? Infinity) <= offset);
  const last = started.at(-1)?.key;
  return isScalar(last) ? String(last.value) : undefined;
}

/**
 * Where a YAML tag made a value that is no map, list or scalar (`!!set`, `!!omap` with complex
 * keys, `!!binary`): JSON, as the program gets it, would drop it to `{}` or a string, and the
 * setting would silently be the preset's.
 */
function taggedValue(value: unknown, at: string): string | undefined {
  if (value instanceof Set || value instanceof Map || value instanceof Uint8Array) {
    return `${at} is a YAML ${value instanceof Set ? "!!set" : value instanceof Map ? "map with keys that are not text" : "!!binary"}, which reaches the program as nothing it reads: write it as a map of keys and values (key: value), or a list.`;
  }
  if (Array.isArray(value)) return value.map((v, i) => taggedValue(v, `${at}[${i}]`)).find(Boolean);
  if (value && typeof value === "object") return Object.entries(value).map(([k, v]) => taggedValue(v, `${at}.${k}`)).find(Boolean);
  return undefined;
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
