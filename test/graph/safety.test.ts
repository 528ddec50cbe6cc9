import { describe, expect, it } from "vitest";
import { violations, type ResourceView } from "../../policy-pack/rules";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { planStack, type StackPlan } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { stackNames } from "../../scripts/plan";
import { CLOUD_PLATFORMS, planOn } from "../support/stacks";

/** What the policy pack sees of a plan: each resource's inputs (secrets as their values) and `protect`. */
function views(plan: StackPlan): ResourceView[] {
  const deep = (value: unknown): any => {
    const plain = unwrap(value);
    if (Array.isArray(plain)) return plain.map(deep);
    if (plain && typeof plain === "object") return Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, deep(v)]));
    return plain;
  };
  return plan.resources.map((r) => ({ type: r.type, name: r.name, props: deep(r.inputs), protect: r.protect }));
}

function mutate(resources: ResourceView[], type: string, change: (r: ResourceView) => void): ResourceView[] {
  return resources.map((r) => {
    if (r.type !== type) return r;
    const copy = structuredClone(r);
    change(copy);
    return copy;
  });
}

describe("the safety rules (policy pack)", () => {
  it.each(stackNames())("pass the plan of stack %s", async (stack) => {
    const { config, secretKeys } = readStackFile(stack);
    expect(violations(views(await planStack(stack, config, secretKeys)))).toEqual([]);
  });

  it.each(CLOUD_PLATFORMS)("pass every stack on %s", async (platform) => {
    for (const stack of ["dev", "staging", "production"]) expect(violations(views(await planOn(stack, platform)))).toEqual([]);
  });

  it("refuse a production database without its protections", async () => {
    const aws = views(await planOn("production", "aws"));
    const primary = (r: ResourceView) => r.name === "gaia-production-postgres";
    expect(violations(mutate(aws, "aws:rds/instance:Instance", (r) => primary(r) && (r.props.deletionProtection = false)))).toEqual([
      "production-database-protected: aws:rds/instance:Instance gaia-production-postgres: set deletionProtection: true",
    ]);
    expect(violations(mutate(aws, "aws:rds/instance:Instance", (r) => primary(r) && (r.protect = false)))).toEqual([
      "production-database-protected: aws:rds/instance:Instance gaia-production-postgres: production databases are `protect`ed: keep gaia:protect",
    ]);
    expect(violations(mutate(aws, "aws:rds/parameterGroup:ParameterGroup", (r) => (r.props.parameters = [])))).toEqual([
      "postgres-tls-required: aws:rds/parameterGroup:ParameterGroup gaia-production-postgres-params: set the parameter rds.force_ssl to 1",
    ]);
    const gcp = views(await planOn("production", "gcp"));
    const publicIp = mutate(gcp, "gcp:sql/databaseInstance:DatabaseInstance", (r) => (r.props.settings.ipConfiguration.ipv4Enabled = true));
    expect(violations(publicIp)).toHaveLength(3);
    expect(violations(publicIp)[0]).toMatch(/postgres-private-and-encrypted: .* gaia-production-postgres: set settings.ipConfiguration.ipv4Enabled: false/);
  });

  it("leave dev free to be torn down", async () => {
    const dev = views(await planOn("dev", "aws"));
    expect(dev.find((r) => r.name === "gaia-dev-postgres")!.props.deletionProtection).toBe(false);
    expect(violations(dev)).toEqual([]);
  });
});
