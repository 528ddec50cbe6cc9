import { describe, expect, it } from "vitest";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { planStack, type StackPlan } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { planAsText } from "../../scripts/lib/planFormat";
import { GaiaConfigError, decodeStackConfig, resolveConfig } from "../../components/config";
import { stackOn } from "../support/stacks";

const deepUnwrap = (value: unknown): unknown => {
  const v = unwrap(value);
  if (Array.isArray(v)) return v.map(deepUnwrap);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepUnwrap(x)]));
  return v;
};

function problemsOf(stack: string, extra: Record<string, string>): string[] {
  try {
    resolveConfig(stack, decodeStackConfig({ ...readStackFile(stack).config, ...extra }));
    return [];
  } catch (error) {
    if (!(error instanceof GaiaConfigError)) throw error;
    return error.problems;
  }
}

/** What a rotation changes in the plan: generated passwords by their keepers, nothing else but what is made from them. */
const withRotation = (rotation: Record<string, number>) => {
  const { config, secretKeys } = readStackFile("local");
  return planStack("local", { ...config, "gaia:rotation": JSON.stringify(rotation) }, secretKeys);
};
const keepers = (plan: StackPlan) =>
  Object.fromEntries(plan.resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword").map((r) => [r.name, unwrap(r.inputs.keepers) ?? null]));

describe("rotation by stack configuration", () => {
  it("renews only the slot that becomes current: chat generation 1 gives chat's b login a new password", async () => {
    const before = keepers(await withRotation({}));
    const after = keepers(await withRotation({ chat: 1 }));
    const changed = Object.keys(after).filter((name) => JSON.stringify(after[name]) !== JSON.stringify(before[name]));
    expect(changed).toEqual(["gaia_local_chat_b-password"]);
    expect(before["gaia_local_chat_b-password"]).toEqual({ generation: "-1" });
    expect(after["gaia_local_chat_b-password"]).toEqual({ generation: "1" });
    // Slot a at generation 0 has no keeper: adopting rotation changed no existing password.
    expect(before["gaia_local_chat_a-password"]).toBeNull();
  });

  it("alternates: generation 2 renews the a login, 3 the b login; all counts for every credential, redis included", async () => {
    const two = keepers(await withRotation({ chat: 2 }));
    expect(two["gaia_local_chat_a-password"]).toEqual({ generation: "2" });
    expect(two["gaia_local_chat_b-password"]).toEqual({ generation: "1" });
    const all = keepers(await withRotation({ all: 1, chat: 2 }));
    expect(all["gaia_local_chat_b-password"]).toEqual({ generation: "3" });
    expect(all["gaia_local_owner_b-password"]).toEqual({ generation: "1" });
    expect(all["gaia-local-redis-password-b"]).toEqual({ generation: "1" });
  });

  it("points the schema command at the current owner login, after every login's update", async () => {
    const plan = await withRotation({ owner: 1 });
    const schema = plan.resources.find((r) => r.name === "gaia-local-schema")!;
    expect(String(unwrap((unwrap(schema.inputs.environment) as Record<string, unknown>).GAIA_DATABASE_URL))).toMatch(/^postgresql:\/\/gaia_local_owner_b:/);
    expect(schema.dependsOn).toContain("postgresql:index/role:Role::gaia_local_owner_b");
    const acl = plan.resources.find((r) => r.name === "gaia-local-redis-acl-user")!;
    expect(Object.keys(unwrap(acl.inputs.environment) as object)).toContain("GAIA_REDIS_PREVIOUS_PASSWORD");
  });

  it("plans the same twice at one generation", async () => {
    expect(planAsText(await withRotation({ all: 2 }))).toBe(planAsText(await withRotation({ all: 2 })));
  });

  it("refuses a credential the stack does not have, naming the ones it has", () => {
    expect(problemsOf("local", { "gaia:rotation": JSON.stringify({ billing: 1 }) })).toContain(
      "gaia:rotation.billing names no credential of this stack: use all, owner, analytics, chat, assets, auth, redis.",
    );
    expect(problemsOf("local", { "gaia:rotation": JSON.stringify({ chat: -1 }) }).join("\n")).toMatch(/gaia:rotation.chat: must be a generation, 0 or more/);
  });
});

describe("a rotation on the clouds", () => {
  const inputsOf = (plan: StackPlan) => new Map(plan.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(deepUnwrap(r.inputs))]));
  it.each(["aws", "gcp"] as const)("on %s changes chat's renewed password, its login and its secret's version, and nothing else", async (platform) => {
    const config = stackOn("staging", platform);
    const before = inputsOf(await planStack("staging", config));
    const after = await planStack("staging", { ...config, "gaia:rotation": JSON.stringify({ chat: 1 }) });
    const changed = after.resources.filter((r) => before.get(`${r.type}::${r.name}`) !== JSON.stringify(deepUnwrap(r.inputs))).map((r) => `${r.type}::${r.name}`);
    expect(changed).toEqual([
      "random:index/randomPassword:RandomPassword::gaia_staging_chat_b-password",
      "postgresql:index/role:Role::gaia_staging_chat_b",
      `${platform === "aws" ? "aws:secretsmanager/secretVersion:SecretVersion" : "gcp:secretmanager/secretVersion:SecretVersion"}::gaia-staging-postgres-chat-value`,
    ]);
    expect(after.resources.map((r) => r.name)).toEqual([...before.keys()].map((k) => k.split("::")[1]));
  });

  it.each(["aws", "gcp"] as const)("on %s stores a URL only after the server has its login's password", async (platform) => {
    const config = stackOn("staging", platform);
    const version = `${platform === "aws" ? "aws:secretsmanager/secretVersion" : "gcp:secretmanager/secretVersion"}:SecretVersion`;
    for (const [rotation, login] of [[{}, "gaia_staging_chat_a"], [{ chat: 1 }, "gaia_staging_chat_b"]] as const) {
      const plan = await planStack("staging", { ...config, "gaia:rotation": JSON.stringify(rotation) });
      const stored = plan.resources.find((r) => r.type === version && r.name === "gaia-staging-postgres-chat-value")!;
      expect(stored.dependsOn).toEqual([`postgresql:index/role:Role::${login}`]);
    }
  });
});

describe("Redis rotation where the component cannot give Redis a second password", () => {
  it.each(["aws", "gcp"] as const)("is refused on %s with what to do", (platform) => {
    const config = stackOn("staging", platform);
    let problems: string[] = [];
    try {
      resolveConfig("staging", decodeStackConfig({ ...config, "gaia:rotation": JSON.stringify({ redis: 1 }) }));
    } catch (error) {
      problems = (error as GaiaConfigError).problems;
    }
    expect(problems).toEqual([`gaia:rotation.redis: Redis's credential cannot be rotated on ${platform} yet (only on local): remove it.`]);
  });
});
