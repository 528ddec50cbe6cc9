import { readFileSync } from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { readAccess } from "../../scripts/lib/planAccess";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { ACCESS_POLICY, PRIVILEGES, SERVICE_ROLE_NAMES, TABLE_NAMES, allowed, secretColumns } from "../../policy/access";
import { migrateDatabase } from "../../ops/lib/migrations";
import { actingAs } from "../../ops/lib/postgres";
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

  it("is what the committed plans' access section says, role by role and table by table, columns included (the section a reviewer reads)", async () => {
    const section = readAccess(readFileSync(path.resolve(__dirname, "../../plans/staging.txt"), "utf8"));
    const said = [...section.entries()].map(([key, r]) => `${key} ${r.privileges.join(",")}${r.columns ? ` (${r.columns.join(",")})` : ""}`).sort();
    const live = await withClient(env.adminUrl, async (client) => {
      const lines: string[] = [];
      const roles = [...section.keys()].map((k) => k.split(" ")[0]!).filter((r, i, all) => all.indexOf(r) === i);
      expect(roles).toEqual(["analytics", ...SERVICE_ROLE_NAMES]);
      for (const role of roles) {
        for (const table of TABLE_NAMES) {
          const group = env.names.groupRole(role);
          const whole: string[] = [];
          for (const p of PRIVILEGES) {
            const { rows } = await client.query<{ ok: boolean }>("select has_table_privilege($1, $2, $3) as ok", [group, table, p]);
            if (rows[0]!.ok) whole.push(p);
          }
          const { rows: columns } = await client.query<{ column_name: string }>(
            "select column_name from information_schema.columns where table_schema = $1 and table_name = $2 and has_column_privilege($3, format('%I.%I', table_schema, table_name), column_name, 'SELECT') order by ordinal_position",
            [table.split(".")[0], table.split(".")[1], group],
          );
          if (whole.length) lines.push(`${role} ${table} ${whole.join(",")}`);
          else if (columns.length) lines.push(`${role} ${table} SELECT (${columns.map((c) => c.column_name).join(",")})`);
        }
      }
      return lines.sort();
    });
    expect(said).toEqual(live);
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

  it("gives a later migration's table to no one but the owner until the policy names it; the policy step refuses it and the check names it", async () => {
    commitMigration(migrationsFolder, "usage-stats", "create table platform.usage_stats (day date primary key, calls integer not null);");
    await migrateDatabase({ connectionString: env.url("owner"), ownerRole: env.names.groupRole("owner"), migrationsFolder, log: () => undefined });
    for (const role of ["analytics", ...SERVICE_ROLE_NAMES] as const) {
      expect(`${role}: ${await attempt(env.url(role), "select * from platform.usage_stats")}`).toBe(`${role}: 42501`);
    }
    await expect(grantPolicy(env)).rejects.toThrow("table platform.usage_stats is in the database but not in the access policy: add it to TABLES in policy/access.ts, with its secret columns. No privilege was changed.");
    await withClient(env.adminUrl, async (client) => {
      const report = await checkPrivileges(client, env.names);
      expect(report.problems).toEqual([expect.stringMatching(/table platform.usage_stats is not in the access policy/)]);
    });
    await query(env.adminUrl, "drop table platform.usage_stats");
  });

  it("keeps credentials from every role through a view, a materialized view and a function over auth.users, before and after the policy step; the check names each one granted", async () => {
    const objects = [
      "create view platform.user_logins as select email, password_hash from auth.users",
      "create materialized view platform.user_logins_cached as select email, password_hash from auth.users",
      "create function platform.hash_of(text) returns text language sql security definer as 'select password_hash from auth.users where email = $1'",
    ];
    await withClient(actingAs(env.url("owner"), env.names.groupRole("owner")), async (owner) => {
      for (const statement of objects) await owner.query(statement);
    });
    const reads = ["select password_hash from platform.user_logins", "select password_hash from platform.user_logins_cached", "select platform.hash_of('x')"];
    const everyone = async () => {
      for (const role of ["analytics", ...SERVICE_ROLE_NAMES] as const) {
        for (const read of reads) expect(`${role}: ${read}: ${await attempt(env.url(role), read)}`).toBe(`${role}: ${read}: 42501`);
      }
    };
    try {
      await everyone();
      await grantPolicy(env);
      await everyone();
      // Granted by hand (a developer's "quick fix"): the check names each object and who reaches it.
      await query(env.adminUrl, `grant select on platform.user_logins, platform.user_logins_cached to "${env.names.groupRole("analytics")}"`);
      await query(env.adminUrl, "grant execute on function platform.hash_of(text) to public");
      const report = await withClient(env.adminUrl, (client) => checkPrivileges(client, env.names));
      expect(report.problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`^view platform.user_logins is not in the access policy, and ${env.names.loginRole("analytics")} can use it`)),
          expect.stringMatching(new RegExp(`^materialized view platform.user_logins_cached is not in the access policy, and ${env.names.loginRole("analytics")} can use it`)),
          expect.stringMatching(/^function platform.hash_of\(text\) is not in the access policy, and .*public can use it/),
        ]),
      );
      // The policy step takes the hand-made grants back.
      await grantPolicy(env);
      await everyone();
    } finally {
      await query(env.adminUrl, "drop view platform.user_logins; drop materialized view platform.user_logins_cached; drop function platform.hash_of(text)");
    }
  });

  it("keeps a procedure the first schema run's migrations add from every role: PUBLIC's default EXECUTE is taken from routines, not only functions", async () => {
    // On a new environment every migration runs before the first policy step, so nothing has yet
    // taken PUBLIC's default EXECUTE; REVOKE … ON ALL FUNCTIONS leaves procedures out (PostgreSQL docs, GRANT: "use ALL ROUTINES").
    const fresh = await createEnvironment(SHARED_SERVER, uniqueEnvironment("proc"));
    try {
      const folder = copyMigrations();
      commitMigration(folder, "hash-lookup", "create procedure game.hash_lookup(inout hash text) language sql security definer as $$ select coalesce((select password_hash from auth.users limit 1), 'none') $$;");
      await migrateDatabase({ connectionString: fresh.url("owner"), ownerRole: fresh.names.groupRole("owner"), migrationsFolder: folder, log: () => undefined });
      await grantPolicy(fresh);
      for (const role of ["analytics", ...SERVICE_ROLE_NAMES] as const) {
        expect(`${role}: ${await attempt(fresh.url(role), "call game.hash_lookup(null)")}`).toBe(`${role}: 42501`);
      }
      expect((await withClient(fresh.adminUrl, (client) => checkPrivileges(client, fresh.names))).problems).toEqual([]);
    } finally {
      await fresh.drop();
    }
  });

  it("makes whatever a login creates its group's: a login acts as its group from the first statement, and the check names an object a login owns", async () => {
    await withClient(env.url("owner"), async (owner) => {
      const { rows } = await owner.query<{ current_user: string; session_user: string }>("select current_user, session_user");
      expect(rows[0]).toEqual({ current_user: env.names.groupRole("owner"), session_user: env.names.loginRole("owner") });
      await owner.query("create table platform.made_by_hand (x int)");
    });
    const owner = await withClient(env.adminUrl, async (c) => (await c.query<{ owner: string }>("select pg_get_userbyid(relowner) as owner from pg_class where oid = 'platform.made_by_hand'::regclass")).rows[0]!.owner);
    expect(owner).toBe(env.names.groupRole("owner"));
    // Made around it (RESET ROLE, as a superuser can let one do): the check refuses the stranded object.
    await query(env.adminUrl, `alter table platform.made_by_hand owner to "${env.names.loginRole("owner")}"`);
    const report = await withClient(env.adminUrl, (client) => checkPrivileges(client, env.names));
    expect(report.problems).toContain(`platform.made_by_hand is owned by the login ${env.names.loginRole("owner")}, not its group: the next rotation strands it. Run \`ALTER ... OWNER TO\` the group as the admin.`);
    await query(env.adminUrl, "drop table platform.made_by_hand");
  });

  it("holds the policy after every schema run, over random sequences of policy changes and objects a migration adds (fast-check)", async () => {
    const privilegesArb = fc.subarray([...PRIVILEGES]);
    const policyArb = fc.record(Object.fromEntries(SERVICE_ROLE_NAMES.map((service) => [service, fc.dictionary(fc.constantFrom(...TABLE_NAMES), privilegesArb, { maxKeys: 4 })])));
    // What a migration may add that the policy does not name: a view or a function over a credential table, a sequence.
    const objectArb = fc.constantFrom(
      "create view platform.v_creds as select email, password_hash from auth.users",
      "create sequence platform.s_counter",
      "create function platform.f_key(uuid) returns text language sql security definer as 'select key_hash from auth.api_keys where id = $1'",
    );
    const dropAll = "drop view if exists platform.v_creds; drop sequence if exists platform.s_counter; drop function if exists platform.f_key(uuid)";
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(policyArb, fc.subarray([...SERVICE_ROLE_NAMES], { minLength: 1 }), fc.option(objectArb)), { minLength: 2, maxLength: 4 }), async (steps) => {
          for (const [tables, services, object] of steps) {
            const policy = { tables: ACCESS_POLICY.tables, services: Object.fromEntries(SERVICE_ROLE_NAMES.map((name) => [name, { description: name, tables: tables[name]! }])) };
            if (object) await withClient(actingAs(env.url("owner"), env.names.groupRole("owner")), (owner) => owner.query(object).catch(() => undefined));
            await grantPolicy(env, policy, services);
            const report = await withClient(env.adminUrl, (client) => checkPrivileges(client, env.names, { policy, services }));
            expect(report.problems).toEqual([]);
            // And as the server enforces it, for a sample: the first service's privileges on its first table.
            for (const service of services.slice(0, 1)) {
              for (const [table, privileges] of Object.entries(tables[service]!).slice(0, 1)) {
                for (const privilege of PRIVILEGES) {
                  const expected = privileges!.includes(privilege) ? "ok" : "42501";
                  expect(`${service} ${privilege} ${table}: ${await attempt(env.url(service), statementNeeding(privilege, table))}`).toBe(`${service} ${privilege} ${table}: ${expected}`);
                }
              }
            }
          }
        }),
        { numRuns: 8, seed: 20261205 },
      );
    } finally {
      await query(env.adminUrl, dropAll);
      await grantPolicy(env);
    }
  }, 300_000);

  it("reports a grant that differs from the policy", async () => {
    await query(env.adminUrl, `grant delete on game.messages to "${env.names.groupRole("analytics")}"`);
    try {
      const report = await withClient(env.adminUrl, (client) => checkPrivileges(client, env.names));
      expect(report.problems).toContain(`${env.names.loginRole("analytics")} on game.messages: has [SELECT, DELETE], policy says [SELECT].`);
    } finally {
      await query(env.adminUrl, `revoke delete on game.messages from "${env.names.groupRole("analytics")}"`);
    }
  });

  it("reports privileges on some columns only, and TRUNCATE, REFERENCES and TRIGGER, where the policy gives none", async () => {
    const group = (role: string) => `"${env.names.groupRole(role)}"`;
    const grants = [
      // A service with no access to auth.api_keys, reading its credential column; analytics writing a column; a service emptying sessions.
      `grant select (id, key_hash) on auth.api_keys to ${group("assets")}`,
      `grant update (email) on auth.users to ${group("analytics")}`,
      `grant truncate on auth.sessions to ${group("chat")}`,
      `grant references (password_hash), trigger on auth.users to ${group("auth")}`,
    ];
    for (const grant of grants) await query(env.adminUrl, grant);
    try {
      expect(await attempt(env.url("assets"), "select key_hash from auth.api_keys")).toBe("ok");
      const report = await withClient(env.adminUrl, (client) => checkPrivileges(client, env.names));
      expect(report.problems).toEqual([
        `${env.names.loginRole("analytics")} on auth.users: also has UPDATE on some of its columns, which the policy does not give.`,
        `${env.names.loginRole("chat")} on auth.sessions: also has TRUNCATE, which the policy does not give.`,
        `${env.names.loginRole("assets")} on auth.api_keys: also has SELECT on some of its columns, which the policy does not give.`,
        `${env.names.loginRole("auth")} on auth.users: also has REFERENCES on some of its columns, TRIGGER, which the policy does not give.`,
      ]);
    } finally {
      await grantPolicy(env);
    }
    expect((await withClient(env.adminUrl, (client) => checkPrivileges(client, env.names))).problems).toEqual([]);
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
