import { unwrap } from "./cloudMocks";
import type { PlannedResource, StackPlan } from "./offline";
import { GROUPS, groupOf } from "./planFormat";

/**
 * A stack's plan as a Mermaid flowchart in markdown (GitHub renders it): one node per kind of
 * resource (a type, with replicas and login roles apart), in the plan's groups, and what
 * connects to what: the provider that manages a kind, the kinds whose values it takes (a
 * replica its primary, a login its group role, a secret version its secret), and the order
 * the plan imposes (`dependsOn`). Generated from the plan, never drawn by hand.
 */
export function planAsMermaid(plan: StackPlan): string {
  // The component itself parents everything: its children are the picture.
  const resources = plan.resources.filter((r) => r.parent !== undefined);
  const kinds = new Map<string, PlannedResource[]>();
  for (const r of resources) kinds.set(kindOf(r), [...(kinds.get(kindOf(r)) ?? []), r]);
  const ids = new Map([...kinds.keys()].map((kind, i) => [kind, `n${i}`]));
  const kindOfKey = new Map(resources.map((r) => [`${r.type}::${r.name}`, kindOf(r)]));
  // The name a resource gives the cloud (which carries the environment's name) among another's
  // inputs: that one takes its value.
  const named = new Map<string, string>();
  for (const r of resources) {
    const given = unwrap(r.inputs.identifier) ?? unwrap(r.inputs.name) ?? unwrap(r.inputs.secretId);
    // Not a reference to another resource (a version's secretId is its secret's ARN or path).
    if (typeof given === "string" && given.includes(plan.stack) && !/^(arn:|projects\/)/.test(given)) named.set(given, kindOf(r));
  }
  // A provider that waits for a server (PostgreSQL's admin connection) is part of the picture;
  // the clouds' providers, which manage everything of theirs, are not.
  const byKey = new Map(resources.map((r) => [`${r.type}::${r.name}`, r]));

  const edges = new Set<string>();
  const edge = (from: string | undefined, to: string, label: string) => {
    if (from && from !== to && ids.has(from)) edges.add(`  ${ids.get(from)} -->|${label}| ${ids.get(to)}`);
  };
  for (const r of resources) {
    const kind = kindOf(r);
    if (r.provider && byKey.get(r.provider)?.dependsOn.length) edge(kindOfKey.get(r.provider), kind, "manages");
    for (const value of leaves(r.inputs)) edge(named.get(value) ?? secretIn(value, named), kind, "value of");
    for (const d of r.dependsOn) edge(kindOfKey.get(d), kind, "before");
  }

  const lines = ["```mermaid", "flowchart LR"];
  for (const [index, group] of GROUPS.entries()) {
    const members = [...kinds.entries()].filter(([, rs]) => groupOf(rs[0]!.type) === index);
    if (members.length === 0) continue;
    lines.push(`  subgraph g${index}["${group.title}"]`);
    for (const [kind, rs] of members) lines.push(`    ${ids.get(kind)}["${label(kind, rs)}"]`);
    lines.push("  end");
  }
  lines.push(...[...edges].sort(), "```");
  return [
    `# Stack ${plan.stack}: what it creates and what connects to what`,
    "",
    `Generated from [the plan](${plan.stack}.txt) by \`npm run plan -- --update\`; checked by the tests like the plan.`,
    "",
    ...lines,
    "",
  ].join("\n");
}

function kindOf(r: PlannedResource): string {
  const replica = unwrap(r.inputs.replicateSourceDb) ?? unwrap(r.inputs.masterInstanceName);
  const variant = replica ? " (replica)" : r.type === "postgresql:index/role:Role" ? (unwrap(r.inputs.login) ? " (login)" : " (group)") : "";
  return `${r.type}${variant}`;
}

function label(kind: string, rs: PlannedResource[]): string {
  const [type, variant = ""] = kind.split(" ");
  // aws:rds/instance:Instance -> aws rds Instance; random:index/randomPassword:RandomPassword -> random RandomPassword.
  const [pkg, path = "", name = ""] = type!.split(":");
  const module = path.split("/")[0];
  const short = pkg === "pulumi" ? `${name} provider` : [pkg, module === "index" ? "" : module, name].filter(Boolean).join(" ");
  const what = rs.length === 1 ? rs[0]!.name : `${rs.length} × ${rs[0]!.name}, …`;
  return `${short} ${variant}`.trim().replace(/"/g, "'") + `<br/>${what.replace(/"/g, "'")}`;
}

function* leaves(value: unknown): Generator<string> {
  const v = unwrap(value);
  if (typeof v === "string") yield v;
  else if (Array.isArray(v)) for (const x of v) yield* leaves(x);
  else if (v && typeof v === "object") for (const x of Object.values(v)) yield* leaves(x);
}

/** A cloud id that names a resource: a Secrets Manager ARN (`…:secret:<name>-<suffix>`), a Google path (`…/secrets/<name>`). */
function secretIn(value: string, named: Map<string, string>): string | undefined {
  const name = /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(value)?.[1] ?? /^projects\/.+\/([^/]+)$/.exec(value)?.[1];
  return name ? named.get(name) : undefined;
}
