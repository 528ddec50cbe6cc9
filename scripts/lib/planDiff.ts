import { REPLACEMENT_INPUTS } from "./replacements";

/** Where `readPlanText` keeps a resource's `protect`, beside its inputs (no input has this name). */
export const PROTECTED = "(protect)";

/**
 * A plan as `planAsText` prints it, read back: `type::name` -> input -> its text (a value that
 * spans lines, joined), and `PROTECTED` where it is protected. Group titles, the summary and
 * the outputs are not resources.
 */
export function readPlanText(text: string): Map<string, Map<string, string>> {
  const resources = new Map<string, Map<string, string>>();
  let current: { inputs: Map<string, string>; indent: number; key?: string } | undefined;
  for (const line of text.split("\n")) {
    if (line === "outputs:") break;
    const indent = line.length - line.trimStart().length;
    const header = /^\s*\+ (\S+) (\S+)(?:  \((.*)\))?$/.exec(line);
    if (header) {
      const inputs = new Map<string, string>(header[3] && /(^|; )protected(;|$)/.test(header[3]) ? [[PROTECTED, "true"]] : []);
      resources.set(`${header[1]}::${header[2]}`, inputs);
      current = { inputs, indent: indent + 4 };
      continue;
    }
    if (!current || indent < current.indent) {
      current = undefined;
      continue;
    }
    const body = line.slice(current.indent);
    if (indent === current.indent && body.startsWith("(")) {
      // Flags too long for the header, or the migrations a schema command applies.
      if (/^\((protected|kept on destroy|deleted with|after)/.test(body) && /(^\(|; )protected(;|\)|$)/.test(body)) current.inputs.set(PROTECTED, "true");
      current.key = undefined;
      continue;
    }
    const input = /^([A-Za-z0-9_]+):(?: (.*))?$/.exec(body);
    if (indent === current.indent && input) {
      current.key = input[1]!;
      current.inputs.set(current.key, input[2] ?? "");
    } else if (current.key) {
      current.inputs.set(current.key, `${current.inputs.get(current.key)}\n${line.trim()}`);
    }
  }
  return resources;
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
      details: forcing.length ? forcing.map((f) => `${f} forces it`) : [...changed.map((k) => `${k}: ${old.get(k) ?? "(unset)"} -> ${inputs.get(k) ?? "(unset)"}`), ...notes],
    });
  }
  for (const [resource, old] of before) if (!next.has(resource)) changes.push({ verb: "deletes", resource, protect: old.has(PROTECTED), details: [] });
  const order = { replaces: 0, deletes: 1, updates: 2, creates: 3 };
  return changes.sort((a, b) => order[a.verb] - order[b.verb]);
}

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

/** The diff for people: what is replaced or deleted first, with the input that forces it. */
export function formatPlanDiff(stack: string, changes: PlanChange[]): string {
  const lines = [`plan diff for ${stack} against plans/${stack}.txt:`];
  if (changes.length === 0) lines.push("  no change");
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
