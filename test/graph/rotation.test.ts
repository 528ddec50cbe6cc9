import { describe, expect, it } from "vitest";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { planProgram, planStack, type StackPlan } from "../../scripts/lib/offline";
import { gaiaStack } from "../../program";
import { readStackFile } from "../../scripts/lib/stackFile";
import { planAsText } from "../../scripts/lib/planFormat";
import { GaiaConfigError, decodeStackConfig, resolveConfig } from "../../components/config";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { NOT_A_SERVICE } from "../support/services";
import { stackOn } from "../support/stacks";

const deepUnwrap = (value: unknown): unknown => {
  const v = unwrap(value);
  if (Array.isArray(v)) return v.map(deepUnwrap);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepUnwrap(x)]));
  return v;
};

function problemsOf(stack: string, extra: Record<string, string>, base: Record<string, string> = readStackFile(stack).config): string[] {
  try {
    resolveConfig(stack, decodeStackConfig({ ...base, ...extra }));
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
    expect(problemsOf("local", { "gaia:rotation": JSON.stringify({ [NOT_A_SERVICE]: 1 }) })).toContain(
      `gaia:rotation.${NOT_A_SERVICE} names no credential of this stack: use all, owner, analytics, ${SERVICE_ROLE_NAMES.join(", ")}, redis, adminApiKey.`,
    );
    expect(problemsOf("local", { "gaia:rotation": JSON.stringify({ chat: -1 }) }).join("\n")).toMatch(/gaia:rotation.chat: must be a generation, 0 or more/);
  });
});

/** What a rotation changes on a platform: every resource whose inputs differ, as type::name. */
async function changedBy(platform: "aws" | "gcp" | "fly", rotation: Record<string, number>, from: Record<string, number> = {}): Promise<string[]> {
  const config = stackOn("staging", platform);
  const inputsOf = (plan: StackPlan) => new Map(plan.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(deepUnwrap(r.inputs))]));
  const before = inputsOf(await planStack("staging", { ...config, "gaia:rotation": JSON.stringify(from) }));
  const after = await planStack("staging", { ...config, "gaia:rotation": JSON.stringify(rotation) });
  // The same resources (registered in another order where a slot's version must come last).
  expect(after.resources.map((r) => `${r.type}::${r.name}`).sort()).toEqual([...before.keys()].sort());
  return after.resources.filter((r) => before.get(`${r.type}::${r.name}`) !== JSON.stringify(deepUnwrap(r.inputs))).map((r) => `${r.type}::${r.name}`);
}

const AWS_VERSION = "aws:secretsmanager/secretVersion:SecretVersion";
const AWS_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy";
const GCP_VERSION = "gcp:secretmanager/secretVersion:SecretVersion";

describe("a rotation on the clouds", () => {
  it("on aws changes chat's renewed password, its login and its secret's version (Secrets Manager keeps the previous as AWSPREVIOUS), and nothing else", async () => {
    expect(await changedBy("aws", { chat: 1 })).toEqual([
      "random:index/randomPassword:RandomPassword::gaia_staging_chat_b-password",
      "postgresql:index/role:Role::gaia_staging_chat_b",
      `${AWS_VERSION}::gaia-staging-postgres-chat-value`,
    ]);
  });

  it("on gcp keeps a secret version per login and replaces only the renewed one's, so the previous stays readable", async () => {
    const renewB = ["random:index/randomPassword:RandomPassword::gaia_staging_chat_b-password", "postgresql:index/role:Role::gaia_staging_chat_b", `${GCP_VERSION}::gaia-staging-postgres-chat-value-b`];
    expect(await changedBy("gcp", { chat: 1 })).toEqual(renewB);
    expect(await changedBy("gcp", { chat: 2 }, { chat: 1 })).toEqual([
      "random:index/randomPassword:RandomPassword::gaia_staging_chat_a-password",
      "postgresql:index/role:Role::gaia_staging_chat_a",
      `${GCP_VERSION}::gaia-staging-postgres-chat-value`,
    ]);
    expect(await changedBy("gcp", { chat: 3 }, { chat: 2 })).toEqual(renewB);
    // Each version holds its own login's URL.
    const plan = await planStack("staging", stackOn("staging", "gcp"));
    const userIn = (name: string) => new URL(String(deepUnwrap(plan.resources.find((r) => r.type === GCP_VERSION && r.name === name)!.inputs.secretData))).username;
    expect([userIn("gaia-staging-postgres-chat-value"), userIn("gaia-staging-postgres-chat-value-b")]).toEqual(["gaia_staging_chat_a", "gaia_staging_chat_b"]);
  });

  it("on aws stores a URL only after the server has its login's password", async () => {
    for (const [rotation, login] of [[{}, "gaia_staging_chat_a"], [{ chat: 1 }, "gaia_staging_chat_b"]] as const) {
      const plan = await planStack("staging", { ...stackOn("staging", "aws"), "gaia:rotation": JSON.stringify(rotation) });
      const stored = plan.resources.find((r) => r.type === AWS_VERSION && r.name === "gaia-staging-postgres-chat-value")!;
      // And after the secret's policy (test/graph/secret-access.test.ts).
      expect(stored.dependsOn).toEqual([`postgresql:index/role:Role::${login}`, `${AWS_POLICY}::gaia-staging-postgres-chat-policy`]);
    }
  });

  it("on gcp stores each login's URL after the server has its password, the current one's last (so it is \"latest\")", async () => {
    const dependsOn = async (rotation: Record<string, number>) => {
      const plan = await planStack("staging", { ...stackOn("staging", "gcp"), "gaia:rotation": JSON.stringify(rotation) });
      const of = (name: string) => plan.resources.find((r) => r.type === GCP_VERSION && r.name === name)!.dependsOn;
      return { a: of("gaia-staging-postgres-chat-value"), b: of("gaia-staging-postgres-chat-value-b") };
    };
    expect(await dependsOn({})).toEqual({
      a: ["postgresql:index/role:Role::gaia_staging_chat_a", `${GCP_VERSION}::gaia-staging-postgres-chat-value-b`],
      b: ["postgresql:index/role:Role::gaia_staging_chat_b"],
    });
    expect(await dependsOn({ chat: 1 })).toEqual({
      a: ["postgresql:index/role:Role::gaia_staging_chat_a"],
      b: ["postgresql:index/role:Role::gaia_staging_chat_b", `${GCP_VERSION}::gaia-staging-postgres-chat-value`],
    });
  });
});

