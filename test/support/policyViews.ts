import type { ResourceView } from "../../policy-pack/rules";
import { unwrap } from "../../scripts/lib/cloudMocks";
import type { StackPlan } from "../../scripts/lib/offline";

/** What the policy pack sees of a plan: each resource's inputs (secrets as their values) and `protect`. */
export function views(plan: StackPlan): ResourceView[] {
  const deep = (value: unknown): any => {
    const plain = unwrap(value);
    if (Array.isArray(plain)) return plain.map(deep);
    if (plain && typeof plain === "object") return Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, deep(v)]));
    return plain;
  };
  return plan.resources.map((r) => ({ type: r.type, name: r.name, props: deep(r.inputs), protect: r.protect }));
}
