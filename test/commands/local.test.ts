import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../ops/lib/hash";
import { checkPrivileges } from "../../ops/lib/privileges";
import { ACCESS_POLICY, SCHEMA_NAMES, SERVICE_ROLE_NAMES, TABLE_NAMES } from "../../policy/access";
import { policySpec } from "../../policy/grants";
import { environmentNames } from "../../policy/naming";
import { unwrap } from "../../scripts/lib/cloudMocks";
import type { EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { startTestPostgres } from "../support/embedded";
import { PROJECT_ROOT, planStack, type PlannedResource, type StackPlan } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { commitMigration, committedMigrations, copyMigrations } from "../support/migrations";
import { createPlannedRoles, dropPlannedRoles, generatedSecrets, runPlanned, type CommandRun } from "../support/planned";
import { withClient, withDatabase } from "../support/postgres";
import { withRedis } from "../support/redis";
import { one } from "../support/stacks";

const REDIS = "redis://127.0.0.1:6379";
let server: EmbeddedServer;
let plan: StackPlan;
let schema: PlannedResource;
let redisUser: PlannedResource;
const printed: CommandRun[] = [];
const stack = `ci-${randomBytes(3).toString("hex")}`;
const names = environmentNames(stack);

/** The committed local stack file, under a unique name, pointed at a server that checks passwords. */
async function planLocal(stackName: string): Promise<StackPlan> {
  const { config } = readStackFile("local");
  return planStack(stackName, { ...config, "gaia:environment": stackName, "gaia:local": JSON.stringify({ postgresUrl: server.url, redisUrl: REDIS }) }, ["gaia:local"]);
}

function run(resource: PlannedResource, verb: "create" | "update" | "delete", override?: Record<string, string>): CommandRun {
  const result = runPlanned(resource, verb, override);
  printed.push(result);
  return result;
}

async function redisAs(user: string, password: string) {
  const client = createClient({ url: REDIS, username: user, password, socket: { reconnectStrategy: false } });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

const noperm = (promise: Promise<unknown>) => promise.then(() => "ok", (e: Error) => (/NOPERM/.test(e.message) ? "NOPERM" : e.message));

beforeAll(async () => {
  server = await startTestPostgres("commands-pg");
  plan = await planLocal(stack);
  schema = one(plan, "command:local:Command", `${names.resourcePrefix}-schema`);
  redisUser = one(plan, "command:local:Command", `${names.resourcePrefix}-redis-acl-user`);
  await createPlannedRoles(plan, server.url);
});

afterAll(async () => {
  if (redisUser) runPlanned(redisUser, "delete");
  if (plan) await dropPlannedRoles(plan, server.url);
  await server?.stop();
});

describe("the local stack's command resources, run as planned against real servers", () => {
  it("applies the schema from nothing, changes nothing on a second create, and yields the access policy", async () => {
    const first = run(schema, "create");
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`(${committedMigrations().length} migration(s) applied)`);
    const again = run(schema, "create");
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/0 migration\(s\) applied/);

    const dbUrl = withDatabase(server.url, names.database);
    // The same check an operator runs after `pulumi up`, as its command.
    const check = spawnSync("node_modules/.bin/tsx", ["ops/check-privileges.ts"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, GAIA_ENVIRONMENT: stack, GAIA_DATABASE_URL: dbUrl },
      encoding: "utf8",
    });
    expect(check.stderr).toBe("");
    // Each login (two for the owner, analytics and each service) and PUBLIC, against every table and
    // schema: 143 and 44 for chat, assets and auth.
    const grantees = 2 * (2 + SERVICE_ROLE_NAMES.length) + 1;
    expect(check.stdout).toContain(`privileges match the access policy (${grantees * TABLE_NAMES.length} role/table and ${grantees * SCHEMA_NAMES.length} role/schema pairs)`);
    await withClient(dbUrl, async (client) => {
      expect((await checkPrivileges(client, names)).problems).toEqual([]);
      const adminKey = String(plan.outputs.adminApiKey!.value);
      const keys = await client.query("select key_hash from auth.api_keys k join auth.users u on u.id = k.user_id where u.is_admin and k.is_active");
      expect(keys.rows).toEqual([{ key_hash: sha256Hex(adminKey) }]);
    });
  });

  it("collects statistics through pg_stat_statements, created by the admin as the plan's Extension does", async () => {
    const extension = one(plan, "postgresql:index/extension:Extension");
    await withClient(withDatabase(server.url, names.database), async (admin) => {
      await admin.query(`create extension if not exists ${String(extension.inputs.name)}`);
      const { rows } = await admin.query("select count(*)::int as n from pg_stat_statements");
      expect(rows[0].n).toBeGreaterThan(0);
    });
  });

  it("lets each role log in with its generated password, and refuses a wrong one", async () => {
    const urls = plan.outputs.connectionUrls!.value as Record<string, string>;
    for (const url of Object.values(urls)) {
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.end();
    }
    const wrong = new Client({ connectionString: urls.chat!.replace(/:[^:@/]+@/, ":not-the-password@") });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
  });

  it("creates the Redis user, confined to the environment's prefix and kept from admin commands", async () => {
    // Only this run's two users: other suites (a walkthrough's nested run) share the server.
    const ours = async () =>
      ((await withRedis(REDIS, (admin) => admin.sendCommand(["ACL", "USERS"]))) as string[]).filter((u) =>
        [names.redisUser, environmentNames(`${stack}-b`).redisUser].includes(u),
      );
    expect(await ours()).toEqual([]);
    const created = run(redisUser, "create");
    expect(created.status).toBe(0);
    expect(run(redisUser, "create").status).toBe(0);

    const password = String(unwrap((unwrap(redisUser.inputs.environment) as Record<string, unknown>).GAIA_REDIS_PASSWORD));
    const user = await redisAs(names.redisUser, password);
    try {
      await user.set(`${names.redisKeyPrefix}session:1`, "v");
      expect(await user.get(`${names.redisKeyPrefix}session:1`)).toBe("v");
      expect(await noperm(user.set("unprefixed", "v"))).toBe("NOPERM");
      expect(await noperm(user.get("gaia:other-env:session:1"))).toBe("NOPERM");
      expect(await noperm(user.sendCommand(["CONFIG", "GET", "maxmemory"]))).toBe("NOPERM");
      expect(await noperm(user.sendCommand(["FLUSHALL"]))).toBe("NOPERM");
      expect(await noperm(user.sendCommand(["KEYS", "*"]))).toBe("NOPERM");
    } finally {
      await user.quit();
    }

    // Nor list them: every command the server files under @keyspace or @pubsub that names no key or channel (its own COMMAND INFO:
    // no key specs, no first key), dry-run as the user (ACL DRYRUN, Redis 7), is refused, and the user's own work still runs.
    const listing = await keyspaceListingCommands();
    expect(listing).toEqual(expect.arrayContaining(["scan", "randomkey", "dbsize", "pubsub|channels"]));
    for (const command of listing) {
      const reply = String(await withRedis(REDIS, (admin) => admin.sendCommand(["ACL", "DRYRUN", names.redisUser, ...dryRunArgs(command)])));
      expect(`${command}: ${reply}`).toMatch(new RegExp(`^${command.replace("|", "\\|")}: (?!OK$)`));
    }
    for (const allowed of [["GET", `${names.redisKeyPrefix}x`], ["PUBLISH", `${names.redisKeyPrefix}events`, "m"], ["PING"]]) {
      expect(String(await withRedis(REDIS, (admin) => admin.sendCommand(["ACL", "DRYRUN", names.redisUser, ...allowed])))).toBe("OK");
    }

    // A second environment on the same server cannot see this one's keys.
    const otherPlan = await planLocal(`${stack}-b`);
    const otherUser = one(otherPlan, "command:local:Command", `${environmentNames(`${stack}-b`).resourcePrefix}-redis-acl-user`);
    expect(run(otherUser, "create").status).toBe(0);
    const otherPassword = String(unwrap((unwrap(otherUser.inputs.environment) as Record<string, unknown>).GAIA_REDIS_PASSWORD));
    const other = await redisAs(environmentNames(`${stack}-b`).redisUser, otherPassword);
    try {
      expect(await noperm(other.get(`${names.redisKeyPrefix}session:1`))).toBe("NOPERM");
    } finally {
      await other.quit();
      expect(run(otherUser, "delete").status).toBe(0);
    }

    const deleted = run(redisUser, "delete");
    expect(deleted.status).toBe(0);
    expect(deleted.stdout).toMatch(/1 key\(s\)/);
    expect(await ours()).toEqual([]);
    expect(await withRedis(REDIS, (admin) => admin.exists(`${names.redisKeyPrefix}session:1`))).toBe(0);
  });

  it("fails with a sentence that names the fix on a bad connection or a wrong password, and succeeds after the fix", () => {
    const env = unwrap(schema.inputs.environment) as Record<string, unknown>;
    const url = new URL(String(unwrap(env.GAIA_DATABASE_URL)));

    const unreachable = new URL(url);
    unreachable.port = "1";
    const refused = run(schema, "create", { GAIA_DATABASE_URL: unreachable.toString() });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/cannot reach PostgreSQL for role "gaia_ci-?[^"]*" at 127\.0\.0\.1:1\/.*gaia:management\.host \/ gaia:management\.port point at it/);

    const wrongPassword = new URL(url);
    wrongPassword.password = "stale-password";
    const denied = run(schema, "create", { GAIA_DATABASE_URL: wrongPassword.toString() });
    expect(denied.status).toBe(1);
    expect(denied.stderr).toMatch(/password authentication failed for role ".*_owner_a".*run `pulumi up` again/);

    const redisDown = run(redisUser, "create", { GAIA_REDIS_ADMIN_URL: "redis://127.0.0.1:1" });
    expect(redisDown.status).toBe(1);
    expect(redisDown.stderr).toMatch(/cannot reach Redis at 127\.0\.0\.1:1 .*gaia:local\.redisUrl/);

    expect(run(schema, "create").status).toBe(0);
    expect(run(redisUser, "create").status).toBe(0);
  });

  it("applies just the new migration on update, and refuses to leave its table outside the policy", async () => {
    const folder = copyMigrations();
    const added = commitMigration(folder, "feature-flags", "create table platform.feature_flags (name text primary key, enabled boolean not null default false);");
    const unlisted = run(schema, "update", { GAIA_MIGRATIONS_FOLDER: folder });
    expect(unlisted.status).toBe(1);
    expect(unlisted.stdout).toContain(`Running migration '${added}'`);
    for (const earlier of committedMigrations()) expect(unlisted.stdout).not.toContain(earlier);
    expect(unlisted.stderr).toBe(
      "error: table platform.feature_flags is in the database but not in the access policy: add it to TABLES in policy/access.ts, with its secret columns. No privilege was changed.\n",
    );
    // The policy with the table, as the next plan would carry it.
    const policy = policySpec(names, undefined, { ...ACCESS_POLICY, tables: { ...ACCESS_POLICY.tables, "platform.feature_flags": {} } });
    const listed = run(schema, "update", { GAIA_MIGRATIONS_FOLDER: folder, GAIA_ACCESS_POLICY: JSON.stringify(policy) });
    expect(listed.stderr).toBe("");
    expect(listed.stdout).toMatch(/0 migration\(s\) applied/);
    expect(listed.stdout).toMatch(/access policy applied/);
    await withClient(withDatabase(server.url, names.database), async (client) => {
      const { rows } = await client.query("select has_table_privilege($1, 'platform.feature_flags', 'SELECT') as analytics, has_table_privilege($2, 'platform.feature_flags', 'SELECT') as chat", [
        names.loginRole("analytics"),
        names.loginRole("chat"),
      ]);
      expect(rows[0]).toEqual({ analytics: true, chat: false });
    });
  });

  it("never prints a generated password", () => {
    const secrets = generatedSecrets(plan);
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    expect(printed.length).toBeGreaterThan(8);
    for (const output of printed) {
      for (const secret of [...secrets, server.password]) {
        expect(output.stdout + output.stderr).not.toContain(secret);
      }
    }
  });
});

