import { describe, expect, it } from "vitest";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { planStack, type StackPlan } from "../../scripts/lib/offline";
import { environmentNames } from "../../policy/naming";
import { PRESETS } from "../../stacks/presets";
import { ADDED_SERVICES, poolConnections } from "../support/services";
import { byType, one, planOn, stackOn } from "../support/stacks";

const STACKS = ["dev", "staging", "production"] as const;
/** The services: chat, assets and auth, and any added to the access policy since. */
const SERVICES = ["chat", "assets", "auth", ...ADDED_SERVICES];
/** Managed Postgres plans, smallest first: vCPUs, memory, PgBouncer's database connections (docs/platforms.md, "Fly.io"). */
const PLANS = [["basic", 2, 1024, 60], ["starter", 2, 2048, 60], ["launch", 2, 8192, 180], ["scale", 4, 32768, 350]] as const;
/** The smallest plan with the preset's vCPUs (at most 4 on Fly) and memory whose PgBouncer holds the pools. */
const smallestPlan = (stack: (typeof STACKS)[number]) => {
  const { instance, pool } = PRESETS[stack];
  return PLANS.find(([, vcpus, memoryMb, connections]) => vcpus >= Math.min(instance.vcpus, 4) && memoryMb >= instance.memoryMb && connections >= poolConnections(pool))?.[0];
};
/** Every generated secret the simulated providers hand out looks like this. */
const GENERATED_SECRET = /mock-[0-9a-f]{24}/;

const env = (plan: StackPlan, name: string) => unwrap(one(plan, "command:local:Command", name).inputs.environment) as Record<string, unknown>;

