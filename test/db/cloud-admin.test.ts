import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPrivileges } from "../../ops/lib/privileges";
import { environmentNames } from "../../policy/naming";
import type { EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { startTestPostgres } from "../support/embedded";
import { planStack, type StackPlan } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { runPlanned } from "../support/planned";
import { ProviderAsAdmin } from "../support/provider";
import { passwordClause, withClient, withDatabase } from "../support/postgres";
import { stackOn } from "../support/stacks";

/**
 * The AWS and GCP stacks' database resources, applied on a real PostgreSQL 17 the way the
 * provider applies them, connected as an admin like RDS's master user or a Cloud SQL user:
 * LOGIN, CREATEROLE, CREATEDB, a member of the platform's admin group, no superuser, owning
 * nothing ("Understanding the rds_superuser role", AWS RDS user guide;
 * https://cloud.google.com/sql/docs/postgres/users).
 */
let server: EmbeddedServer;
const ADMIN = "gaia_admin";
const ADMIN_PASSWORD = randomBytes(18).toString("base64url");

beforeAll(async () => {
  server = await startTestPostgres("cloud-admin");
  await withClient(server.url, async (su) => {
    await su.query("create role rds_superuser nologin");
    await su.query(`create role ${ADMIN} login createrole createdb ${passwordClause(ADMIN, ADMIN_PASSWORD)} in role rds_superuser`);
  });
});

afterAll(async () => {
  await server?.stop();
});

const adminUrl = () => withDatabase(server.url, "postgres", ADMIN, ADMIN_PASSWORD);

/**
 * Every PostgreSQL resource of the plan, in the plan's order, as the provider applies it
 * connected as the admin, and the schema command (migrations and access policy, as the owner).
 */
async function applyAsCloudAdmin(plan: StackPlan): Promise<ProviderAsAdmin> {
  const provider = new ProviderAsAdmin(adminUrl());
  try {
    for (const r of plan.resources) {
      if (r.type.startsWith("postgresql:index/") && r.type !== "postgresql:index/extension:Extension") await provider.create(r);
      if (r.type === "command:local:Command" && r.name.endsWith("-schema")) {
        const names = environmentNames(plan.stack);
        const owner = (plan.outputs.connectionUrls!.value as Record<string, string>).owner!;
        const password = decodeURIComponent(new URL(owner).password);
        const run = runPlanned(r, "create", {
          GAIA_DATABASE_URL: withDatabase(server.url, names.database, names.loginRole("owner"), password),
          GAIA_DATABASE_CA: "",
        });
        expect(run.stderr).toBe("");
        expect(run.status).toBe(0);
      }
    }
  } finally {
    await provider.end();
  }
  return provider;
}

describe.each(["aws", "gcp"] as const)("the %s stack's database resources, applied as the cloud admin", (platform) => {
  const stack = `ca${platform}-${randomBytes(3).toString("hex")}`;
  const names = environmentNames(stack);
  let provider: ProviderAsAdmin;

  beforeAll(async () => {
    const plan = await planStack(stack, { ...stackOn("staging", platform), "gaia:preset": "staging" });
    provider = await applyAsCloudAdmin(plan);
  });

  it("takes effect with no warning from PostgreSQL", () => {
    expect(provider.notices.filter((n) => /^WARNING/.test(n))).toEqual([]);
  });

  it("lets the admin connect to the database, where the provider creates and reads the extensions (resource_postgresql_extension.go startTransaction)", async () => {
    const extensions = (await planStack(stack, { ...stackOn("staging", platform), "gaia:preset": "staging" })).resources.filter((r) => r.type === "postgresql:index/extension:Extension");
    expect(extensions.length).toBeGreaterThan(0);
    // What the provider's create and read of an extension do first, as the admin (resource_postgresql_extension.go).
    await withClient(withDatabase(server.url, names.database, ADMIN, ADMIN_PASSWORD), (c) => c.query("select extname from pg_catalog.pg_extension"));
    // CONNECT only: nothing of the schema.
    await withClient(withDatabase(server.url, names.database), async (c) => {
      const { rows } = await c.query("select has_schema_privilege($1, 'auth', 'USAGE') as usage, has_database_privilege($1, current_database(), 'CREATE') as create", [ADMIN]);
      expect(rows[0]).toEqual({ usage: false, create: false });
    });
  });

  it("leaves exactly the access policy's privileges, and PUBLIC without CONNECT or TEMP", async () => {
    await withClient(withDatabase(server.url, names.database), async (client) => {
      expect((await checkPrivileges(client, names)).problems).toEqual([]);
      const { rows } = await client.query(
        "select has_database_privilege('public', current_database(), 'CONNECT') as connect, has_database_privilege('public', current_database(), 'TEMP') as temp",
      );
      expect(rows[0]).toEqual({ connect: false, temp: false });
      const owner = await client.query("select pg_get_userbyid(datdba) as owner from pg_database where datname = current_database()");
      expect(owner.rows[0].owner).toBe(names.groupRole("owner"));
      const admin = await client.query("select rolsuper from pg_roles where rolname = $1", [ADMIN]);
      expect(admin.rows[0].rolsuper).toBe(false);
    });
  });
});

describe("a neighbour on the same server", () => {
  const local = (stack: string) => ({ ...readStackFile("local").config, "gaia:environment": stack, "gaia:local": JSON.stringify({ postgresUrl: server.url, redisUrl: "redis://127.0.0.1:6379" }) });
  it.each([
    ["the cloud admin", "aws", (_stack: string) => ({ ...stackOn("staging", "aws"), "gaia:preset": "staging" }), () => adminUrl()],
    ["a superuser (a shared local server)", "local", local, () => server.url],
  ] as const)("never connects to a database %s creates: closed until the schema command, then without PUBLIC's CONNECT", async (_who, platform, config, url) => {
    const stack = `canb${platform}-${randomBytes(3).toString("hex")}`;
    const names = environmentNames(stack);
    const plan = await planStack(stack, config(stack), ["gaia:local"]);
    const provider = new ProviderAsAdmin(url());
    try {
      // The provider's resources, in the plan's order: the schema command has not run.
      for (const r of plan.resources) if (r.type.startsWith("postgresql:index/") && r.type !== "postgresql:index/extension:Extension") await provider.create(r);
    } finally {
      await provider.end();
    }
    const neighbour = `gaia_neighbour_${randomBytes(3).toString("hex")}`;
    const password = randomBytes(18).toString("base64url");
    await withClient(server.url, (su) => su.query(`create role ${neighbour} login ${passwordClause(neighbour, password)}`));
    const asNeighbour = () => withClient(withDatabase(server.url, names.database, neighbour, password), (c) => c.query("select 1"));
    await expect(asNeighbour()).rejects.toThrow(`database "${names.database}" is not currently accepting connections`);

    const owner = decodeURIComponent(new URL((plan.outputs.connectionUrls!.value as Record<string, string>).owner!).password);
    const run = runPlanned(plan.resources.find((r) => r.name.endsWith("-schema"))!, "create", {
      GAIA_DATABASE_URL: withDatabase(server.url, names.database, names.loginRole("owner"), owner),
      GAIA_DATABASE_CA: "",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    await expect(asNeighbour()).rejects.toThrow(`permission denied for database "${names.database}"`);
    await withClient(withDatabase(server.url, names.database, names.loginRole("owner"), owner), (c) => c.query("select 1"));
  });
});

describe("database-level grants by the cloud admin", () => {
  it("are ignored by PostgreSQL with a warning, and PUBLIC keeps CONNECT: why the database is made closed and opened by its owner", async () => {
    const stack = `canomember-${randomBytes(3).toString("hex")}`;
    const plan = await planStack(stack, { ...stackOn("staging", "aws"), "gaia:preset": "staging" });
    const database = environmentNames(stack).database;
    const provider = new ProviderAsAdmin(adminUrl());
    try {
      // An open database, as the provider makes by default, and a postgresql.Grant to take PUBLIC's CONNECT.
      for (const r of plan.resources.filter((r) => r.type === "postgresql:index/role:Role" || r.type === "postgresql:index/database:Database")) await provider.create({ ...r, inputs: { ...r.inputs, allowConnections: true } });
      // What a postgresql.Grant with objectType "database" does as this admin (resource_postgresql_grant.go).
      await provider.create({ type: "postgresql:index/grant:Grant", name: "g", parent: undefined, custom: true, protect: false, retainOnDelete: false, deletedWith: undefined, provider: undefined, replaceWith: [], dependsOn: [], inputs: { database, role: "public", objectType: "database", privileges: [] } });
    } finally {
      await provider.end();
    }
    expect(provider.notices).toContain(`WARNING: no privileges could be revoked for "${database}"`);
    await withClient(withDatabase(server.url, database), async (client) => {
      const { rows } = await client.query("select has_database_privilege('public', current_database(), 'CONNECT') as connect");
      expect(rows[0].connect).toBe(true);
    });
  });
});

describe("the admin's rotation", () => {
  it("leaves the provider managing the database with the new password; the old one is refused, open sessions go on", async () => {
    const stack = `carotate-${randomBytes(3).toString("hex")}`;
    const names = environmentNames(stack);
    const config = { ...stackOn("staging", "aws"), "gaia:preset": "staging" };
    const rotated = await planStack(stack, { ...config, "gaia:rotation": JSON.stringify({ admin: 1 }) });
    const before = decodeURIComponent(new URL(String((await planStack(stack, config)).outputs.adminUrl!.value)).password);
    const after = decodeURIComponent(new URL(String(rotated.outputs.adminUrl!.value)).password);
    expect(after).not.toBe(before);

    const rotatedAdmin = `${ADMIN}_${randomBytes(2).toString("hex")}`;
    await withClient(server.url, (su) => su.query(`create role ${rotatedAdmin} login createrole createdb ${passwordClause(rotatedAdmin, before)} in role rds_superuser`));
    await withClient(withDatabase(server.url, "postgres", rotatedAdmin, before), async (session) => {
      // What RDS does with ModifyDBInstance MasterUserPassword: the master user's password, changed by the service.
      await withClient(server.url, (su) => su.query(`alter role ${rotatedAdmin} ${passwordClause(rotatedAdmin, after)}`));
      await expect(withClient(withDatabase(server.url, "postgres", rotatedAdmin, before), (c) => c.query("select 1"))).rejects.toThrow(/password authentication failed/);
      // The provider, configured with the rotated plan's password, creates this stack's roles and database.
      const provider = new ProviderAsAdmin(withDatabase(server.url, "postgres", rotatedAdmin, after));
      try {
        for (const r of rotated.resources.filter((r) => r.type === "postgresql:index/role:Role" || r.type === "postgresql:index/database:Database")) await provider.create(r);
      } finally {
        await provider.end();
      }
      expect((await session.query("select current_user as u")).rows[0].u).toBe(rotatedAdmin);
    });
    await withClient(server.url, async (su) => {
      const { rows } = await su.query("select datname from pg_database where datname = $1", [names.database]);
      expect(rows).toHaveLength(1);
    });
  });
});
