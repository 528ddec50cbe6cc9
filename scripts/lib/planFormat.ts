import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import { MIGRATIONS_FOLDER } from "../../sql";
import { isSecretValue, type PlannedResource, type StackPlan } from "./offline";
import { accessLines } from "./planAccess";
import { PLAN_WIDTH, wrapLine } from "./planWidth";
import { summaryLines } from "./planSummary";

const MASK = "[secret]";

const committedMigrations = () => readdirSync(path.join(MIGRATIONS_FOLDER, "committed")).filter((f) => f.endsWith(".sql")).sort();

/** Secrets replaced by a mask, wherever they sit; engine bookkeeping keys dropped. */
export function masked(value: unknown): unknown {
  if (isSecretValue(value)) {
    // A secret map (a command's environment) still shows which keys it passes.
    const inner = (value as { value: unknown }).value;
    if (inner && typeof inner === "object" && !Array.isArray(inner)) {
      return Object.fromEntries(Object.keys(inner).sort().map((key) => [key, MASK]));
    }
    return MASK;
  }
  if (Array.isArray(value)) return value.map(masked);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => !key.startsWith("__"))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, v]) => [key, masked(v)]),
    );
  }
  return value;
}

/** The plan for tools: resources in registration order, secrets masked. */
export function planAsJson(plan: StackPlan): unknown {
  return {
    stack: plan.stack,
    notDecrypted: plan.notDecrypted,
    resources: plan.resources.map((r) => ({ ...r, inputs: masked(r.inputs) })),
    outputs: Object.fromEntries(Object.entries(plan.outputs).map(([k, o]) => [k, o.secret ? MASK : masked(o.value)])),
  };
}

export { PLAN_WIDTH } from "./planWidth";

/**
 * Resources under one parent are printed in these groups, in this order, so that a change to
 * grants or credentials stands out among its own kind rather than among the servers.
 */