describe("the admin's rotation", () => {
  it("on aws changes the master password on the instance, the provider that manages the roles, and the stored URL, after the instance", async () => {
    expect(await changedBy("aws", { admin: 1 })).toEqual([
      "random:index/randomPassword:RandomPassword::gaia-staging-postgres-admin-password",
      "aws:rds/instance:Instance::gaia-staging-postgres",
      "pulumi:providers:postgresql::gaia-staging-postgres-admin",
      // Each role's sessions command keeps the admin's URL for its delete (ops/sessions.ts); its update does nothing.
      ...["owner", "analytics", ...SERVICE_ROLE_NAMES].map((role) => `command:local:Command::gaia-staging-${role}-sessions`),
      `${AWS_VERSION}::gaia-staging-postgres-admin-value`,
    ]);
    const plan = await planStack("staging", { ...stackOn("staging", "aws"), "gaia:rotation": JSON.stringify({ admin: 1 }) });
    // The provider is configured only once the instance has the new password, and keeps managing every role with it.
    expect(plan.resources.find((r) => r.name === "gaia-staging-postgres-admin" && r.type === "pulumi:providers:postgresql")!.dependsOn).toEqual(["aws:rds/instance:Instance::gaia-staging-postgres"]);
    expect(plan.resources.find((r) => r.name === "gaia-staging-postgres-admin-value")!.dependsOn).toEqual(["aws:rds/instance:Instance::gaia-staging-postgres", `${AWS_POLICY}::gaia-staging-postgres-admin-policy`]);
  });

  it("on gcp changes the admin user's password, the provider and the stored URL, after the user", async () => {
    expect(await changedBy("gcp", { admin: 1 })).toEqual([
      "random:index/randomPassword:RandomPassword::gaia-staging-postgres-admin-password",
      "gcp:sql/user:User::gaia-staging-postgres-admin",
      "pulumi:providers:postgresql::gaia-staging-postgres-admin",
      // Each role's sessions command keeps the admin's URL for its delete (ops/sessions.ts); its update does nothing.
      ...["owner", "analytics", ...SERVICE_ROLE_NAMES].map((role) => `command:local:Command::gaia-staging-${role}-sessions`),
      `${GCP_VERSION}::gaia-staging-postgres-admin-value`,
    ]);
    const plan = await planStack("staging", { ...stackOn("staging", "gcp"), "gaia:rotation": JSON.stringify({ admin: 1 }) });
    expect(plan.resources.find((r) => r.name === "gaia-staging-postgres-admin" && r.type === "pulumi:providers:postgresql")!.dependsOn).toContain("gcp:sql/user:User::gaia-staging-postgres-admin");
  });

  it("is refused on local, whose admin is the operator's own", () => {
    expect(problemsOf("local", { "gaia:rotation": JSON.stringify({ admin: 1 }) })).toEqual([
      "gaia:rotation.admin cannot be rotated on local: the admin of a local stack is your own (gaia:local.postgresUrl): change its password on the server, then `pulumi config set --secret gaia:local.postgresUrl` with the new URL; remove it.",
    ]);
  });

  it.each(["aws", "gcp", "fly"] as const)("of the admin API key on %s changes the key and the schema command that makes it the bootstrap key, and stores it after", async (platform) => {
    expect(await changedBy(platform, { adminApiKey: 1 })).toEqual([
      "random:index/randomPassword:RandomPassword::gaia-staging-admin-api-key",
      "command:local:Command::gaia-staging-schema",
      ...(platform === "aws" ? [`${AWS_VERSION}::gaia-staging-admin-api-key-value`] : platform === "gcp" ? [`${GCP_VERSION}::gaia-staging-admin-api-key-value`] : []),
    ]);
  });
});

