/**
 * A fuzzer over stack files (fast-check). From every committed stack file and each platform's
 * valid base, random edits a person makes by hand (keys renamed, removed, duplicated, retyped,
 * numbers scaled by 1000 or made negative, strings cased or lengthened, a line's indentation
 * shifted, a block moved to another namespace) are planned as `npm run plan` plans them
 * (scripts/lib/stackFile.ts readStackFile, then the program under the mocked runtime). Each run
 * must either plan, or be refused with sentences that each name `Pulumi.<stack>.yaml` and a key,
 * as the errors the plan prints without a stack (GaiaConfigError, StackFileError), within 10 s.
 *
 *   GAIA_FUZZ_RUNS  cases per base (default 6 here; CI's full tier runs more, test-all.sh)
 *   GAIA_FUZZ_SEED  the seed (default 30): a failure prints its seed and path to replay
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isMap, isScalar, isSeq, parseDocument, type Pair, type YAMLMap } from "yaml";
import { GaiaConfigError } from "../../components/config";
import { planStack } from "../../scripts/lib/offline";
import { PROJECT_ROOT, readStackFile, stackNames } from "../../scripts/lib/stackFile";
import { StackFileError } from "../../stacks/stackFile";
import { stackOn, CLOUD_PLATFORMS } from "../support/stacks";

const RUNS = Number(process.env.GAIA_FUZZ_RUNS ?? 6);
const SEED = Number(process.env.GAIA_FUZZ_SEED ?? 30);
const root = mkdtempSync(path.join(tmpdir(), "gaia-fuzz-"));

/** The bases: every committed stack file's text, and each platform's valid stack (staging moved there). */
function bases(): { name: string; text: string }[] {
  const committed = stackNames().map((stack) => ({ name: stack, text: readFileSyncText(`Pulumi.${stack}.yaml`) }));
  const moved = CLOUD_PLATFORMS.map((platform) => {
    const config = stackOn("staging", platform);
    const lines = Object.entries(config).map(([key, value]) => `  ${key}: ${value.startsWith("{") || value.startsWith("[") ? value : JSON.stringify(value)}`);
    // The preset pinned: the fuzzed stack is named fuzz-*, not staging.
    return { name: `on-${platform}`, text: `config:\n  gaia:preset: staging\n${lines.filter((l) => !l.startsWith("  gaia:preset:")).join("\n")}\n` };
  });
  return [...committed, ...moved];
}

const readFileSyncText = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), "utf8");

type Edit =
  | { kind: "rename"; at: number; suffix: string }
  | { kind: "remove"; at: number }
  | { kind: "duplicate"; at: number }
  | { kind: "retype"; at: number; to: "string" | "number" | "list" | "map" | "null" | "bool" | "set" }
  | { kind: "scale"; at: number; by: 1000 | -1 | 0 }
  | { kind: "case"; at: number; upper: boolean }
  | { kind: "lengthen"; at: number; times: number }
  | { kind: "indent"; line: number; by: number }
  | { kind: "namespace"; at: number; to: string };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("rename" as const), at: fc.nat(), suffix: fc.constantFrom("s", "X", "_", "-x", "", "=constructor", "=toString", "=__proto__", "=gaia:constructor") }),
  fc.record({ kind: fc.constant("remove" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("retype" as const), at: fc.nat(), to: fc.constantFrom("string", "number", "list", "map", "null", "bool", "set") }),
  fc.record({ kind: fc.constant("scale" as const), at: fc.nat(), by: fc.constantFrom(1000 as const, -1 as const, 0 as const) }),
  fc.record({ kind: fc.constant("case" as const), at: fc.nat(), upper: fc.boolean() }),
  fc.record({ kind: fc.constant("lengthen" as const), at: fc.nat(), times: fc.constantFrom(3, 40, 2000) }),
  fc.record({ kind: fc.constant("indent" as const), line: fc.nat(), by: fc.constantFrom(-2, -1, 1, 2, 4) }),
  fc.record({ kind: fc.constant("namespace" as const), at: fc.nat(), to: fc.constantFrom("aws", "gcp", "gaia-database", "giaa", "config") }),
);

/** Every pair of the document under `config:`, at any depth: what an edit may touch. */
function pairsOf(map: YAMLMap): Pair[] {
  const found: Pair[] = [];
  const walk = (node: unknown) => {
    if (isMap(node)) for (const pair of node.items) {
      found.push(pair);
      walk(pair.value);
    } else if (isSeq(node)) node.items.forEach(walk);
  };
  walk(map);
  return found;
}

/** The parent map of a pair, to remove or duplicate it there. */
function parentOf(map: YAMLMap, target: Pair): YAMLMap | undefined {
  let parent: YAMLMap | undefined;
  const walk = (node: unknown) => {
    if (isMap(node)) {
      if (node.items.includes(target)) parent = node;
      node.items.forEach((p) => walk(p.value));
    } else if (isSeq(node)) node.items.forEach(walk);
  };
  walk(map);
  return parent;
}

