import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { unwrap } from "../../scripts/lib/cloudMocks";
import type { StackPlan } from "../../scripts/lib/offline";
import { runPlanned, type CommandRun } from "../support/planned";
import { one, planOn } from "../support/stacks";

/** ops/fly.ts against a simulated Fly API (test/support/fake-flyctl.cjs), as the production plan runs it. */
const FAKE = path.resolve(__dirname, "../support/fake-flyctl.cjs");
let plan: StackPlan;
let stateFile: string;
const printed: CommandRun[] = [];

const state = () => JSON.parse(readFileSync(stateFile, "utf8")) as {
  apps: { Name: string; machines: { region: string }[] }[];
  redis: { name: string }[];
  secrets: Record<string, Record<string, string>>;
  calls: string[][];
  events: string[];
};

function fly(name: string, verb: "create" | "update" | "delete", override: Record<string, string> = {}) {
  const result = runPlanned(one(plan, "command:local:Command", name), verb, { FLYCTL: FAKE, FAKE_FLY_STATE: stateFile, ...override });
  printed.push(result);
  return result;
}

beforeAll(async () => {
  plan = await planOn("production", "fly");
  stateFile = path.join(mkdtempSync(path.join(tmpdir(), "gaia-fly-")), "state.json");
});

describe("the fly platform's commands against a simulated Fly API", () => {
  it("creates the cluster with its replicas, then adopts it without creating anything again", () => {
    const created = fly("gaia-production-db-cluster", "create");
    expect(created.stderr).toBe("");
    expect(created.status).toBe(0);
    const endpoint = JSON.parse(created.stdout.trim().split("\n").at(-1)!);
    expect(endpoint).toEqual({ host: "gaia-production-db.flycast", port: 5432, replicaHosts: ["iad.gaia-production-db.internal", "iad.gaia-production-db.internal"] });
    // Three members for HA plus two read replicas.
    expect(state().apps[0]!.machines).toHaveLength(5);
    expect(state().events).toContain("postgres backup config update -a gaia-production-db --recovery-window 7d");

    const callsBefore = state().calls.length;
    const again = fly("gaia-production-db-cluster", "update");
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/adopting existing Postgres app gaia-production-db/);
    const newCalls = state().calls.slice(callsBefore).map((c) => c.slice(0, 2).join(" "));
    expect(newCalls).not.toContain("postgres create");
    expect(newCalls).not.toContain("machine clone");
    expect(state().apps[0]!.machines).toHaveLength(5);
  });

  it("passes the superuser password to flyctl only, and secrets to apps through stdin", () => {
    const env = unwrap(one(plan, "command:local:Command", "gaia-production-db-cluster").inputs.environment) as Record<string, unknown>;
    const password = String(unwrap(env.GAIA_FLY_ADMIN_PASSWORD));
    expect(state().calls.find((c) => c[1] === "create")).toContain(password);

    const secret = one(plan, "command:local:Command", "gaia-production-fly-secret-postgres-chat");
    const url = String(unwrap((unwrap(secret.inputs.environment) as Record<string, unknown>).GAIA_FLY_SECRET_VALUE));
    expect(fly(secret.name, "create").status).toBe(0);
    expect(state().secrets["gaia-api"]).toEqual({ GAIA_POSTGRES_CHAT: url });
    expect(JSON.stringify(state().calls)).not.toContain(url);
    expect(fly(secret.name, "delete").status).toBe(0);
    expect(state().secrets["gaia-api"]).toEqual({});
  });

  it("creates Redis once and hands its endpoint to the program", () => {
    const first = fly("gaia-production-redis", "create");
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout.trim())).toMatchObject({ host: "fly-gaia-production-redis.upstash.io", port: 6379 });
    expect(fly("gaia-production-redis", "update").status).toBe(0);
    expect(state().redis).toHaveLength(1);
  });

  it("refuses to delete a protected cluster, and takes a final backup before deleting an unprotected one", () => {
    const refused = fly("gaia-production-db-cluster", "delete");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/deletion protection is on for gaia-production-db: set gaia:deletionProtection to false/);
    expect(state().apps).toHaveLength(1);

    const deleted = fly("gaia-production-db-cluster", "delete", { GAIA_FLY_DELETION_PROTECTION: "off" });
    expect(deleted.status).toBe(0);
    expect(state().events.some((e) => /^postgres backup create -a gaia-production-db --name final-/.test(e))).toBe(true);
    expect(state().apps).toHaveLength(0);
    expect(fly("gaia-production-db-cluster", "delete", { GAIA_FLY_DELETION_PROTECTION: "off" }).stdout).toMatch(/already gone/);
  });

  it("says what to do when flyctl is missing", () => {
    const missing = fly("gaia-production-db-cluster", "create", { FLYCTL: "/nonexistent/flyctl" });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/flyctl not found: install flyctl/);
  });

  it("prints no Postgres password", () => {
    const env = unwrap(one(plan, "command:local:Command", "gaia-production-db-cluster").inputs.environment) as Record<string, unknown>;
    const password = String(unwrap(env.GAIA_FLY_ADMIN_PASSWORD));
    for (const run of printed) expect(run.stdout + run.stderr).not.toContain(password);
  });
});
