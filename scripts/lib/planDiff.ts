import { parsedJson } from "./planFormat";
import { PLAN_WIDTH, wrapLine } from "./planWidth";
import { REPLACEMENT_RULES, STATEFUL_TYPES, type Change, type InputRule } from "./replacements";

/** Where `readPlanText` keeps a resource's `protect`, beside its inputs (no input has this name). */
export const PROTECTED = "(protect)";
/** Where it keeps the name of the resource a resource is deleted with (`deletedWith`), as JSON. */
export const DELETED_WITH = "(deleted with)";
/** Where it keeps the names of the resources it is replaced with (`replaceWith`), as a JSON list. */
export const REPLACED_WITH = "(replaced with)";
/** Whether a key of `readPlanText`'s maps is one of these flags rather than an input. */
export const isFlag = (key: string) => key.startsWith("(");

/**
 * A plan as `planAsText` prints it, read back: `type::name` -> input -> its value as compact
 * JSON (a value printed over several lines is read back into the same JSON), `PROTECTED`
 * where it is protected and `DELETED_WITH` where it is deleted with another (from its flags, on
 * the header or on lines of their own). Group titles, the summary and the outputs are not resources.
 */
export function readPlanText(text: string): Map<string, Map<string, string>> {
  const resources = new Map<string, Map<string, string>>();
  let current: { inputs: Map<string, string>; indent: number; key?: string; block: string[]; flags?: string } | undefined;
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
      const inputs = new Map<string, string>(header[3] ? flagEntries(header[3]) : []);
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
    if (indent === current.indent && (body.startsWith("(") || current.flags !== undefined)) {
      // Flags too long for the header, over as many lines as they take, or the migrations a schema command applies.
      close();
      current.flags = `${current.flags === undefined ? "" : `${current.flags} `}${body}`;
      if (current.flags.endsWith(")")) {
        if (!current.flags.startsWith("(migrations: ")) for (const [k, v] of flagEntries(current.flags.slice(1, -1))) current.inputs.set(k, v);
        current.flags = undefined;
      }
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

/** The flags (`protected; kept on destroy; deleted with …; after …`, as `planAsText` prints them) this diff reads. */
function flagEntries(flags: string): [string, string][] {
  const parts = flags.split("; ");
  const deletedWith = parts.find((p) => p.startsWith("deleted with "));
  const replacedWith = parts.find((p) => p.startsWith("replaced with "));
  return [
    ...(parts.includes("protected") ? [[PROTECTED, "true"] as [string, string]] : []),
    ...(deletedWith ? [[DELETED_WITH, JSON.stringify(deletedWith.slice("deleted with ".length))] as [string, string]] : []),
    ...(replacedWith ? [[REPLACED_WITH, JSON.stringify(replacedWith.slice("replaced with ".length).split(", "))] as [string, string]] : []),
  ];
}

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
  /** Why the database server restarts for this change, or waits for a restart to take it ("input: why"). */
  restarts?: string[];
  /** What in this change the cloud refuses: `pulumi up` fails on it, whatever the run allows. */
  refused?: string[];
}

type Inputs = Record<string, unknown>;

/**
 * What applying `next` where `before` was deployed would do to each resource, replacements
 * first, by the rules of scripts/lib/replacements.ts: an input that forces a replacement, the
 * same input filled in from a changed provider, a change the cloud refuses or that restarts the
 * server, one that is never applied; then the replacements the engine adds (`deletedWith`, `replaceWith`).
 */
export function diffPlans(before: Map<string, Map<string, string>>, next: Map<string, Map<string, string>>): PlanChange[] {
  const changes = new Map<string, PlanChange>();
  for (const [resource, inputs] of next) {
    const old = before.get(resource);
    if (!old) changes.set(resource, { verb: "creates", resource, protect: false, details: [] });
    else {
      const change = resourceChange(resource, old, inputs, before, next);
      if (change) changes.set(resource, change);
    }
  }
  replacedWithTheirTargets(changes, before, next);
  for (const [resource, old] of before) if (!next.has(resource)) changes.set(resource, { verb: "deletes", resource, protect: old.has(PROTECTED), details: [] });
  const order = { replaces: 0, deletes: 1, updates: 2, creates: 3 };
  return [...changes.values()].sort((a, b) => order[a.verb] - order[b.verb]);
}

const parsed = (json: string | undefined): unknown => (json === undefined ? undefined : JSON.parse(json));
const show = (v: unknown) => (v === undefined ? "(unset)" : JSON.stringify(v));
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A resource's inputs as values (its flags left out). */
const inputsOf = (map: Map<string, string>): Inputs => Object.fromEntries([...map].filter(([k]) => !isFlag(k)).map(([k, v]) => [k, parsed(v)]));

/** The value at a rule's path (`a.b`, `list[].c` maps over a list). */
export function valueAt(value: unknown, path: string): unknown {
  const parts = path.split(".");
  const step = (v: unknown, i: number): unknown => {
    if (i === parts.length) return v;
    const each = parts[i]!.endsWith("[]");
    const key = each ? parts[i]!.slice(0, -2) : parts[i]!;
    const inner = v && typeof v === "object" && !Array.isArray(v) ? (v as Inputs)[key] : undefined;
    if (!each) return step(inner, i + 1);
    return Array.isArray(inner) ? inner.map((e) => step(e, i + 1)) : undefined;
  };
  return step(value, 0);
}

/** `inputs` with the value at a plain dotted path replaced (a copy along the path). */
function withValueAt(inputs: Inputs, path: string, value: unknown): Inputs {
  const [key, ...rest] = path.split(".");
  const inner = inputs[key!];
  const replaced = rest.length === 0 ? value : withValueAt(inner && typeof inner === "object" && !Array.isArray(inner) ? (inner as Inputs) : {}, rest.join("."), value);
  const out = { ...inputs };
  if (replaced === undefined) delete out[key!];
  else out[key!] = replaced;
  return out;
}

/** Whether a rule applies to this change: false, or true / what matched. */
function applies(rule: InputRule, old: Inputs, next: Inputs): boolean | string {
  const change: Change = { before: valueAt(old, rule.input), after: valueAt(next, rule.input), old, next };
  if (same(change.before, change.after)) return false;
  return rule.when ? rule.when(change) || false : true;
}

/** The one explicit provider of a package in a plan (the project gives each platform its own; with more than one, which serves what is not in the text). */
function providerOf(plan: Map<string, Map<string, string>>, pkg: string): [string, Map<string, string>] | undefined {
  const found = [...plan].filter(([key]) => key.startsWith(`pulumi:providers:${pkg}::`));
  return found.length === 1 ? found[0] : undefined;
}

function resourceChange(
  resource: string,
  oldMap: Map<string, string>,
  nextMap: Map<string, string>,
  before: Map<string, Map<string, string>>,
  next: Map<string, Map<string, string>>,
): PlanChange | undefined {
  const type = resource.split("::")[0]!;
  const rules = REPLACEMENT_RULES[type]?.rules ?? [];
  let old = inputsOf(oldMap);
  let now = inputsOf(nextMap);

  // Inputs the provider fills in where the resource sets none: a provider change changes them.
  const fromProvider = new Map<string, string>();
  const pkg = type.split(":")[0]!;
  for (const [providerInput, { input }] of Object.entries(REPLACEMENT_RULES[type]?.fromProvider ?? {})) {
    const [was, is] = [providerOf(before, pkg), providerOf(next, pkg)];
    if (!was || !is || was[0] !== is[0]) continue;
    const [p0, p1] = [parsed(was[1].get(providerInput)), parsed(is[1].get(providerInput))];
    if (old[input] === undefined && p0 !== undefined) old = { ...old, [input]: p0 };
    if (now[input] === undefined && p1 !== undefined) now = { ...now, [input]: p1 };
    if (!same(p0, p1) && nextMap.get(input) === undefined) fromProvider.set(input, `from its provider ${is[0].split("::")[1]}: ${show(p0)} -> ${show(p1)}`);
  }

  // What never reaches the cloud is taken out before anything else is judged.
  const notApplied: string[] = [];
  for (const rule of rules.filter((r) => r.effect === "not applied")) {
    const matched = applies(rule, old, now);
    if (!matched) continue;
    notApplied.push(`${rule.input}: ${show(valueAt(old, rule.input))} -> ${show(valueAt(now, rule.input))} (not applied: ${rule.why})`);
    now = withValueAt(now, rule.input, valueAt(old, rule.input));
  }

  const forcing: string[] = [];
  const restarts: string[] = [];
  const refused: string[] = [];
  for (const rule of rules) {
    if (rule.effect === "not applied") continue;
    const matched = applies(rule, old, now);
    if (!matched) continue;
    const label = typeof matched === "string" ? matched : "";
    const values = `${show(valueAt(old, rule.input))} -> ${show(valueAt(now, rule.input))}`;
    if (rule.effect === "replaces") {
      // A conditional replacement says which change meets the condition; a provider-filled input, where it comes from.
      const why = [rule.when ? `${label || rule.condition}: ${values}` : "", fromProvider.get(rule.input) ?? ""].filter(Boolean).join("; ");
      forcing.push(`${rule.input} forces it${why ? ` (${why})` : ""}${rule.why ? ` ${rule.why}` : ""}`);
    } else if (rule.effect === "restarts") restarts.push(`${rule.input}: ${rule.why ?? "the server restarts"}${label ? `; ${label}` : ""}`);
    else refused.push(`${rule.input}: ${values}${label ? ` (${label})` : ""}: ${rule.why ?? "the cloud refuses it"}`);
  }

  const flags = [...new Set([...nextMap.keys(), ...oldMap.keys()])].filter((k) => isFlag(k) && nextMap.get(k) !== oldMap.get(k));
  const changed = [...new Set([...Object.keys(now), ...Object.keys(old)])].filter((k) => !same(now[k], old[k]));
  if (changed.length === 0 && flags.length === 0 && notApplied.length === 0) return undefined;
  const leaves = [
    ...changed.flatMap((k) => leafChanges(k, old[k], now[k]).map((line) => (fromProvider.has(k) ? `${line} (${fromProvider.get(k)})` : line))),
    ...flags.flatMap((k) => leafChanges(k, parsed(oldMap.get(k)), parsed(nextMap.get(k)))),
  ];
  return {
    verb: forcing.length ? "replaces" : "updates",
    resource,
    protect: oldMap.has(PROTECTED),
    details: forcing.length ? forcing : [...leaves, ...notApplied],
    ...(restarts.length && !forcing.length ? { restarts } : {}),
    ...(refused.length ? { refused } : {}),
  };
}

/**
 * The engine replaces a resource whose `deletedWith` target it replaces (replacements.ts
 * DELETED_WITH_SOURCE), transitively: the roles, database, extensions and commands that go with a
 * replaced instance; and one whose `replaceWith` names a replaced resource ("force a replace
 * operation on the current resource every time one of the given resources is replaced":
 * https://www.pulumi.com/docs/iac/concepts/resources/options/replacewith/), the schema command with its database.
 */
function replacedWithTheirTargets(changes: Map<string, PlanChange>, before: Map<string, Map<string, string>>, next: Map<string, Map<string, string>>) {
  const byName = (name: string) => [...next.keys()].filter((key) => key.slice(key.indexOf("::") + 2) === name);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [resource, inputs] of next) {
      const current = changes.get(resource);
      if (!before.has(resource) || current?.verb === "replaces") continue;
      // deletedWith, or replaceWith (the option that says so outright: the schema command with its database).
      const targets: [string, string][] = [
        ...[parsed(inputs.get(DELETED_WITH)) as string | undefined].filter((t): t is string => t !== undefined).map((t): [string, string] => ["deleted with", t]),
        ...((parsed(inputs.get(REPLACED_WITH)) as string[] | undefined) ?? []).map((t): [string, string] => ["replaced with", t]),
      ];
      const replaced = targets.find(([, target]) => byName(target).some((key) => changes.get(key)?.verb === "replaces"));
      if (!replaced) continue;
      changes.set(resource, {
        ...(current ?? { resource, details: [] }),
        verb: "replaces",
        protect: before.get(resource)!.has(PROTECTED),
        details: [`${replaced[0]} ${replaced[1]}, which is replaced: the engine replaces it too`, ...(current?.details ?? [])],
        restarts: undefined,
      });
      grew = true;
    }
  }
  for (const c of changes.values()) if (c.restarts === undefined) delete c.restarts;
}

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
  const document = (v: unknown) => (typeof v === "string" ? parsedJson(v) : undefined);
  const [was, now] = [document(before), document(after)];
  if (was !== undefined && now !== undefined) return leafChanges(path, was, now);
  const whole = `${path}: ${show(before)} -> ${show(after)}`;
  if (whole.length <= PLAN_WIDTH - 6 || typeof before !== "string" || typeof after !== "string") return [bounded(whole)];
  // Two long strings (ARNs, URLs): what they share at the start elided, so the difference shows.
  let common = 0;
  while (common < Math.min(before.length, after.length) && before[common] === after[common]) common++;
  // Back to the separator (/, :) before the difference, so a name shows whole.
  const from = Math.max(before.lastIndexOf("/", common - 1), before.lastIndexOf(":", common - 1)) + 1;
  return [bounded(`${path}: "…${before.slice(from)}" -> "…${after.slice(from)}"`)];
}