function applyEdit(text: string, edit: Edit): string {
  if (edit.kind === "indent") {
    const lines = text.split("\n");
    const i = edit.line % lines.length;
    lines[i] = edit.by > 0 ? " ".repeat(edit.by) + lines[i] : lines[i]!.replace(new RegExp(`^ {0,${-edit.by}}`), "");
    return lines.join("\n");
  }
  const doc = parseDocument(text);
  // Text an earlier edit made unparseable takes only text edits from then on.
  if (doc.errors.length) return text;
  const config = doc.get("config");
  if (!isMap(config)) return text;
  const pairs = pairsOf(config);
  if (pairs.length === 0) return text;
  const pair = pairs[edit.at % pairs.length]!;
  const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
  const value = pair.value;
  const scalar = isScalar(value) ? value.value : undefined;
  switch (edit.kind) {
    case "rename":
      // "=name": the key replaced by that name (an Object member's, which a lookup must not find).
      pair.key = doc.createNode(edit.suffix.startsWith("=") ? edit.suffix.slice(1) : edit.suffix ? `${key}${edit.suffix}` : key.toUpperCase());
      break;
    case "remove":
      parentOf(config, pair)?.delete(pair.key);
      break;
    case "duplicate": {
      const parent = parentOf(config, pair);
      // A key written twice: YAML refuses it; the file's own words must say so.
      return parent ? `${text}\n  ${parent === config ? key : `${key}`}: ${JSON.stringify(scalar ?? "again")}\n` : text;
    }
    case "retype":
      // A YAML tag too: a !!set where a map or a scalar belongs.
      pair.value = edit.to === "set" ? doc.createNode(new Set(["a", "b"])) : doc.createNode({ string: String(scalar ?? "text"), number: 42, list: [scalar ?? 1], map: { value: scalar ?? 1 }, null: null, bool: true }[edit.to]);
      break;
    case "scale":
      if (typeof scalar === "number") pair.value = doc.createNode(edit.by === 0 ? 0 : scalar * edit.by);
      else pair.value = doc.createNode(edit.by === -1 ? -1 : 1_000_000);
      break;
    case "case":
      if (typeof scalar === "string") pair.value = doc.createNode(edit.upper ? scalar.toUpperCase() : scalar.toLowerCase());
      break;
    case "lengthen":
      if (typeof scalar === "string") pair.value = doc.createNode(scalar.repeat(edit.times));
      break;
    case "namespace": {
      if (parentOf(config, pair) !== config) break;
      const [, name] = key.split(":");
      pair.key = doc.createNode(`${edit.to}:${name ?? key}`);
      break;
    }
  }
  return doc.toString();
}

let cases = 0;
/** The bases whose edits were planned, and those refused: the fuzzer is not vacuous. */
const tally = { planned: new Set<string>(), refused: new Set<string>() };
/** Plans a stack file as `npm run plan` does; "planned", or the refusal's text. */
async function plan(name: string, text: string): Promise<{ planned: true } | { planned: false; error: unknown }> {
  const stack = `fuzz-${++cases}`;
  writeFileSync(path.join(root, `Pulumi.${stack}.yaml`), text);
  try {
    const { config, secretKeys } = readStackFile(stack, root);
    await planStack(stack, config, secretKeys);
    tally.planned.add(name);
    return { planned: true };
  } catch (error) {
    tally.refused.add(name);
    return { planned: false, error };
  }
}

/** A refusal as the plan prints it: an error it prints without a stack, each problem naming the file and a key. */
function refusalProblems(error: unknown, file: string): string[] {
  if (!(error instanceof GaiaConfigError || error instanceof StackFileError)) return [`not a refusal but ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`];
  const problems = error instanceof GaiaConfigError ? error.problems : error.problems;
  return problems.flatMap((problem) => [
    ...(problem.includes(file) ? [] : [`does not name ${file}: ${problem}`]),
    // A key: gaia:<name>, another namespace's key, or a key as written in the file ("in gaia:x", "key x").
    ...(/[A-Za-z][\w-]*:\w[\w.-]*|\bkey\b/.test(problem.replace(file, "")) ? [] : [`names no key: ${problem}`]),
  ]);
}

describe("the stack-file fuzzer", () => {
  it.each(bases())("plans or refuses, in sentences naming the file and a key, every edit of $name", async ({ name, text }) => {
    await fc.assert(
      fc.asyncProperty(fc.array(editArb, { minLength: 1, maxLength: 3 }), async (edits) => {
        const edited = edits.reduce(applyEdit, text);
        const started = Date.now();
        const outcome = await Promise.race([
          plan(name, edited),
          new Promise<"hang">((resolve) => setTimeout(() => resolve("hang"), 10_000).unref()),
        ]);
        expect(outcome, `no answer within 10 s for:\n${edited}`).not.toBe("hang");
        if (outcome === "hang" || outcome.planned) return;
        const file = `Pulumi.fuzz-${cases}.yaml`;
        expect(refusalProblems(outcome.error, file), `for:\n${edited}`).toEqual([]);
        expect(Date.now() - started).toBeLessThan(10_000);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  }, 240_000);

  it("both plans and refuses: its edits reach the checks, and pass where they should", () => {
    expect(tally.refused.size).toBeGreaterThan(0);
    expect(tally.planned.size).toBeGreaterThan(0);
  });
});
