import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "../../ops/lib/migrations";
import { checkPrivileges } from "../../ops/lib/privileges";
import type { EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { startTestPostgres } from "../support/embedded";
import { grantPolicy } from "../support/grants";
import { createEnvironment, query, uniqueEnvironment, withClient, type TestEnvironment } from "../support/postgres";

/**
 * PostgreSQL 17's table privilege MAINTAIN (VACUUM, ANALYZE, CLUSTER, REINDEX, REFRESH
 * MATERIALIZED VIEW and LOCK TABLE in any mode: PostgreSQL 17 docs, 5.8 "Privileges"): the policy
 * gives it to no one but the owner, and the check names it like TRUNCATE and TRIGGER. A service
 * holding it can LOCK auth.users IN ACCESS EXCLUSIVE MODE, stopping every other role's reads.
 */
let server: EmbeddedServer;
let env: TestEnvironment;

beforeAll(async () => {
  server = await startTestPostgres("maintain");
  env = await createEnvironment(server.url, uniqueEnvironment("maint"));
  await migrateDatabase({ connectionString: env.url("owner"), ownerRole: env.names.groupRole("owner"), log: () => undefined });
  await grantPolicy(env);
});

afterAll(async () => {
  await server?.stop();
});

describe("the privilege check on PostgreSQL 17", () => {
  it("reports MAINTAIN, which the policy gives no one", async () => {
    await query(env.adminUrl, `grant maintain on auth.users to "${env.names.groupRole("chat")}"`);
    try {
      // What it lets the service do: hold every reader of auth.users off.
      await withClient(env.url("chat"), async (c) => {
        await c.query("begin");
        await c.query("lock table auth.users in access exclusive mode");
        await c.query("rollback");
      });
      const report = await withClient(env.adminUrl, (client) => checkPrivileges(client, env.names));
      expect(report.problems).toEqual([`${env.names.loginRole("chat")} on auth.users: also has MAINTAIN, which the policy does not give.`]);
    } finally {
      await grantPolicy(env);
    }
    expect((await withClient(env.adminUrl, (client) => checkPrivileges(client, env.names))).problems).toEqual([]);
  });
});