/** Each command (and subcommand, as `pubsub|channels`) that COMMAND INFO files under @keyspace or @pubsub and that names no key or channel. */
async function keyspaceListingCommands(): Promise<string[]> {
  type Info = [string, number, string[], number, number, number, string[], unknown, unknown[], Info[]?];
  const infos = (await withRedis(REDIS, (admin) => admin.sendCommand(["COMMAND", "INFO"]))) as Info[];
  const listing: string[] = [];
  const visit = (info: Info) => {
    const [name, , flags, firstKey, , , categories, , keySpecs, subcommands] = info;
    if (subcommands?.length) return subcommands.forEach(visit);
    const namesNoKey = firstKey === 0 && (keySpecs ?? []).length === 0;
    // PUBSUB NUMSUB and SHARDNUMSUB name their channels; PUBLISH, SUBSCRIBE and the rest name one too.
    const namesChannels = /^(?:publish|spublish|subscribe|ssubscribe|psubscribe|unsubscribe|sunsubscribe|punsubscribe|pubsub\|(?:numsub|shardnumsub|help))$/.test(name);
    const listsKeyspace = categories.includes("@keyspace") && !flags.includes("admin") && !categories.includes("@dangerous");
    if (namesNoKey && !namesChannels && (listsKeyspace || categories.includes("@pubsub"))) listing.push(name);
  };
  infos.filter(Boolean).forEach(visit);
  return listing.sort();
}

/** A command's name and as many placeholder arguments as its arity asks for, for ACL DRYRUN. */
function dryRunArgs(command: string): string[] {
  return command === "scan" ? ["SCAN", "0"] : command.split("|").map((word) => word.toUpperCase());
}
