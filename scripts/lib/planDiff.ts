import { PLAN_WIDTH } from "./planFormat";
import { REPLACEMENT_INPUTS } from "./replacements";

/** Where `readPlanText` keeps a resource's `protect`, beside its inputs (no input has this name). */
export const PROTECTED = "(protect)";

/**
 * A plan as `planAsText` prints it, read back: `type::name` -> input -> its value as compact
 * JSON (a value printed over several lines is read back into the same JSON), and `PROTECTED`
 * where it is protected. Group titles, the summary and the outputs are not resources.
 */
export function readPlanText(text: string): Map<string, Map<string, string>> {
  const resources = new Map<string, Map<string, string>>();
  let current: { inputs: Map<string, string>; indent: number; key?: string; block: string[] } | undefined;
  const close = () => {
    if (current?.key) current.inputs.set(current.key, canonical(current.block, current.indent));
    if (current) current.key = undefined;
  };
  for (const line of text.split("\n")) {
    if (line === "outputs:") break;
    const indent = line.length - line.trimStart().length;
    const header = /^\s*\+ (\S+) (\S+)(?:  \((.*)\))?$/.exec(line);
    if (header) {
      close();
      const inputs = new Map<string, string>(header[3] && saysProtected(header[3]) ? [[PROTECTED, "true"]] : []);
      resources.set(`${header[1]}::${header[2]}`, inputs);
      current = { inputs, indent: indent + 4, block: [] };
      continue;
    }
    if (!current || indent < current.indent) {
      close();
      current = undefined;
      continue;
    }
    const body = line.slice(current.indent);
    if (indent === current.indent && body.startsWith("(")) {
      // Flags too long for the header, or the migrations a schema command applies.
      close();
      if (saysProtected(body.replace(/^\(|\)$/g, ""))) current.inputs.set(PROTECTED, "true");
      continue;
    }
    const input = /^([A-Za-z0-9_]+):(?: (.*))?$/.exec(body);
    if (indent === current.indent && input) {
      close();
      current.key = input[1]!;
      current.block = [line];
    } else if (current.key) {
      current.block.push(line);
    }
  }
  close();
  return resources;
}

/** Whether a resource's flags (`protected; kept on destroy; …`, as `planAsText` prints them) include `protect`. */
const saysProtected = (flags: string) => flags.split("; ").includes("protected");

/** An input's lines as `planAsText` prints them (`valueLines`), as the compact JSON of its value. */
function canonical(lines: string[], indent: number): string {
  return JSON.stringify(parseValue(lines, indent));
}

function parseValue(lines: string[], indent: number): unknown {
  const first = lines[0]!.slice(indent);
  // `- <value>` (an element), `key: <value>` or `key:` (its value on the lines below).
  const rest = first.startsWith("-") ? first.slice(1).trimStart() : first.endsWith(":") ? "" : first.slice(first.indexOf(": ") + 2);
  const children = lines.slice(1);
  if (children.length === 0) return rest === "" ? null : JSON.parse(rest);
  const deeper = indent + 2;
  if (rest === "(JSON)") return JSON.stringify(parseEntries(children, deeper));
  const firstChild = children[0]!.slice(deeper);
  if (firstChild.startsWith("-")) return items(children, deeper).map((item) => parseValue(item, deeper));
  if (firstChild.startsWith('"')) return JSON.parse(children.map((l) => l.trim()).join(" "));
  return parseEntries(children, deeper);
}

function parseEntries(lines: string[], indent: number): Record<string, unknown> {
  const keyOf = (line: string) => {
    const entry = line.slice(indent);
    return entry.endsWith(":") ? entry.slice(0, -1) : entry.slice(0, entry.indexOf(": "));
  };
  return Object.fromEntries(items(lines, indent).map((item) => [keyOf(item[0]!), parseValue(item, indent)]));
}

/** Lines split where a new entry starts at `indent`. */
function items(lines: string[], indent: number): string[][] {
  const out: string[][] = [];
  for (const line of lines) {
    if (line.length - line.trimStart().length === indent) out.push([line]);
    else out[out.length - 1]!.push(line);
  }
  return out;
}

