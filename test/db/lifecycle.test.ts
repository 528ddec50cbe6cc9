import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPrivileges } from "../../ops/lib/privileges";
import { ACCESS_POLICY, SERVICE_ROLE_NAMES, type AccessPolicy, type ServiceRole } from "../../policy/access";
import { policySpec } from "../../policy/grants";
import { environmentNames } from "../../policy/naming";
import type { EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { startTestPostgres } from "../support/embedded";
import { PROJECT_ROOT } from "../../scripts/lib/offline";
import { commitMigration, copyMigrations } from "../support/migrations";
import { NOT_A_SERVICE } from "../support/services";
import { createEnvironment, passwordClause, withClient, withDatabase, type TestEnvironment } from "../support/postgres";

/**
 * The access policy's lifecycle on PostgreSQL 17: version 1 applied, then each change a
 * platform team makes, applied as the deployed resources apply it (the provider's roles, then
 * the schema command with the new policy, then the provider's role deletes at the end, as the
 * engine orders them), with the privilege matrix checked after every step.
 */
let server: EmbeddedServer;
let env: TestEnvironment;
let folder: string;
const names = environmentNames(`life-${randomBytes(3).toString("hex")}`);

/** The schema command as the plan's command resource runs it, with `policy` in its environment. */
const SCHEMA_COMMAND = ["node_modules/.bin/tsx", ["ops/migrate.ts", "apply"]] as const;
function schemaEnvironment(policy: AccessPolicy, services: readonly string[]) {
  return {
    ...process.env,
    GAIA_DATABASE_URL: env.url("owner"),
    GAIA_OWNER_ROLE: names.groupRole("owner"),
    GAIA_MIGRATIONS_FOLDER: folder,
    GAIA_ACCESS_POLICY: JSON.stringify(policySpec(names, services, policy)),
  };
}

function schemaCommand(policy: AccessPolicy, services: readonly string[]) {
  return spawnSync(SCHEMA_COMMAND[0], SCHEMA_COMMAND[1], { cwd: PROJECT_ROOT, env: schemaEnvironment(policy, services), encoding: "utf8" });
}

/** Applies `policy` as `pulumi up` would, and checks the live database against it. */
async function up(policy: AccessPolicy, services: readonly string[] = SERVICE_ROLE_NAMES) {
  const run = schemaCommand(policy, services);
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  await withClient(env.adminUrl, async (client) => {
    expect((await checkPrivileges(client, names, { policy, services })).problems).toEqual([]);
  });
}

/** The schema command in the background, so a client can query while it runs. */
function spawnAsync(policy: AccessPolicy, services: readonly string[]): Promise<number | null> {
  const child = spawn(SCHEMA_COMMAND[0], SCHEMA_COMMAND[1], { cwd: PROJECT_ROOT, env: schemaEnvironment(policy, services), stdio: "ignore" });
  return new Promise((resolve) => child.on("exit", resolve));
}

const withService = (policy: AccessPolicy, name: string, role: ServiceRole): AccessPolicy => ({ ...policy, services: { ...policy.services, [name]: role } });
const withTable = (policy: AccessPolicy, table: string, entry: AccessPolicy["tables"][string] = {}): AccessPolicy => ({ ...policy, tables: { ...policy.tables, [table]: entry } });

beforeAll(async () => {
  server = await startTestPostgres("lifecycle");
  env = await createEnvironment(server.url, names, server.password);
  folder = copyMigrations();
});

afterAll(async () => {
  await server?.stop();
});

describe("access-policy and schema changes converge", () => {
  let policy: AccessPolicy = ACCESS_POLICY;
  let services: string[] = [...SERVICE_ROLE_NAMES];

  it("applies version 1", async () => {
    await up(policy);
  });

  it("gives a service a privilege on a table it already reads, without a moment of losing SELECT", async () => {
    const assets = policy.services.assets!;
    policy = withService(policy, "assets", { ...assets, tables: { ...assets.tables, "auth.users": ["SELECT", "INSERT"] } });
    // The assets service keeps reading while the policy changes under it.
    const reader = new Client({ connectionString: env.url("assets") });
    await reader.connect();
    let reads = 0;
    const refused: string[] = [];
    let running = true;
    const probe = (async () => {
      while (running) {
        await reader.query("select count(*) from auth.users").then(() => reads++, (e: Error) => refused.push(e.message));
      }
    })();
    const run = spawnAsync(policy, services);
    await run;
    running = false;
    await probe;
    await reader.end();
    expect(refused).toEqual([]);
    expect(reads).toBeGreaterThan(20);
    await up(policy);
  });

  it("adds a table with a credential column, and one without", async () => {
    commitMigration(folder, "webhooks", "create table platform.webhooks (id uuid primary key default gen_random_uuid(), url text not null, signing_secret text not null);");
    commitMigration(folder, "flags", "create table platform.flags (name text primary key, enabled boolean not null default false);");
    policy = withTable(withTable(policy, "platform.webhooks", { secretColumns: ["signing_secret"], analyticsColumns: ["id", "url"] }), "platform.flags");
    const auth = policy.services.auth!;
    policy = withService(policy, "auth", { ...auth, tables: { ...auth.tables, "platform.webhooks": ["SELECT", "INSERT", "UPDATE", "DELETE"] } });
    await up(policy);
  });

  it("adds a column that analytics may read", async () => {
    commitMigration(folder, "users-locale", "alter table auth.users add column locale text;");
    const users = policy.tables["auth.users"]!;
    policy = withTable(policy, "auth.users", { ...users, analyticsColumns: [...(users.analyticsColumns ?? []), "locale"] });
    await up(policy);
  });

  // A service the policy does not have yet (whatever services it has by now).
  const added = NOT_A_SERVICE;

  it("adds a service: its roles first, then the policy", async () => {
    await withClient(server.url, async (admin) => {
      await admin.query(`create role "${names.groupRole(added)}" nologin`);
      await admin.query(`create role "${names.loginRole(added)}" login ${passwordClause(names.loginRole(added), server.password)} in role "${names.groupRole(added)}"`);
    });
    policy = withService(policy, added, { description: added, tables: { "auth.users": ["SELECT"], "platform.flags": ["SELECT"] } });
    services = [...services, added];
    await up(policy, services);
  });

  it("removes a service: the policy's update takes everything away, its sessions end, then its roles drop cleanly", async () => {
    const login = names.loginRole(added);
    const loginUrl = withDatabase(server.url, names.database, login, server.password);
    const session = new Client({ connectionString: loginUrl });
    const ended = new Promise<string>((resolve) => session.on("error", (e) => resolve((e as { code?: string }).code ?? e.message)));
    await session.connect();
    services = services.filter((s) => s !== added);
    const { [added]: _removed, ...rest } = policy.services;
    policy = { ...policy, services: rest };
    await up(policy, services);
    // The engine deletes the role's sessions command before its logins (it depends on them):
    // ops/sessions.ts's delete, as the admin.
    const run = spawnSync("node_modules/.bin/tsx", ["ops/sessions.ts", "end"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, GAIA_DATABASE_URL: server.url, GAIA_LOGINS: `${login},${names.loginRole(added, "b")}`, GAIA_GROUP: names.groupRole(added), GAIA_DATABASE_NAME: names.database },
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(`${login}, ${names.loginRole(added, "b")}: no longer log in, 1 session(s) ended\n`);
    expect(await ended).toBe("57P01"); // admin_shutdown: terminated by pg_terminate_backend
    await session.end().catch(() => undefined);
    await expect(withClient(loginUrl, (c) => c.query("select 1"))).rejects.toThrow(
      `role "${login}" is not permitted to log in`,
    );
    // What the provider's Role delete ends with, for the login role then its group.
    await withClient(server.url, async (admin) => {
      await admin.query(`drop role "${names.loginRole(added)}"`);
      await admin.query(`drop role "${names.groupRole(added)}"`);
    });
  });

  const sessionsCommand = (verb: string, adminUrl: string, logins: string[], group = "gaia_x_chat") =>
    spawnSync("node_modules/.bin/tsx", ["ops/sessions.ts", verb], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, GAIA_DATABASE_URL: adminUrl, GAIA_LOGINS: logins.join(","), GAIA_GROUP: group, GAIA_DATABASE_NAME: names.database },
      encoding: "utf8",
    });

  it("leaves the logins of a role still in the policy alone: its sessions command was replaced, not the role removed", async () => {
    const session = new Client({ connectionString: env.url("chat") });
    await session.connect();
    try {
      const run = sessionsCommand("end", server.url, [names.loginRole("chat"), names.loginRole("chat", "b")], names.groupRole("chat"));
      expect([run.stderr, run.status]).toEqual(["", 0]);
      expect(run.stdout).toBe(`${names.loginRole("chat")}, ${names.loginRole("chat", "b")}: kept, ${names.groupRole("chat")} may still connect to ${names.database} (this command was replaced, not its role removed)\n`);
      expect((await session.query("select 1 as ok")).rows).toEqual([{ ok: 1 }]);
    } finally {
      await session.end();
    }
  });

  it("lets a role's logins log in again when it is asked for after a drop that failed half-way", async () => {
    const login = `gaia_half_${randomBytes(3).toString("hex")}`;
    await withClient(server.url, (admin) => admin.query(`create role ${login} nologin`));
    const run = sessionsCommand("allow", server.url, [login, `${login}_missing`]);
    expect([run.stderr, run.status]).toEqual(["", 0]);
    await withClient(server.url, async (admin) => {
      expect((await admin.query("select rolcanlogin from pg_roles where rolname = $1", [login])).rows[0].rolcanlogin).toBe(true);
      await admin.query(`drop role ${login}`);
    });
  });

  it("does not fail the removal for ever when the admin's password changed in the same update: says what is left", () => {
    const stale = withDatabase(server.url, "postgres", undefined, `${server.password}-before`);
    const run = sessionsCommand("end", stale, ["gaia_x_chat_a", "gaia_x_chat_b"]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(
      "gaia_x_chat_a, gaia_x_chat_b: their sessions were not ended (the admin's password changed in this update); they hold no privilege. End them as the admin: " +
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'gaia_x_chat_a'; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'gaia_x_chat_b'\n",
    );
  });

  it("follows a migration that drops a table, and the run after it succeeds too", async () => {
    commitMigration(folder, "drop-flags", "drop table platform.flags;");
    const { "platform.flags": _dropped, ...tables } = policy.tables;
    policy = { ...policy, tables };
    await up(policy);
    await up(policy);
  });

  it("follows a migration that renames a table", async () => {
    commitMigration(folder, "rename-webhooks", "alter table platform.webhooks rename to outbound_webhooks;");
    const { "platform.webhooks": webhooks, ...tables } = policy.tables;
    policy = { ...policy, tables: { ...tables, "platform.outbound_webhooks": webhooks! } };
    const { "platform.webhooks": authWebhooks, ...authTables } = policy.services.auth!.tables;
    policy = withService(policy, "auth", { ...policy.services.auth!, tables: { ...authTables, "platform.outbound_webhooks": authWebhooks } });
    await up(policy);
  });

  it("refuses a schema the policy does not name, taking PUBLIC's reach into it, and the check names it", async () => {
    commitMigration(
      folder,
      "reporting-schema",
      "create schema reporting;\n" +
        "create function reporting.hashes() returns setof text language sql security definer as $$ select password_hash from auth.users $$;\n" +
        "grant usage on schema reporting to public;\n",
    );
    const run = schemaCommand(policy, services);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      "error: schema reporting is in the database but not in the access policy: add it to SCHEMAS in policy/access.ts with its tables, or drop it in a migration. PUBLIC's privileges on it were taken; no other privilege was changed.\n",
    );
    await expect(withClient(env.url("analytics"), (c) => c.query("select reporting.hashes()"))).rejects.toThrow("permission denied for schema reporting");
    await withClient(env.adminUrl, async (client) => {
      expect((await checkPrivileges(client, names, { policy, services })).problems).toContain("schema reporting is not in the access policy: add it to SCHEMAS in policy/access.ts, or drop it.");
    });
    commitMigration(folder, "drop-reporting", "drop schema reporting cascade;");
    await up(policy, services);
  });

  it("refuses a policy that names a table the schema does not have, changing nothing", async () => {
    const run = schemaCommand(withTable(policy, "game.ghosts"), services);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      "error: table game.ghosts is in the access policy but not in the database: remove it from TABLES and SERVICE_ROLES in policy/access.ts, or add the migration that creates it. No privilege was changed.\n",
    );
    await withClient(env.adminUrl, async (client) => {
      expect((await checkPrivileges(client, names, { policy, services })).problems).toEqual([]);
    });
  });
});