/** A detail line within the plan's width once the diff indents it (6 columns). */
const bounded = (line: string) => (line.length <= PLAN_WIDTH - 6 ? line : `${line.slice(0, PLAN_WIDTH - 7)}…`);

/** The diff for people: the summary's and the access policy's changes (`head`, summaryDiff.ts), then what is replaced or deleted, with the input that forces it. */
export function formatPlanDiff(stack: string, changes: PlanChange[], against = `plans/${stack}.txt`, head: readonly string[] = []): string {
  const lines = [`plan diff for ${stack} against ${against}:`, ...head.map((l) => `  ${l}`)];
  if (changes.length === 0 && head.length === 0) lines.push("  no change");
  for (const c of changes) {
    const [type, name] = c.resource.split("::");
    const stateful = STATEFUL_TYPES.has(type!) && (c.verb === "replaces" || c.verb === "deletes") ? "  [stateful: its data goes with it]" : "";
    const restarts = c.restarts?.length ? `  restarts the server (${c.restarts.join("; ")})` : "";
    lines.push(`  ${c.verb} ${type} ${name}${stateful}${restarts}`);
    for (const d of c.details) lines.push(`      ${d}`);
  }
  const replaced = changes.filter((c) => (c.verb === "replaces" || c.verb === "deletes") && STATEFUL_TYPES.has(c.resource.split("::")[0]!));
  lines.push("", replaced.length ? `${replaced.length} stateful resource(s) replaced or deleted: review before \`pulumi up\`.` : "no stateful resource is replaced or deleted.");
  for (const refusal of [...protectedRefusals(changes), ...cloudRefusals(changes)]) lines.push(refusal);
  return `${lines.flatMap((line) => wrapLine(line, PLAN_WIDTH, " ".repeat(line.length - line.trimStart().length + 8))).join("\n")}\n`;
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

/**
 * Each change the cloud refuses (replacements.ts, effect "refused": a storage shrink, a version
 * downgrade): `pulumi up` would fail on it, so `--diff` exits 1 on one, --allow-replace or not.
 */
export function cloudRefusals(changes: readonly PlanChange[]): string[] {
  return changes.flatMap((c) => (c.refused ?? []).map((r) => `refused: ${c.verb} ${c.resource.replace("::", " ")}: ${r}; the cloud refuses it, whatever the run allows.`));
}

/** The refusals that fail `--diff` (and the pull request's plans): the cloud's always, protected ones unless the run allows them. */
export function blockingRefusals(changes: readonly PlanChange[], allowReplace: boolean): string[] {
  return [...(allowReplace ? [] : protectedRefusals(changes)), ...cloudRefusals(changes)];
}