describe("Redis's rotation", () => {
  it("on aws gives ElastiCache a new token (ROTATE keeps the previous valid) and stores the URL after the replication group", async () => {
    expect(await changedBy("aws", { redis: 1 })).toEqual([
      "random:index/randomPassword:RandomPassword::gaia-staging-redis-auth-token",
      "aws:elasticache/replicationGroup:ReplicationGroup::gaia-staging-redis",
      `${AWS_VERSION}::gaia-staging-redis-value`,
    ]);
    const plan = await planStack("staging", { ...stackOn("staging", "aws"), "gaia:rotation": JSON.stringify({ redis: 1 }) });
    const group = plan.resources.find((r) => r.name === "gaia-staging-redis" && r.type.startsWith("aws:elasticache/replicationGroup"))!;
    expect(unwrap(group.inputs.authTokenUpdateStrategy)).toBe("ROTATE");
    expect(plan.resources.find((r) => r.name === "gaia-staging-redis-value")!.dependsOn).toEqual(["aws:elasticache/replicationGroup:ReplicationGroup::gaia-staging-redis", `${AWS_POLICY}::gaia-staging-redis-policy`]);
  });

  it("is refused on gcp: Memorystore cannot hold two AUTH strings", () => {
    expect(problemsOf("staging", { "gaia:rotation": JSON.stringify({ redis: 1 }) }, stackOn("staging", "gcp"))).toEqual([
      "gaia:rotation.redis cannot be rotated on gcp: Memorystore generates its AUTH string and changes it only when AUTH is turned off and on again, with no overlap: rotate it in a maintenance window as docs/rotation.md says; remove it.",
    ]);
  });

  it.each([
    ["redis", "Upstash's `fly redis reset` refuses the old password at once and every app must be given the new URL: do it in a maintenance window as docs/rotation.md says"],
    ["admin", "Fly Managed Postgres keeps its admin itself"],
    ["owner", "the owner on Fly is Managed Postgres' own schema_admin (fly-user), which Fly keeps"],
  ])("refuses %s on fly with why", (credential, why) => {
    expect(problemsOf("staging", { "gaia:rotation": JSON.stringify({ [credential]: 1 }) }, stackOn("staging", "fly"))).toEqual([
      `gaia:rotation.${credential} cannot be rotated on fly: ${why}; remove it.`,
    ]);
  });
});

describe("the program's check of the stack file against what the stack applied", () => {
  const local = readStackFile("local").config;
  const run = (rotation: Record<string, number>, applied: Record<string, number> | undefined) =>
    planProgram("local", { ...local, "gaia:rotation": JSON.stringify(rotation) }, () => gaiaStack(applied));
  const refusal = async (rotation: Record<string, number>, applied: Record<string, number>) => {
    const failure = await run(rotation, applied).then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(GaiaConfigError);
    return (failure as GaiaConfigError).problems;
  };

  it("takes a step of one or none for each credential, and outputs what it applied", async () => {
    const plan = await run({ chat: 1 }, { owner: 0, analytics: 0, chat: 0, assets: 0, auth: 0, redis: 0, adminApiKey: 0 });
    expect(plan.outputs.rotation?.value).toEqual({ owner: 0, analytics: 0, chat: 1, assets: 0, auth: 0, redis: 0, adminApiKey: 0, ...Object.fromEntries(SERVICE_ROLE_NAMES.filter((s) => !["chat", "assets", "auth"].includes(s)).map((s) => [s, 0])) });
    expect((await run({ chat: 1 }, { chat: 1 })).outputs.rotation?.value).toMatchObject({ chat: 1 });
  });

  it("refuses a credential taken back or moved two steps, before any resource, saying what to set", async () => {
    const registered: string[] = [];
    const back = await refusal({ chat: 1 }, { chat: 2 });
    expect(back).toEqual(["Pulumi.local.yaml: gaia:rotation takes chat back from generation 2, which the stack applied, to 1: that would renew the login its clients use now. Deploy the stack file that raised it (git pull), or set gaia:rotation so that chat is at 2 or 3."]);
    expect(await refusal({ all: 1, chat: 1 }, { chat: 0, auth: 1 })).toEqual([
      "Pulumi.local.yaml: gaia:rotation moves chat from generation 0, which the stack applied, to 2 in one update: that would renew both of its logins at once. Raise it by one per `pulumi up`: set it so that chat is at 1.",
    ]);
    await planProgram("local", { ...local, "gaia:rotation": JSON.stringify({ chat: 3 }) }, () => gaiaStack({ chat: 1 }), { onRegister: (type) => void registered.push(type) }).catch(() => undefined);
    expect(registered, "no resource but the stack itself").toEqual(["pulumi:pulumi:Stack"]);
  });
});
