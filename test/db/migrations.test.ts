import { execFileSync, spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { migrateDatabase } from "../../ops/lib/migrations";
import { MIGRATIONS_FOLDER } from "../../sql";
import { SHARED_SERVER, createEnvironment, query, uniqueEnvironment, type TestEnvironment } from "../support/postgres";
import { commitMigration, copyMigrations, committedMigrations, recordedName } from "../support/migrations";
import { grantPolicy } from "../support/grants";

const quiet = () => undefined;
const environments: TestEnvironment[] = [];
afterEach(async () => {
  await Promise.all(environments.splice(0).map((env) => env.drop()));
});

/** A session of `url` that has run `sql` (a transaction left open, holding its locks and snapshot); ended by the test. */
async function holding(url: string, sql: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  await client.query(sql);
  return client;
}

async function freshEnvironment(label: string) {
  const env = await createEnvironment(SHARED_SERVER, uniqueEnvironment(label));
  environments.push(env);
  const options = { connectionString: env.url("owner"), ownerRole: env.names.groupRole("owner"), log: quiet };
  return { env, options };
}

function schemaDump(url: string): string {
  return execFileSync("pg_dump", ["--schema-only", "--no-owner", "--no-privileges", "--exclude-schema=graphile_migrate", url], {
    encoding: "utf8",
  })
    .split("\n")
    .filter((line) => !line.startsWith("--") && !line.startsWith("\\") && line.trim() !== "")
    .join("\n");
}

describe("the migration runner on a real PostgreSQL", () => {
  it("takes an empty database to the full schema, then does nothing on a second run", async () => {
    const { env, options } = await freshEnvironment("mig");
    const first = await migrateDatabase(options);
    expect(first.applied).toEqual(committedMigrations());
    const second = await migrateDatabase(options);
    expect(second.applied).toEqual([]);
    const tables = await query<{ tablename: string; tableowner: string }>(
      env.adminUrl,
      "select schemaname || '.' || tablename as tablename, tableowner from pg_tables where schemaname in ('public', 'auth', 'game', 'audit', 'platform') order by 1",
    );
    // Every table in its schema (docs/architecture.md, "The schema"), none left in public.
    expect(tables.map((t) => t.tablename)).toEqual([
      "audit.security_events",
      "auth.access_control", "auth.api_keys", "auth.oauth_accounts", "auth.provider_keys", "auth.sessions", "auth.users",
      "game.campaign_participants", "game.campaigns", "game.conversations", "game.messages",
      "platform.assets", "platform.providers",
    ]);
    expect(new Set(tables.map((t) => t.tableowner))).toEqual(new Set([env.names.groupRole("owner")]));
  });

  it("leaves exactly the schema the migration files declare (no drift)", async () => {
    const { env, options } = await freshEnvironment("drift");
    await migrateDatabase(options);
    const reference = await freshEnvironment("ref");
    for (const file of committedMigrations()) {
      execFileSync("psql", ["-q", "-v", "ON_ERROR_STOP=1", "-f", path.join(MIGRATIONS_FOLDER, "committed", file), reference.env.adminUrl]);
    }
    expect(schemaDump(env.adminUrl)).toEqual(schemaDump(reference.env.adminUrl));
  });

  it("refuses an applied migration whose file was edited, naming the file", async () => {
    const { options } = await freshEnvironment("edit");
    const folder = copyMigrations();
    await migrateDatabase({ ...options, migrationsFolder: folder });
    // The newest applied migration, edited.
    const name = committedMigrations(folder).at(-1)!;
    const file = path.join(folder, "committed", name);
    const original = readFileSync(file, "utf8");

    writeFileSync(file, `${original}\n-- an edit after it was applied\n`);
    await expect(migrateDatabase({ ...options, migrationsFolder: folder })).rejects.toThrow(
      new RegExp(`migration ${name.replace(".", "\\.")} does not match its hash header`),
    );

    // Even with its hash header rewritten to match, the database remembers what was applied.
    rmSync(file);
    commitMigration(folder, name.replace(/^\d+-|\.sql$/g, ""), "select 1;");
    await expect(migrateDatabase({ ...options, migrationsFolder: folder })).rejects.toThrow(
      new RegExp(`migration ${name.replace(".", "\\.")} was edited after it was applied`),
    );
  });

  it("rolls a failing migration back completely, names file and statement, and succeeds after the fix", async () => {
    const { env, options } = await freshEnvironment("fail");
    const folder = copyMigrations();
    await migrateDatabase({ ...options, migrationsFolder: folder });
    const broken = commitMigration(
      folder,
      "feature-flags",
      `create table feature_flags (name text primary key);
insert into feature_flags (name) values ('a');
insert into feature_flags (name) values ('a');`,
    );
    const failure = migrateDatabase({ ...options, migrationsFolder: folder });
    await expect(failure).rejects.toThrow(new RegExp(`${broken}.*rolled back`));
    await expect(failure).rejects.toThrow(/statement 3, line 3: insert into feature_flags \(name\) values \('a'\)/);
    await expect(failure).rejects.toThrow(/duplicate key/);
    const leftovers = await query(env.adminUrl, "select to_regclass('public.feature_flags') as t");
    expect(leftovers[0]!.t).toBeNull();
    const recorded = await query(env.adminUrl, "select filename from graphile_migrate.migrations");
    expect(recorded).toHaveLength(committedMigrations().length);

    // The fix: an unapplied migration may be rewritten (it never reached any database).
    rmSync(path.join(folder, "committed", broken));
    commitMigration(folder, "feature-flags", "create table feature_flags (name text primary key);\ninsert into feature_flags (name) values ('a');");
    const fixed = await migrateDatabase({ ...options, migrationsFolder: folder });
    expect(fixed.applied).toEqual([broken]);
  });

  it("lets two runs started together apply the schema once", async () => {
    const { env, options } = await freshEnvironment("race");
    const [a, b] = await Promise.all([migrateDatabase(options), migrateDatabase(options)]);
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, committedMigrations().length]);
    const recorded = await query(env.adminUrl, "select filename from graphile_migrate.migrations order by filename");
    expect(recorded).toEqual(committedMigrations().map((f) => ({ filename: recordedName(f) })));
  });

  it("applies the access policy under the runner's lock: six pairs of schema runs started together all succeed", async () => {
    const { env, options } = await freshEnvironment("policy-race");
    const run = () => migrateDatabase({ ...options, underLock: () => grantPolicy(env) });
    for (let pair = 0; pair < 6; pair += 1) {
      const outcomes = await Promise.allSettled([run(), run()]);
      expect(outcomes.map((o) => (o.status === "rejected" ? String(o.reason) : "ok"))).toEqual(["ok", "ok"]);
    }
  });

  it("gives up on a lock after the timeout, tries again a bounded number of times, names who held it, and lets readers through meanwhile", async () => {
    const { env, options } = await freshEnvironment("locks");
    await migrateDatabase(options);
    await grantPolicy(env);
    const folder = copyMigrations();
    const added = commitMigration(folder, "messages-flag", "alter table game.messages add column flagged boolean not null default false;");
    // A long analytics read holds game.messages (AccessShareLock) in an open transaction.
    const reader = await holding(env.url("analytics"), "begin; select count(*) from game.messages");
    // A decoy: assets holds a lock on another table, which blocks nothing of the migration.
    const decoy = await holding(env.url("assets"), "begin; select count(*) from platform.assets");
    const lines: string[] = [];
    try {
      const run = migrateDatabase({ ...options, migrationsFolder: folder, statementLockTimeoutMs: 300, lockTries: 2, log: (line) => lines.push(line) });
      // While the migration waits in the lock queue, a chat read of the same table queues behind it: for at most the timeout.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const chat = new Client({ connectionString: env.url("chat") });
      await chat.connect();
      await chat.query("select count(*) from game.messages");
      await chat.end();
      // Only the session that blocked it, with how long the runner saw it blocking (the owner may not see its transaction's age).
      await expect(run).rejects.toThrow(
        new RegExp(
          `^migration ${added} waited longer than 300 ms for a lock and was rolled back, so that readers do not queue behind it; blocked by ${env.names.loginRole("analytics")} \\(pid \\d+, blocking it for at least [1-9]\\d* s as the runner saw it\\)\\. It was tried 2 times; nothing of it was applied\\.`,
        ),
      );
      expect(lines.filter((line) => line.includes("Trying again"))).toEqual([expect.stringContaining("Trying again (2 of 2).")]);
      expect(await query(env.adminUrl, "select count(*)::int as n from information_schema.columns where table_name = 'messages' and column_name = 'flagged'")).toEqual([{ n: 0 }]);
    } finally {
      await reader.query("rollback");
      await reader.end();
      await decoy.query("rollback");
      await decoy.end();
    }
    // The reader gone, the next run applies it.
    expect((await migrateDatabase({ ...options, migrationsFolder: folder, statementLockTimeoutMs: 300, lockTries: 2 })).applied).toEqual([added]);
  });

  it("stops a no-transaction migration that waited too long without trying it again, naming what it left", async () => {
    const { env, options } = await freshEnvironment("concurrently");
    await migrateDatabase(options);
    await grantPolicy(env);
    const folder = copyMigrations();
    const added = commitMigration(folder, "messages-index", "--! no-transaction\ncreate index concurrently messages_flag_idx on game.messages (id);\n");
    // CREATE INDEX CONCURRENTLY waits for every transaction with a snapshot to end, this one included.
    const reader = await holding(env.url("analytics"), "begin isolation level repeatable read; select count(*) from game.campaigns");
    const lines: string[] = [];
    try {
      await expect(migrateDatabase({ ...options, migrationsFolder: folder, statementLockTimeoutMs: 300, lockTries: 3, log: (line) => lines.push(line) })).rejects.toThrow(
        new RegExp(`^migration ${added} \\(no-transaction\\) waited longer than 300 ms for a lock and stopped part-way.*; what it did before is not rolled back \\(INVALID indexes now: game\\.messages_flag_idx; DROP INDEX CONCURRENTLY each\\)\\. Drop what it left`),
      );
      expect(lines.filter((line) => line.includes("Trying again"))).toEqual([]);
    } finally {
      await reader.query("rollback");
      await reader.end();
    }
    await query(env.adminUrl, "drop index concurrently game.messages_flag_idx");
    expect((await migrateDatabase({ ...options, migrationsFolder: folder })).applied).toEqual([added]);
  });

  it("names who holds the runner's lock when it is kept past the wait, in a sentence", async () => {
    const { env, options } = await freshEnvironment("held");
    await migrateDatabase(options);
    await grantPolicy(env);
    const holder = new Client({ connectionString: env.url("chat") });
    await holder.connect();
    await holder.query("select pg_advisory_lock(hashtext('gaia-migrate'))");
    // Another environment's runner holds the same key on its own database meanwhile: not this one's holder.
    const other = await freshEnvironment("held-other");
    const neighbour = new Client({ connectionString: other.env.url("owner") });
    await neighbour.connect();
    await neighbour.query("select pg_advisory_lock(hashtext('gaia-migrate'))");
    try {
      await expect(migrateDatabase({ ...options, lockTimeoutSeconds: 1 })).rejects.toThrow(
        new RegExp(`^another session holds the schema command's lock on this database \\(${env.names.loginRole("chat")}, pid \\d+\\) and kept it for 1 s: wait for that run to finish, or end that session, then run the schema command again\\.$`),
      );
    } finally {
      await holder.end();
      await neighbour.end();
    }
  });

  it("repairs a run killed in the middle: nothing half-applied, the next run applies it", async () => {
    const { env, options } = await freshEnvironment("kill");
    const folder = copyMigrations();
    await migrateDatabase({ ...options, migrationsFolder: folder });
    const slow = commitMigration(folder, "slow", "create table slow_table (id int);\nselect pg_sleep(3);");
    const runner = spawn(path.resolve("node_modules/.bin/tsx"), ["ops/migrate.ts", "apply"], {
      env: { ...process.env, GAIA_DATABASE_URL: options.connectionString, GAIA_OWNER_ROLE: options.ownerRole, GAIA_MIGRATIONS_FOLDER: folder },
      stdio: "ignore",
      detached: true,
    });
    // Kill it (SIGKILL: no cleanup of its own) while the migration runs. tsx runs the script in
    // a child process, so the whole process group goes.
    for (let i = 0; i < 100; i++) {
      const running = await query(env.adminUrl, "select 1 from pg_stat_activity where query like '%pg_sleep(3)%' and pid <> pg_backend_pid()");
      if (running.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-runner.pid!, "SIGKILL");
    await new Promise((r) => runner.once("exit", r));
    expect((await query(env.adminUrl, "select to_regclass('public.slow_table') as t"))[0]!.t).toBeNull();

    // The next run waits for the dead session's lock to go, then applies the migration whole.
    const repaired = await migrateDatabase({ ...options, migrationsFolder: folder });
    expect(repaired.applied).toEqual([slow]);
    expect((await query(env.adminUrl, "select to_regclass('public.slow_table') as t"))[0]!.t).toBe("slow_table");
  });

  it("runs as the owner group, never as a superuser", async () => {
    const { env, options } = await freshEnvironment("role");
    await migrateDatabase(options);
    const rows = await query<{ rolsuper: boolean }>(
      env.adminUrl,
      "select rolsuper from pg_roles where rolname = $1",
      [env.names.loginRole("owner")],
    );
    expect(rows[0]!.rolsuper).toBe(false);
    const owners = await query(env.adminUrl, "select distinct tableowner from pg_tables where schemaname = 'graphile_migrate'");
    expect(owners).toEqual([{ tableowner: env.names.groupRole("owner") }]);
  });
});
