import { readdirSync } from "node:fs";
import path from "node:path";
import { MIGRATIONS_FOLDER } from "../../sql";
import { isSecretValue, type PlannedResource, type StackPlan } from "./offline";

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

/** The plan for people: the resource tree with each resource's inputs, then the outputs. */
export function planAsText(plan: StackPlan): string {
  const lines: string[] = [`stack ${plan.stack}: ${plan.resources.length} resources`, ""];
  if (plan.notDecrypted.length) {
    lines.splice(1, 0, `not decrypted here, so planned with defaults and not checked: ${plan.notDecrypted.join(", ")} (pulumi preview reads them)`);
  }
  const children = new Map<string | undefined, PlannedResource[]>();
  for (const r of plan.resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const walk = (parent: string | undefined, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      const flags = [
        r.protect ? "protected" : "",
        r.retainOnDelete ? "kept on destroy" : "",
        r.deletedWith ? `deleted with ${r.deletedWith.split("::")[1]}` : "",
        r.dependsOn.length ? `after ${r.dependsOn.map((d) => d.split("::")[1]).join(", ")}` : "",
      ]
        .filter(Boolean)
        .join("; ");
      lines.push(`${"  ".repeat(depth)}+ ${r.type} ${r.name}${flags ? `  (${flags})` : ""}`);
      const inputs = masked(r.inputs) as Record<string, unknown>;
      for (const [key, value] of Object.entries(inputs)) {
        lines.push(`${"  ".repeat(depth + 2)}${key}: ${JSON.stringify(value)}`);
      }
      // A schema command's environment is secret as a whole: name the migrations it applies,
      // so a schema change shows in the plan by name.
      if (JSON.stringify(inputs.environment ?? "").includes("GAIA_MIGRATIONS_DIGEST")) {
        lines.push(`${"  ".repeat(depth + 2)}(migrations: ${committedMigrations().join(", ")})`);
      }
      walk(`${r.type}::${r.name}`, depth + 1);
    }
  };
  walk(undefined, 0);
  lines.push("", "outputs:");
  for (const [key, output] of Object.entries(plan.outputs)) {
    lines.push(`  ${key}: ${output.secret ? MASK : JSON.stringify(masked(output.value))}`);
  }
  return `${lines.join("\n")}\n`;
}