export interface PlanChange {
  verb: "replaces" | "updates" | "creates" | "deletes";
  resource: string;
  /** Protected where it is deployed: the engine refuses to replace or delete it without `--ignore-protect`. */
  protect: boolean;
  /** For updates and replacements: the inputs that change, and why a replacement happens. */
  details: string[];
}

/** What applying `next` where `before` was deployed would do to each resource, replacements first. */
export function diffPlans(before: Map<string, Map<string, string>>, next: Map<string, Map<string, string>>): PlanChange[] {
  const changes: PlanChange[] = [];
  for (const [resource, inputs] of next) {
    const old = before.get(resource);
    if (!old) {
      changes.push({ verb: "creates", resource, protect: false, details: [] });
      continue;
    }
    const changed = [...new Set([...inputs.keys(), ...old.keys()])].filter((k) => inputs.get(k) !== old.get(k));
    if (changed.length === 0) continue;
    const rule = REPLACEMENT_INPUTS[resource.split("::")[0]!];
    const forcing = changed.flatMap((key) => forcingPaths(rule?.inputs ?? [], key, old.get(key), inputs.get(key)));
    const notes = changed.flatMap((key) => Object.entries(rule?.note ?? {}).filter(([path]) => path === key || path.startsWith(`${key}.`)).map(([path, why]) => `${path} ${why}`));
    changes.push({
      verb: forcing.length ? "replaces" : "updates",
      resource,
      protect: old.has(PROTECTED),
      details: forcing.length ? forcing.map((f) => `${f} forces it`) : [...changed.flatMap((k) => leafChanges(k, parsed(old.get(k)), parsed(inputs.get(k)))), ...notes],
    });
  }
  for (const [resource, old] of before) if (!next.has(resource)) changes.push({ verb: "deletes", resource, protect: old.has(PROTECTED), details: [] });
  const order = { replaces: 0, deletes: 1, updates: 2, creates: 3 };
  return changes.sort((a, b) => order[a.verb] - order[b.verb]);
}

const parsed = (json: string | undefined): unknown => (json === undefined ? undefined : JSON.parse(json));

/**
 * What changed inside an input, path by path (`tags.preset: (unset) -> "staging"`), so a long
 * value's change stays one short line: lists of named entries (parameters, database flags) by
 * name, not index (`parameters[log_connections].value`), other lists by what they gain and lose,
 * and every line cut to the plan's width.
 */
function leafChanges(path: string, before: unknown, after: unknown): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === "object" && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    return [...new Set([...Object.keys(before), ...Object.keys(after)])].flatMap((k) => leafChanges(`${path}.${k}`, before[k], after[k]));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const named = (list: unknown[]) => list.every((v) => isObject(v) && typeof v.name === "string");
    if (named(before) && named(after) && before.length + after.length > 0) {
      const byName = (list: unknown[]) => new Map((list as Record<string, unknown>[]).map((v) => [v.name as string, v]));
      const [was, now] = [byName(before), byName(after)];
      return [...new Set([...was.keys(), ...now.keys()])].flatMap((name) => leafChanges(`${path}[${name}]`, was.get(name), now.get(name)));
    }
    if (before.length === after.length) return before.flatMap((v, i) => leafChanges(`${path}[${i}]`, v, after[i]));
    const text = (list: unknown[]) => list.map((v) => JSON.stringify(v));
    const gained = text(after).filter((v) => !text(before).includes(v));
    const lost = text(before).filter((v) => !text(after).includes(v));
    return [bounded(`${path}: ${[gained.length ? `+ ${gained.join(", ")}` : "", lost.length ? `- ${lost.join(", ")}` : ""].filter(Boolean).join("; ") || "reordered"}`)];
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  // A JSON document held in a string (an IAM or secret policy): diffed as the document it is.
  const [was, now] = [jsonDocument(before), jsonDocument(after)];
  if (was !== undefined && now !== undefined) return leafChanges(path, was, now);
  const shown = (v: unknown) => (v === undefined ? "(unset)" : JSON.stringify(v));
  const whole = `${path}: ${shown(before)} -> ${shown(after)}`;
  if (whole.length <= PLAN_WIDTH - 6 || typeof before !== "string" || typeof after !== "string") return [bounded(whole)];
  // Two long strings (ARNs, URLs): what they share at the start elided, so the difference shows.
  let common = 0;
  while (common < Math.min(before.length, after.length) && before[common] === after[common]) common++;
  // Back to the separator (/, :) before the difference, so a name shows whole.
  const from = Math.max(before.lastIndexOf("/", common - 1), before.lastIndexOf(":", common - 1)) + 1;
  return [bounded(`${path}: "…${before.slice(from)}" -> "…${after.slice(from)}"`)];
}