export const GROUPS: readonly { title: string; matches: (type: string) => boolean }[] = [
  { title: "servers and network", matches: () => true },
  { title: "database, roles and access", matches: (t) => t.startsWith("postgresql:index/") || /IAMMember|IamMember|SecretPolicy/.test(t) },
  { title: "credentials and the secret store", matches: (t) => t.startsWith("random:") || /secretmanager|secretsmanager/.test(t) },
  { title: "alarms and alerts", matches: (t) => /^aws:cloudwatch\/|^aws:rds\/eventSubscription|^gcp:monitoring\//.test(t) },
  { title: "commands (schema, privileges, Redis ACL, Fly)", matches: (t) => t.startsWith("command:") },
];
export const groupOf = (type: string) => GROUPS.length - 1 - [...GROUPS].reverse().findIndex((g) => g.matches(type));

/** The plan for people: a summary, the access policy, then the resource tree with each resource's inputs, then the outputs. */
export function planAsText(plan: StackPlan): string {
  const lines: string[] = [`stack ${plan.stack}: ${plan.resources.length} resources`, ""];
  if (plan.notDecrypted.length) {
    lines.splice(1, 0, `not decrypted here, so planned with defaults and not checked: ${plan.notDecrypted.join(", ")} (pulumi preview reads them)`);
  }
  if (plan.config) lines.push(...summaryLines(plan.config), "", ...accessLines(plan.config), "");
  const children = new Map<string | undefined, PlannedResource[]>();
  for (const r of plan.resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const walk = (parent: string | undefined, depth: number) => {
    const mine = children.get(parent) ?? [];
    const grouped = mine.length > 8;
    for (const [index, group] of GROUPS.entries()) {
      const members = mine.filter((r) => !grouped || groupOf(r.type) === index);
      if (members.length === 0) continue;
      if (grouped) lines.push(`${"  ".repeat(depth)}# ${group.title}`);
      for (const r of members) resourceLines(r, depth, lines, () => walk(`${r.type}::${r.name}`, depth + 1));
      if (!grouped) break;
    }
  };
  walk(undefined, 0);
  lines.push("", "outputs:");
  for (const [key, output] of Object.entries(plan.outputs)) lines.push(...valueLines("  ", key, output.secret ? MASK : masked(output.value)));
  return `${lines.join("\n")}\n`;
}

function resourceLines(r: PlannedResource, depth: number, lines: string[], children: () => void) {
  const flags = [
    r.protect ? "protected" : "",
    r.retainOnDelete ? "kept on destroy" : "",
    r.deletedWith ? `deleted with ${r.deletedWith.split("::")[1]}` : "",
    r.replaceWith.length ? `replaced with ${r.replaceWith.map((d) => d.split("::")[1]).join(", ")}` : "",
    r.dependsOn.length ? `after ${r.dependsOn.map((d) => d.split("::")[1]).join(", ")}` : "",
  ].filter(Boolean).join("; ");
  const header = `${"  ".repeat(depth)}+ ${r.type} ${r.name}`;
  const inner = "  ".repeat(depth + 2);
  if (!flags || `${header}  (${flags})`.length <= PLAN_WIDTH) {
    lines.push(`${header}${flags ? `  (${flags})` : ""}`);
  } else {
    // Too long for the header: the flags on lines of their own, where `readPlanText` finds them too.
    lines.push(header, ...wrapLine(`${inner}(${flags})`, PLAN_WIDTH, inner));
  }
  const inputs = masked(r.inputs) as Record<string, unknown>;
  for (const [key, value] of Object.entries(inputs)) lines.push(...valueLines(inner, key, value));
  // A schema command's environment is secret as a whole: name the migrations it applies,
  // so a schema change shows in the plan by name.
  if (JSON.stringify(inputs.environment ?? "").includes("GAIA_MIGRATIONS_DIGEST")) {
    lines.push(...wrapLine(`${inner}(migrations: ${committedMigrations().join(", ")})`, PLAN_WIDTH, inner));
  }
  children();
}

/**
 * `key: <JSON>` on one line where it fits; otherwise an object's entries, an array's elements
 * (`- `) or a JSON document held in a string (a policy) one level deeper, and PEM certificates
 * by count and fingerprint. Every line is within PLAN_WIDTH but for a single word longer than it.
 */
export function valueLines(indent: string, key: string, value: unknown): string[] {
  const line = `${indent}${key}: ${JSON.stringify(value)}`;
  if (line.length <= PLAN_WIDTH) return [line];
  const deeper = `${indent}  `;
  if (typeof value === "string") {
    if (value.includes("-----BEGIN CERTIFICATE-----")) return [`${indent}${key}: ${pemSummary(value)}`];
    const document = parsedJson(value);
    if (document !== undefined) return [`${indent}${key}: (JSON)`, ...Object.entries(document).flatMap(([k, v]) => valueLines(deeper, k, v))];
    return [`${indent}${key}:`, ...wrapLine(`${deeper}${JSON.stringify(value)}`, PLAN_WIDTH, deeper)];
  }
  if (Array.isArray(value)) {
    return [`${indent}${key}:`, ...value.flatMap((element, i) => valueLines(deeper, `- ${i}`, element).map((l, j) => (j === 0 ? l.replace(`- ${i}: `, "- ").replace(`- ${i}:`, "-") : l)))];
  }
  if (value && typeof value === "object") return [`${indent}${key}:`, ...Object.entries(value).flatMap(([k, v]) => valueLines(deeper, k, v))];
  return [line];
}

/** The JSON object or array a string holds (a policy document), or undefined. */
export function parsedJson(text: string): Record<string, unknown> | undefined {
  if (!/^\s*[{[]/.test(text)) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function pemSummary(pem: string): string {
  const count = pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  return `"${count} PEM certificate(s), sha256 ${createHash("sha256").update(pem).digest("hex").slice(0, 16)}"`;
}

