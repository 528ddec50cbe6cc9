import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PRIVILEGES, SERVICE_ROLE_NAMES, TABLE_NAMES, allowed, secretColumns } from "../../policy/access";
import { migrateDatabase } from "../../ops/lib/migrations";
import { checkPrivileges } from "../../ops/lib/privileges";
import { grantPolicy } from "../support/grants";
import { commitMigration, copyMigrations } from "../support/migrations";
import { SHARED_SERVER, createEnvironment, query, uniqueEnvironment, withClient, withDatabase, type TestEnvironment } from "../support/postgres";

let env: TestEnvironment;
let other: TestEnvironment;
const migrationsFolder = copyMigrations();

beforeAll(async () => {
  [env, other] = await Promise.all([
    createEnvironment(SHARED_SERVER, uniqueEnvironment("priv")),
    createEnvironment(SHARED_SERVER, uniqueEnvironment("other")),
  ]);
  for (const e of [env, other]) {
    await migrateDatabase({ connectionString: e.url("owner"), ownerRole: e.names.groupRole("owner"), migrationsFolder, log: () => undefined });
    await grantPolicy(e);
  }
});
afterAll(async () => {
  await Promise.all([env?.drop(), other?.drop()]);
});

/** Runs `sql` as a login role; resolves to the SQLSTATE it failed with, or "ok". */
async function attempt(url: string, sql: string): Promise<string> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    await client.query(sql);
    return "ok";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A statement that needs exactly `privilege` on `table`; EXPLAIN checks permissions without touching rows. */
function statementNeeding(privilege: (typeof PRIVILEGES)[number], table: string): string {
  switch (privilege) {
    case "SELECT":
      return `explain select count(*) from ${table}`;
    case "INSERT":
      return `explain insert into ${table} default values`;
    case "UPDATE":
      return `explain update ${table} set created_at = default`;
    case "DELETE":
      return `explain delete from ${table}`;
  }
}

describe("the access policy on a real server", () => {
  it("matches the live database for every role, table and PUBLIC", async () => {
    await withClient(env.adminUrl, async (client) => {
      const report = await checkPrivileges(client, env.names);
      expect(report.problems).toEqual([]);
      // owner, analytics, every service, PUBLIC: each against every table.
      expect(report.matrix).toHaveLength((2 + SERVICE_ROLE_NAMES.length + 1) * TABLE_NAMES.length);
    });
  });

  it("lets each service role do exactly what the policy says, statement by statement", async () => {
    for (const role of SERVICE_ROLE_NAMES) {
      for (const table of TABLE_NAMES) {
        for (const privilege of PRIVILEGES) {
          const outcome = await attempt(env.url(role), statementNeeding(privilege, table));
          const expected = allowed(role, table).includes(privilege) ? "ok" : "42501";
          expect(`${role} ${privilege} ${table}: ${outcome}`).toBe(`${role} ${privilege} ${table}: ${expected}`);
        }
      }
    }
  });

  it("keeps analytics read-only and away from every credential column", async () => {
    for (const table of TABLE_NAMES) {
      for (const secret of secretColumns(table)) {
        expect(await attempt(env.url("analytics"), `select ${secret} from ${table} limit 1`)).toBe("42501");
      }
      expect(await attempt(env.url("analytics"), `explain delete from ${table}`)).toBe("42501");
      expect(await attempt(env.url("analytics"), `explain insert into ${table} default values`)).toBe("42501");
    }
    expect(await attempt(env.url("analytics"), "select id, email, created_at from auth.users")).toBe("ok");
    expect(await attempt(env.url("analytics"), "select * from game.messages")).toBe("ok");
  });

  it("gives analytics the tables of a later migration through default privileges, and no one else", async () => {
    commitMigration(migrationsFolder, "usage-stats", "create table platform.usage_stats (day date primary key, calls integer not null);");
    await migrateDatabase({ connectionString: env.url("owner"), ownerRole: env.names.groupRole("owner"), migrationsFolder, log: () => undefined });
    expect(await attempt(env.url("analytics"), "select * from platform.usage_stats")).toBe("ok");
    for (const role of SERVICE_ROLE_NAMES) {
      expect(await attempt(env.url(role), "select * from platform.usage_stats")).toBe("42501");
    }
    // The check notices that the policy does not know the new table yet.
    await withClient(env.adminUrl, async (client) => {
      const report = await checkPrivileges(client, env.names);
      expect(report.problems).toEqual([expect.stringMatching(/table platform.usage_stats is not in the access policy/)]);
    });
  });

  it("reports a grant that differs from the policy", async () => {
    await query(env.adminUrl, `grant delete on game.messages to "${env.names.groupRole("analytics")}"`);
    try {
      const report = await withClient(env.adminUrl, (client) => checkPrivileges(client, env.names));
      expect(report.problems).toContain(`${env.names.loginRole("analytics")} on game.messages: has [SELECT, DELETE], policy says [SELECT].`);
    } finally {
      await query(env.adminUrl, `revoke delete on game.messages from "${env.names.groupRole("analytics")}"`);
    }
  });

  it("lets no role create in schema public but the owner", async () => {
    for (const role of ["analytics", ...SERVICE_ROLE_NAMES] as const) {
      expect(await attempt(env.url(role), "create table public.intruder (x int)")).toBe("42501");
    }
    const stranger = await attempt(withDatabase(SHARED_SERVER, env.names.database, other.names.loginRole("owner")), "select 1");
    expect(stranger).toBe("42501");
  });

  it("isolates two environments on one server: no role of one connects to the other's database", async () => {
    for (const role of ["owner", "analytics", ...SERVICE_ROLE_NAMES] as const) {
      const intoOther = withDatabase(SHARED_SERVER, other.names.database, env.names.loginRole(role), env.password);
      expect(await attempt(intoOther, "select 1")).toBe("42501");
      const intoOwn = withDatabase(SHARED_SERVER, other.names.database, other.names.loginRole(role), other.password);
      expect(await attempt(intoOwn, "select 1")).toBe("ok");
    }
  });
});