function jsonDocument(value: unknown): object | undefined {
  if (typeof value !== "string" || !/^\s*[{[]/.test(value)) return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    return parsed && typeof parsed === "object" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** A detail line within the plan's width once the diff indents it (6 columns). */
const bounded = (line: string) => (line.length <= PLAN_WIDTH - 6 ? line : `${line.slice(0, PLAN_WIDTH - 7)}…`);

/** The replacement-forcing paths under a changed top-level input. */
function forcingPaths(rules: readonly string[], key: string, before: string | undefined, after: string | undefined): string[] {
  return rules.filter((path) => {
    const [top, ...rest] = path.split(".");
    if (top !== key) return false;
    if (rest.length === 0) return true;
    const at = (json: string | undefined) => rest.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), json ? JSON.parse(json) : undefined);
    return JSON.stringify(at(before)) !== JSON.stringify(at(after));
  });
}

const STATEFUL = new Set(Object.keys(REPLACEMENT_INPUTS).filter((t) => !t.startsWith("random:") && !t.startsWith("command:")));

/** The diff for people: the summary's and the access policy's changes (`head`, summaryDiff.ts), then what is replaced or deleted, with the input that forces it. */
export function formatPlanDiff(stack: string, changes: PlanChange[], against = `plans/${stack}.txt`, head: readonly string[] = []): string {
  const lines = [`plan diff for ${stack} against ${against}:`, ...head.map((l) => `  ${l}`)];
  if (changes.length === 0 && head.length === 0) lines.push("  no change");
  for (const c of changes) {
    const [type, name] = c.resource.split("::");
    const stateful = STATEFUL.has(type!) && (c.verb === "replaces" || c.verb === "deletes") ? "  [stateful: its data goes with it]" : "";
    lines.push(`  ${c.verb} ${type} ${name}${stateful}`);
    for (const d of c.details) lines.push(`      ${d}`);
  }
  const replaced = changes.filter((c) => (c.verb === "replaces" || c.verb === "deletes") && STATEFUL.has(c.resource.split("::")[0]!));
  lines.push("", replaced.length ? `${replaced.length} stateful resource(s) replaced or deleted: review before \`pulumi up\`.` : "no stateful resource is replaced or deleted.");
  for (const refusal of protectedRefusals(changes)) lines.push(refusal);
  return `${lines.join("\n")}\n`;
}

/**
 * Each protected resource the change would replace or delete, as a refusal: the engine refuses
 * it as well unless the run says `pulumi up --ignore-protect` ("Ignore the protect resource
 * option for this operation, allowing protected resources to be deleted or replaced":
 * pulumi/pulumi pkg/cmd/pulumi/operations/up.go; the checks in pkg/resource/deploy/step_generator.go
 * and step.go). `npm run plan -- <stack> --diff` exits 1 on one unless given --allow-replace.
 */
export function protectedRefusals(changes: readonly PlanChange[]): string[] {
  return changes
    .filter((c) => c.protect && (c.verb === "replaces" || c.verb === "deletes"))
    .map((c) => `refused: ${c.verb} protected ${c.resource.replace("::", " ")}; if that is intended, say so for this run: --allow-replace here, \`pulumi up --ignore-protect\` there.`);
}
