import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startEmbeddedPostgres, type EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { planStack, type StackPlan } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { createPlannedRoles, runPlanned } from "../support/planned";
import { withClient, withDatabase } from "../support/postgres";
import { withRedis } from "../support/redis";

/**
 * A local environment created and destroyed on servers that already hold other things: after
 * the destroy, run in the engine's order (the reverse of creation), the servers hold exactly
 * what they held before. A private Redis, so no other test's keys move the snapshot.
 */
let server: EmbeddedServer;
let redis: ChildProcess;
let redisUrl: string;
let plan: StackPlan;
const stack = `gone_${randomBytes(3).toString("hex")}`;

/** Roles, databases, ACL users and keys: what a destroy must give back exactly. */
async function snapshot() {
  const postgres = await withClient(server.url, async (c) => ({
    roles: (await c.query("select rolname from pg_roles order by 1")).rows.map((r) => r.rolname),
    databases: (await c.query("select datname from pg_database order by 1")).rows.map((r) => r.datname),
  }));
  const redisState = await withRedis(redisUrl, async (c) => ({ acl: await c.sendCommand(["ACL", "LIST"]), keys: (await c.keys("*")).sort() }));
  return { ...postgres, ...redisState };
}

beforeAll(async () => {
  server = await startEmbeddedPostgres({ dataDir: mkdtempSync(path.join(tmpdir(), "gaia-destroy-pg-")) });
  const port = await freePort();
  redisUrl = `redis://127.0.0.1:${port}`;
  redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    if (await withRedis(redisUrl, (c) => c.ping()).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
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
  redis?.kill();
  await server?.stop();
});

describe("destroying a local environment", () => {
  it("leaves the servers exactly as they were before it was created", async () => {
    const before = await snapshot();

    // Create, in the plan's order: the provider's roles and database, the extension, the commands.
    await createPlannedRoles(plan, server.url);
    const commands = plan.resources.filter((r) => r.type === "command:local:Command");
    for (const command of commands) expect(runPlanned(command, "create").status).toBe(0);
    const database = `gaia_${stack}`;
    await withClient(withDatabase(server.url, database), (c) => c.query("create extension pg_stat_statements"));
    await withRedis(redisUrl, (c) => c.set(`gaia:${stack}:session:1`, "x"));
    const during = await snapshot();
    expect(during.databases).toContain(database);
    expect(during.roles.filter((r) => r.startsWith(`gaia_${stack}_`))).toHaveLength(15);
    expect(during.keys).toContain(`gaia:${stack}:session:1`);

    // Destroy, in the reverse of creation: the commands' deletes, then the database and roles
    // as the provider deletes them.
    for (const command of [...commands].reverse().filter((c) => typeof c.inputs.delete === "string")) {
      const deleted = runPlanned(command, "delete");
      expect(deleted.stderr).toBe("");
      expect(deleted.status).toBe(0);
    }
    await withClient(server.url, async (c) => {
      await c.query(`drop database "${database}" with (force)`);
      for (const role of plan.resources.filter((r) => r.type === "postgresql:index/role:Role").reverse()) await c.query(`drop role "${String(role.inputs.name)}"`);
    });

    expect(await snapshot()).toEqual(before);
  });

  it("never takes over, nor deletes, a Redis user of the same name that is not the environment's", async () => {
    const name = `taken_${randomBytes(3).toString("hex")}`;
    await withRedis(redisUrl, (c) => c.sendCommand(["ACL", "SETUSER", `gaia_${name}`, "on", ">x", "~elsewhere:*", "+@all"]));
    const { config } = readStackFile("local");
    const taken = await planStack(name, { ...config, "gaia:environment": name, "gaia:local": JSON.stringify({ postgresUrl: server.url, redisUrl }) }, ["gaia:local"]);
    const user = taken.resources.find((r) => r.name === `gaia-${name.replace(/_/g, "-")}-redis-acl-user`)!;
    const refused = runPlanned(user, "create");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      `error: Redis user gaia_${name} exists on 127.0.0.1:${new URL(redisUrl).port} and is not this environment's (its keys are not gaia:${name}:*): remove it, or choose another gaia:environment.\n`,
    );
    const left = runPlanned(user, "delete");
    expect(left.stdout).toBe(`redis user gaia_${name} is not this environment's (keys ~elsewhere:*): left in place\n`);
    expect(await withRedis(redisUrl, (c) => c.sendCommand(["ACL", "GETUSER", `gaia_${name}`]))).not.toBeNull();
  });
});
