import { spawn, type ChildProcess } from "node:child_process";
import { expect } from "vitest";
import { freePort } from "../../scripts/lib/embeddedPostgres";
import type { StackPlan } from "../../scripts/lib/offline";
import { createPlannedRoles, dropPlannedRoles, runPlanned } from "./planned";
import { withClient, withDatabase } from "./postgres";
import { withRedis } from "./redis";

/**
 * A Redis of the machine's own redis-server on a port of its own, so that no other test's keys
 * move a snapshot of it.
 */
export async function startPrivateRedis(): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const child: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    if (await withRedis(url, (c) => c.ping()).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, stop: () => void child.kill() };
}

/** Roles, databases, ACL users and keys: what a destroy must give back exactly. */
export async function serverSnapshot(postgresUrl: string, redisUrl: string) {
  const postgres = await withClient(postgresUrl, async (c) => ({
    roles: (await c.query("select rolname from pg_roles order by 1")).rows.map((r) => r.rolname as string),
    databases: (await c.query("select datname from pg_database order by 1")).rows.map((r) => r.datname as string),
  }));
  const redis = await withRedis(redisUrl, async (c) => ({ acl: await c.sendCommand(["ACL", "LIST"]), keys: (await c.keys("*")).sort() }));
  return { ...postgres, ...redis };
}

/**
 * A local plan applied as `pulumi up` would apply it on a real server: the first time the
 * provider's roles and database and the pg_stat_statements extension, then every command's
 * create (or, later, its update), in the plan's order.
 */
export async function applyLocalPlan(plan: StackPlan, adminUrl: string, verb: "create" | "update"): Promise<void> {
  if (verb === "create") await createPlannedRoles(plan, adminUrl);
  for (const command of plan.resources.filter((r) => r.type === "command:local:Command")) {
    const run = runPlanned(command, verb);
    expect(run.stderr, `${command.name} ${verb}`).toBe("");
    expect(run.status, `${command.name} ${verb}`).toBe(0);
  }
  // The extension after the schema command, which opens the database (components/database.ts createExtensions).
  if (verb === "create") {
    const database = plan.resources.find((r) => r.type === "postgresql:index/database:Database")!;
    await withClient(withDatabase(adminUrl, String(database.inputs.name)), (c) => c.query("create extension pg_stat_statements"));
  }
}

/** `pulumi destroy` of a local plan: the commands' deletes in the reverse of creation, then the database and roles as the provider deletes them. */
export async function destroyLocalPlan(plan: StackPlan, adminUrl: string): Promise<void> {
  for (const command of plan.resources.filter((r) => r.type === "command:local:Command").reverse()) {
    if (typeof command.inputs.delete !== "string") continue;
    const run = runPlanned(command, "delete");
    expect(run.stderr, `${command.name} delete`).toBe("");
    expect(run.status, `${command.name} delete`).toBe(0);
  }
  await dropPlannedRoles(plan, adminUrl);
}
