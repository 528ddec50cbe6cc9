import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { startTestPostgres } from "../support/embedded";
import { planStack, type StackPlan } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { runPlanned } from "../support/planned";
import { withClient } from "../support/postgres";
import { withRedis } from "../support/redis";
import { applyLocalPlan, destroyLocalPlan, serverSnapshot, startPrivateRedis } from "../support/servers";

/**
 * A local environment created and destroyed on servers that already hold other things: after
 * the destroy, run in the engine's order (the reverse of creation), the servers hold exactly
 * what they held before. A private Redis, so no other test's keys move the snapshot.
 */
let server: EmbeddedServer;
let redis: { url: string; stop(): void };
let redisUrl: string;
let plan: StackPlan;
const stack = `gone-${randomBytes(3).toString("hex")}`;
// Its SQL names write "-" as "_" (policy/naming.ts).
const sqlName = `gaia_${stack.replace(/-/g, "_")}`;
const snapshot = () => serverSnapshot(server.url, redisUrl);

beforeAll(async () => {
  server = await startTestPostgres("destroy-pg");
  redis = await startPrivateRedis();
  redisUrl = redis.url;
  // What was there before: another team's role, database, Redis user and keys.
  await withClient(server.url, async (c) => {
    await c.query("create role other_team login password 'x'");
    await c.query("create database other_team owner other_team");
  });
  await withRedis(redisUrl, async (c) => {
    await c.sendCommand(["ACL", "SETUSER", "other_team", "on", ">x", "~other:*", "+@all"]);
    await c.set("other:keep", "1");
  });
  const { config } = readStackFile("local");
  plan = await planStack(stack, { ...config, "gaia:environment": stack, "gaia:local": JSON.stringify({ postgresUrl: server.url, redisUrl }) }, ["gaia:local"]);
});

afterAll(async () => {
  redis?.stop();
  await server?.stop();
});

describe("destroying a local environment", () => {
  it("leaves the servers exactly as they were before it was created", async () => {
    const before = await snapshot();

    // Create, in the plan's order: the provider's roles and database, the extension, the commands.
    await applyLocalPlan(plan, server.url, "create");
    const database = sqlName;
    await withRedis(redisUrl, (c) => c.set(`gaia:${stack}:session:1`, "x"));
    const during = await snapshot();
    expect(during.databases).toContain(database);
    // A group and two logins for the owner, analytics and each service (15 for chat, assets and auth).
    expect(during.roles.filter((r) => r.startsWith(`${sqlName}_`))).toHaveLength(3 * (2 + SERVICE_ROLE_NAMES.length));
    expect(during.keys).toContain(`gaia:${stack}:session:1`);

    // Destroy, in the reverse of creation: the commands' deletes, then the database and roles
    // as the provider deletes them.
    await destroyLocalPlan(plan, server.url);

    expect(await snapshot()).toEqual(before);
  });

  it("never takes over, nor deletes, a Redis user of the same name that is not the environment's", async () => {
    const name = `taken-${randomBytes(3).toString("hex")}`;
    const sqlName = `gaia_${name.replace(/-/g, "_")}`;
    await withRedis(redisUrl, (c) => c.sendCommand(["ACL", "SETUSER", sqlName, "on", ">x", "~elsewhere:*", "+@all"]));
    const { config } = readStackFile("local");
    const taken = await planStack(name, { ...config, "gaia:environment": name, "gaia:local": JSON.stringify({ postgresUrl: server.url, redisUrl }) }, ["gaia:local"]);
    const user = taken.resources.find((r) => r.name === `gaia-${name}-redis-acl-user`)!;
    const refused = runPlanned(user, "create");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      `error: Redis user ${sqlName} exists on 127.0.0.1:${new URL(redisUrl).port} and is not this environment's (its keys are not gaia:${name}:*): remove it, or choose another gaia:environment.\n`,
    );
    const left = runPlanned(user, "delete");
    expect(left.stdout).toBe(`redis user ${sqlName} is not this environment's (keys ~elsewhere:*): left in place\n`);
    expect(await withRedis(redisUrl, (c) => c.sendCommand(["ACL", "GETUSER", sqlName]))).not.toBeNull();
  });
});