describe.each(STACKS)("the %s stack on Fly Managed Postgres", (stack) => {
  const names = environmentNames(stack);
  const planned = planOn(stack, "fly");

  it("creates a Managed Postgres cluster of the preset's plan, its database and one user per application role", async () => {
    const plan = await planned;
    const cluster = env(plan, `gaia-${stack}-db`);
    expect(cluster).toMatchObject({
      GAIA_FLY_CLUSTER: `gaia-${stack}-db`,
      GAIA_FLY_ORG: "gaia",
      GAIA_FLY_REGION: "iad",
      // The smallest plan whose PgBouncer holds the pools (for chat, assets and auth: dev 55
      // connections, staging 100, production 190: Basic 60, Launch 180, Scale 350) with the
      // preset's vCPUs and memory; a service added since adds its pool.
      GAIA_FLY_PLAN: ADDED_SERVICES.length === 0 ? { dev: "basic", staging: "launch", production: "scale" }[stack] : smallestPlan(stack),
      GAIA_FLY_VOLUME_GB: { dev: "10", staging: "50", production: "500" }[stack],
      GAIA_FLY_POSTGRES_VERSION: "16",
      GAIA_FLY_DATABASE: names.database,
      GAIA_FLY_DELETION_PROTECTION: { dev: "off", staging: "on", production: "on" }[stack],
      GAIA_FLY_FINAL_BACKUP: { dev: "off", staging: "on", production: "on" }[stack],
    });
    // Two users per role, its rotation slots a and b; at generation 0 slot a is current (kept since 0) and b not yet made current (-1).
    expect(JSON.parse(String(cluster.GAIA_FLY_USERS))).toEqual({
      [`gaia_${stack}_analytics_a`]: "reader",
      [`gaia_${stack}_analytics_b`]: "reader",
      [`gaia_${stack}_chat_a`]: "writer",
      [`gaia_${stack}_chat_b`]: "writer",
      [`gaia_${stack}_assets_a`]: "writer",
      [`gaia_${stack}_assets_b`]: "writer",
      [`gaia_${stack}_auth_a`]: "writer",
      [`gaia_${stack}_auth_b`]: "writer",
      ...Object.fromEntries(ADDED_SERVICES.flatMap((s) => [[`gaia_${stack}_${s}_a`, "writer"], [`gaia_${stack}_${s}_b`, "writer"]])),
    });
    expect(JSON.parse(String(cluster.GAIA_FLY_USER_KEEPERS))).toEqual(
      Object.fromEntries(["analytics", "chat", "assets", "auth", ...ADDED_SERVICES].flatMap((r) => [[`gaia_${stack}_${r}_a`, 0], [`gaia_${stack}_${r}_b`, -1]])),
    );
    const command = one(plan, "command:local:Command", `gaia-${stack}-db`);
    expect(command.inputs).toMatchObject({
      create: "NODE_COMPILE_CACHE=node_modules/.cache/gaia-ops node_modules/.bin/node dist/ops/fly.cjs postgres-apply",
      update: "NODE_COMPILE_CACHE=node_modules/.cache/gaia-ops node_modules/.bin/node dist/ops/fly.cjs postgres-apply",
      delete: "NODE_COMPILE_CACHE=node_modules/.cache/gaia-ops node_modules/.bin/node dist/ops/fly.cjs postgres-delete",
      logging: "none",
    });
    expect(command.protect).toBe(stack === "production");
  });

  it("applies the schema and hands each service its own credential and the Redis URL through Fly, never through Pulumi", async () => {
    const plan = await planned;
    const schema = one(plan, "command:local:Command", `gaia-${stack}-schema`);
    expect(schema.inputs.create).toBe("NODE_COMPILE_CACHE=node_modules/.cache/gaia-ops node_modules/.bin/node dist/ops/fly.cjs migrate");
    expect(schema.dependsOn).toEqual([`command:local:Command::gaia-${stack}-db`]);
    for (const service of SERVICES) {
      const access = env(plan, `gaia-${stack}-fly-access-${service}`);
      expect(access).toMatchObject({ GAIA_FLY_APP: `gaia-${service}`, GAIA_FLY_USER: `gaia_${stack}_${service}_a`, GAIA_FLY_VARIABLE: "GAIA_DATABASE_URL" });
    }
    expect(JSON.parse(String(env(plan, `gaia-${stack}-fly-redis-url`).GAIA_FLY_APPS))).toEqual(SERVICES.map((s) => `gaia-${s}`));
    expect(plan.outputs.secretNames!.value).toEqual({
      [`gaia/${stack}/postgres/chat`]: "gaia-chat:GAIA_DATABASE_URL",
      [`gaia/${stack}/postgres/assets`]: "gaia-assets:GAIA_DATABASE_URL",
      [`gaia/${stack}/postgres/auth`]: "gaia-auth:GAIA_DATABASE_URL",
      ...Object.fromEntries(ADDED_SERVICES.map((s) => [`gaia/${stack}/postgres/${s}`, `gaia-${s}:GAIA_DATABASE_URL`])),
      [`gaia/${stack}/redis`]: `${SERVICES.map((s) => `gaia-${s}`).join(",")}:GAIA_REDIS_URL`,
    });
    // No role, grant or password of ours: Managed Postgres makes its users.
    expect(plan.resources.filter((r) => r.type.startsWith("postgresql:"))).toEqual([]);
    expect(byType(plan, "random:index/randomPassword:RandomPassword").map((r) => r.name)).toEqual([`gaia-${stack}-admin-api-key`]);
    // The admin API key (the one generated secret) reaches no input, secret or not: only its SHA-256 does.
    for (const r of plan.resources) expect(JSON.stringify(r.inputs), r.name).not.toMatch(GENERATED_SECRET);
  });

  it("gives the program the cluster's host from the script's output, in plain text", async () => {
    const plan = await planned;
    expect(plan.outputs.host).toEqual({ value: expect.stringMatching(/^direct\.[a-z0-9]+\.flympg\.net$/), secret: false });
    expect(plan.outputs.redisEndpoint).toEqual({ value: `fly-gaia-${stack}-redis.upstash.io:6379`, secret: false });
  });
});

