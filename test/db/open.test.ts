import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../ops/lib/open";
import { SHARED_SERVER, createEnvironment, uniqueEnvironment, withClient, withDatabase, type TestEnvironment } from "../support/postgres";

/**
 * The schema command's opening of the database the component makes closed (ops/lib/open.ts), on
 * the machine's PostgreSQL: runs that open it at the same time (two `pulumi up` of stacks that
 * share a server, a CI retry beside a local run) each end with it open and PUBLIC without CONNECT.
 */
describe("opening a closed database", () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createEnvironment(SHARED_SERVER, uniqueEnvironment("open"));
  });
  afterAll(async () => {
    await env?.drop();
  });

  const close = () => withClient(SHARED_SERVER, (su) => su.query(`alter database "${env.names.database}" with allow_connections false; grant all on database "${env.names.database}" to public`));

  it("by several runs at once: each opens it or finds it open, none fails", async () => {
    for (let round = 0; round < 12; round += 1) {
      await close();
      const results = await Promise.allSettled([0, 1, 2].map(() => openDatabase(env.url("owner"), env.names.groupRole("owner"))));
      expect(results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      expect(results.filter((r) => r.status === "fulfilled" && r.value === "opened")).toHaveLength(1);
      await withClient(withDatabase(SHARED_SERVER, env.names.database), async (c) => {
        const { rows } = await c.query("select has_database_privilege('public', current_database(), 'CONNECT') as connect, has_database_privilege('public', current_database(), 'TEMP') as temp");
        expect(rows[0]).toEqual({ connect: false, temp: false });
      });
    }
  });
});
