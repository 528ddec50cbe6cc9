import type { PlannedResource, StackPlan } from "./offline";

/** What `pulumi destroy` would do to each resource of a plan. */
export type DestroyOutcome =
  /** The provider deletes it. */
  | "deleted"
  /** Gone from the state only: the resource it is deleted with takes it (`deletedWith`). */
  | "goes with its instance"
  /** Gone from the state only, left in the cloud (`retainOnDelete`). */
  | "kept in the cloud"
  /** Protected: the engine refuses, and the destroy fails. */
  | "refused (protected)"
  /** Never reached: something that depends on it was refused first. */
  | "untouched";

export interface DestroyPlan {
  /** Each resource (`type::name`) in the order the engine takes them, with what happens to it. */
  steps: { resource: string; outcome: DestroyOutcome }[];
  /** True when the destroy fails (a protected resource refused). */
  refused: boolean;
}

/**
 * `pulumi destroy` of a planned stack, by the engine's rules (pulumi/pulumi v3.274.1,
 * pkg/resource/deploy): deletes are scheduled in antichains, dependents before what they depend
 * on (step_generator.go ScheduleDeletes; a resource's dependencies are its parent, provider,
 * dependsOn and deletedWith: graph/dependency_graph.go DependenciesOf, with a dependsOn on a
 * component standing for every custom resource under it, @pulumi/pulumi runtime/dependsOn.js);
 * each delete refuses a protected resource, skips the provider for `retainOnDelete` and for
 * `deletedWith` a resource also being deleted (step.go DeleteStep.Apply); once a step fails, no
 * later antichain runs a step for anything the failed resource depends on
 * (deployment_executor.go, "erroredDeps"). The plan knows only explicit dependencies, not those
 * an input carries, so the order among unguarded resources is the least the engine keeps.
 */
export function planDestroy(plan: StackPlan): DestroyPlan {
  const byKey = new Map(plan.resources.map((r) => [key(r), r]));
  const dependencies = new Map(plan.resources.map((r) => [key(r), dependenciesOf(r, plan.resources)]));
  const condemned = new Set(byKey.keys());
  const antichains: string[][] = [];
  while (condemned.size > 0) {
    const free = [...condemned].filter((k) => ![...dependencies.get(k)!].some((d) => condemned.has(d)));
    if (free.length === 0) throw new Error(`a dependency cycle among ${[...condemned].join(", ")}`);
    for (const k of free) condemned.delete(k);
    antichains.push(free);
  }
  antichains.reverse();

  const all = new Set(byKey.keys());
  const failed: string[] = [];
  const steps: DestroyPlan["steps"] = [];
  for (const chain of antichains) {
    const blocked = transitiveDependencies(failed, dependencies);
    for (const k of chain) {
      const r = byKey.get(k)!;
      if (blocked.has(k)) steps.push({ resource: k, outcome: "untouched" });
      else if (r.protect) {
        steps.push({ resource: k, outcome: "refused (protected)" });
        failed.push(k);
      } else if (r.retainOnDelete) steps.push({ resource: k, outcome: "kept in the cloud" });
      else if (r.deletedWith && all.has(r.deletedWith)) steps.push({ resource: k, outcome: "goes with its instance" });
      else if (r.custom) steps.push({ resource: k, outcome: "deleted" });
    }
  }
  return { steps, refused: failed.length > 0 };
}

/** The destroy for people: what it deletes, keeps and leaves, or where it is refused. */
export function formatDestroy(stack: string, destroy: DestroyPlan): string {
  const of = (outcome: DestroyOutcome) => destroy.steps.filter((s) => s.outcome === outcome).map((s) => `  ${s.resource}\n`).join("");
  if (destroy.refused) {
    const deleted = destroy.steps.filter((s) => s.outcome !== "refused (protected)" && s.outcome !== "untouched");
    return `pulumi destroy -s ${stack}: refused before anything else, at\n${of("refused (protected)")}${deleted.length ? `after it ${deleted.length} resource(s) are gone:\n${deleted.map((s) => `  ${s.resource} (${s.outcome})\n`).join("")}` : "nothing is deleted or dropped from the state\n"}`;
  }
  return `pulumi destroy -s ${stack}: deletes\n${of("deleted")}goes with its instance (gone from the state)\n${of("goes with its instance")}keeps in the cloud (gone from the state)\n${of("kept in the cloud")}`;
}

const key = (r: Pick<PlannedResource, "type" | "name">) => `${r.type}::${r.name}`;

function dependenciesOf(r: PlannedResource, resources: readonly PlannedResource[]): Set<string> {
  const deps = new Set<string>();
  for (const d of r.dependsOn) {
    const target = resources.find((x) => key(x) === d);
    const expanded = target && !target.custom ? customUnder(d, resources).filter((c) => c !== key(r)) : [d];
    for (const e of expanded) deps.add(e);
  }
  for (const d of [r.parent, r.provider, r.deletedWith]) if (d) deps.add(d);
  return deps;
}

/** The custom resources under a component, through components only (runtime/dependsOn.js). */
function customUnder(component: string, resources: readonly PlannedResource[]): string[] {
  const children = resources.filter((r) => r.parent === component);
  return children.flatMap((c) => (c.custom ? [key(c)] : customUnder(key(c), resources)));
}

function transitiveDependencies(roots: readonly string[], dependencies: Map<string, Set<string>>): Set<string> {
  const seen = new Set<string>();
  const visit = (k: string) => {
    for (const d of dependencies.get(k) ?? []) if (!seen.has(d)) {
      seen.add(d);
      visit(d);
    }
  };
  roots.forEach(visit);
  return seen;
}