describe("what Fly Managed Postgres cannot give", () => {
  const refusal = (config: Record<string, string>) => planStack("production", config).then(() => "planned", (e: Error) => e.message);

  it("refuses production's read replicas and its 8-vCPU size, saying what to do", async () => {
    const { "gaia:replicas": _r, "gaia:instance": _i, ...asWritten } = stackOn("production", "fly");
    const message = await refusal(asWritten);
    expect(message).toContain("gaia:replicas 2 is more than fly allows (0): lower it.");
    expect(message).toContain(
      "gaia:instance (8 vCPUs, 16384 MB) needs Fly's performance plan, which flyctl cannot select without a terminal (it would silently create a Basic cluster): lower gaia:instance.vcpus to 4 and gaia:instance.memoryMb to 32768 or less for the Scale plan.",
    );
  });

  it("refuses a stack that has not accepted role kinds in place of the per-table policy", async () => {
    const config = stackOn("dev", "fly");
    const settings = { ...JSON.parse(config["gaia:fly"]!), acceptCoarseRoles: false };
    const message = await refusal({ ...config, "gaia:preset": "dev", "gaia:fly": JSON.stringify(settings) });
    expect(message).toContain("gaia:fly.acceptCoarseRoles is not true: Fly Managed Postgres gives each user a role kind over every table");
  });

  it("refuses Redis high availability without replica regions, and a service without its app", async () => {
    const config = stackOn("dev", "fly");
    const { auth: _auth, ...apps } = JSON.parse(config["gaia:fly"]!).apps as Record<string, string>;
    const settings = { ...JSON.parse(config["gaia:fly"]!), redisReplicaRegions: [], apps };
    const message = await refusal({ ...config, "gaia:preset": "dev", "gaia:redis": JSON.stringify({ highAvailability: true }), "gaia:fly": JSON.stringify(settings) });
    expect(message).toContain("gaia:redis.highAvailability on Fly needs Upstash read replicas: list their regions in gaia:fly.redisReplicaRegions");
    // Upstash regions, not Managed Postgres' (cdg has no MPG), other than the primary.
    const withApps = JSON.parse(config["gaia:fly"]!) as Record<string, unknown>;
    const regions = (replicas: string[]) => planStack("dev", { ...config, "gaia:fly": JSON.stringify({ ...withApps, redisReplicaRegions: replicas }) }).then(() => "planned", (e: Error) => e.message);
    expect(await regions(["cdg"])).toBe("planned");
    expect(await regions(["iad"])).toContain('gaia:fly.redisReplicaRegions has "iad": use Fly region codes (three letters, e.g. ord, cdg) other than the primary iad.');
    expect(await regions(["Paris"])).toContain('gaia:fly.redisReplicaRegions has "Paris": use Fly region codes (three letters, e.g. ord, cdg) other than the primary iad.');
    expect(message).toContain("gaia:fly.apps.auth is required: the Fly app of the auth service, the only identity that may read its credential.");
  });

  it("refuses more storage than a cluster is created with, and pools its PgBouncer cannot hold", async () => {
    const config = { ...stackOn("dev", "fly"), "gaia:preset": "dev" };
    const message = await refusal({ ...config, "gaia:instance": JSON.stringify({ storageGb: 600, maxStorageGb: 900, class: "basic" }), "gaia:pool": JSON.stringify({ size: 60, maxOverflow: 10 }) });
    expect(message).toContain("gaia:instance.storageGb 600 is more than Fly Managed Postgres creates (500 GB): lower it.");
    // 3 services x (60 + 10) + 10 = 220 for chat, assets and auth.
    expect(message).toContain(`gaia:pool needs ${poolConnections({ size: 60, maxOverflow: 10 })} connections, more than the 60 database connections of Fly's basic plan: lower gaia:pool, or name a larger plan in gaia:instance.class.`);
  });
});
