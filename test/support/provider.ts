import { Client } from "pg";
import { unwrap } from "../../scripts/lib/cloudMocks";
import type { PlannedResource } from "../../scripts/lib/offline";
import { withDatabase } from "./postgres";

/**
 * The statements the PostgreSQL provider (cyrilgdn/terraform-provider-postgresql at ff936b9,
 * the upstream of @pulumi/postgresql 3.18.1) runs to create a planned resource, run as the
 * connection's user. Each follows the provider's Go code, cited per method, including the
 * owner-role lending a non-superuser admin gets (helpers.go withRolesGranted) and the one it
 * does not get (database-level grants: resource_postgresql_grant.go getRolesToGrant).
 * Every notice the server sends (e.g. WARNING "no privileges were granted") is recorded.
 */
export class ProviderAsAdmin {
  readonly notices: string[] = [];
  private readonly clients = new Map<string, Client>();

  constructor(private readonly serverUrl: string) {}

  async create(resource: PlannedResource): Promise<void> {
    const i = Object.fromEntries(Object.entries(resource.inputs).map(([k, v]) => [k, unwrap(v)])) as Record<string, any>;
    switch (resource.type) {
      case "postgresql:index/role:Role":
        return this.createRole(i);
      case "postgresql:index/database:Database":
        return this.createDatabase(i);
      case "postgresql:index/grant:Grant":
        return this.createGrant(i);
      default:
        throw new Error(`no provider rendering for ${resource.type}`);
    }
  }

  async end(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.end()));
  }

  /** resource_postgresql_role.go resourcePostgreSQLRoleCreate: CREATE ROLE ... WITH <options>, then grantRoles, then setAssumeRole. */
  private async createRole(i: Record<string, any>) {
    const options = [
      ...(i.password ? ["ENCRYPTED", `PASSWORD ${literal(i.password)}`] : []),
      "VALID UNTIL 'infinity'",
      "CONNECTION LIMIT -1",
      "NOSUPERUSER",
      "NOCREATEDB",
      "NOCREATEROLE",
      i.inherit === false ? "NOINHERIT" : "INHERIT",
      i.login ? "LOGIN" : "NOLOGIN",
      "NOBYPASSRLS",
      "NOREPLICATION",
    ];
    await this.inTransaction("postgres", async (c) => {
      await c.query(`CREATE ROLE ${q(i.name)} WITH ${options.join(" ")}`);
      for (const group of (i.roles as string[] | undefined) ?? []) await c.query(`GRANT ${q(group)} TO ${q(i.name)}`);
      // setAssumeRole, after grantRoles, alterSearchPath and the timeouts.
      if (i.assumeRole) await c.query(`ALTER ROLE ${q(i.name)} SET ROLE TO ${q(i.assumeRole)}`);
    });
  }

  /**
   * resource_postgresql_database.go createDatabase: becomes a member of the owner when it is
   * not one (grantRoleMembership), creates the database, and gives the membership back.
   */
  private async createDatabase(i: Record<string, any>) {
    const c = await this.client("postgres");
    const me = await currentUser(c);
    const lent = !(await isMemberOfRole(c, i.owner, me));
    if (lent) await c.query(`GRANT ${q(i.owner)} TO ${q(me)}`);
    await c.query(`CREATE DATABASE ${q(i.name)} OWNER ${q(i.owner)} TEMPLATE ${q(i.template ?? "template0")} ENCODING ${literal(i.encoding ?? "UTF8")} ALLOW_CONNECTIONS ${i.allowConnections === false ? "false" : "true"}`);
    if (lent) await c.query(`REVOKE ${q(i.owner)} FROM ${q(me)}`);
  }

  /**
   * resource_postgresql_grant.go resourcePostgreSQLGrantCreateOrUpdate: in one transaction on
   * the database, with the owners lent (none for `database`), the revoke then the grant.
   */
  private async createGrant(i: Record<string, any>) {
    await this.inTransaction(i.database, async (c) => {
      const owners = i.objectType === "database" ? [] : await rolesToGrant(c, i.objectType, i.schema);
      await withRolesGranted(c, owners, async () => {
        await c.query(revokeQuery(i));
        if ((i.privileges as string[]).length > 0) await c.query(grantQuery(i));
      });
    });
  }

  private async client(database: string): Promise<Client> {
    let client = this.clients.get(database);
    if (!client) {
      client = new Client({ connectionString: withDatabase(this.serverUrl, database) });
      client.on("notice", (n) => void this.notices.push(`${n.severity}: ${n.message}`));
      await client.connect();
      this.clients.set(database, client);
    }
    return client;
  }

  private async inTransaction(database: string, work: (c: Client) => Promise<void>) {
    const c = await this.client(database);
    await c.query("BEGIN");
    try {
      await work(c);
      await c.query("COMMIT");
    } catch (error) {
      await c.query("ROLLBACK");
      throw error;
    }
  }
}

const q = (name: string) => `"${String(name).replace(/"/g, '""')}"`;
const literal = (value: string) => `'${String(value).replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
const idents = (schema: string, objects: string[]) => objects.map((o) => `${q(schema)}.${q(o)}`).join(",");

async function currentUser(c: Client): Promise<string> {
  return (await c.query<{ u: string }>("SELECT CURRENT_USER AS u")).rows[0]!.u;
}

/** helpers.go isMemberOfRole: on PostgreSQL 16+ only a membership with SET counts. */
async function isMemberOfRole(c: Client, role: string, member: string): Promise<boolean> {
  const setOption = (await c.query("SELECT 1 FROM information_schema.columns WHERE table_name='pg_auth_members' AND column_name = 'set_option'")).rowCount! > 0;
  const { rowCount } = await c.query(
    `SELECT 1 FROM pg_auth_members WHERE pg_get_userbyid(roleid) = $1 AND pg_get_userbyid(member) = $2${setOption ? " AND set_option" : ""}`,
    [role, member],
  );
  return rowCount! > 0;
}

/** resource_postgresql_grant.go getRolesToGrant: owners of the schema's tables and the schema, pg_database_owner resolved. */
async function rolesToGrant(c: Client, objectType: string, schema: string): Promise<string[]> {
  const owners = objectType === "schema" ? [] : (await c.query<{ o: string }>("SELECT DISTINCT tableowner AS o FROM pg_tables WHERE schemaname = $1", [schema])).rows.map((r) => r.o);
  const schemaOwner = (await c.query<{ o: string }>("SELECT pg_get_userbyid(nspowner) AS o FROM pg_namespace WHERE nspname = $1", [schema])).rows[0]!.o;
  if (!owners.includes(schemaOwner)) owners.push(schemaOwner);
  const databaseOwner = (await c.query<{ o: string }>("SELECT pg_get_userbyid(datdba) AS o FROM pg_database WHERE datname = current_database()")).rows[0]!.o;
  return owners.map((o) => (o === "pg_database_owner" ? databaseOwner : o));
}

/** helpers.go withRolesGranted: lends each non-superuser owner the admin is not a member of, for `work`. */
async function withRolesGranted(c: Client, roles: string[], work: () => Promise<void>) {
  if (roles.length === 0) return work();
  const me = await currentUser(c);
  const isSuper = async (role: string) => (await c.query<{ s: boolean }>("SELECT rolsuper AS s FROM pg_roles WHERE rolname = $1", [role])).rows[0]?.s === true;
  if (await isSuper(me)) return work();
  const granted: string[] = [];
  for (const role of roles) {
    if (role === me || (await isSuper(role)) || (await isMemberOfRole(c, role, me))) continue;
    await c.query(`GRANT ${q(role)} TO ${q(me)}`);
    granted.push(role);
  }
  await work();
  for (const role of granted) await c.query(`REVOKE ${q(role)} FROM ${q(me)}`);
}

/** resource_postgresql_grant.go createGrantQuery. */
function grantQuery(i: Record<string, any>): string {
  const privileges = (i.privileges as string[]).join(",");
  switch (i.objectType) {
    case "database":
      return `GRANT ${privileges} ON DATABASE ${q(i.database)} TO ${q(i.role)}`;
    case "schema":
      return `GRANT ${privileges} ON SCHEMA ${q(i.schema)} TO ${q(i.role)}`;
    case "column":
      return `GRANT ${privileges} (${(i.columns as string[]).map(q).join(",")}) ON TABLE ${idents(i.schema, i.objects)} TO ${q(i.role)}`;
    default:
      return `GRANT ${privileges} ON ${String(i.objectType).toUpperCase()} ${idents(i.schema, i.objects)} TO ${q(i.role)}`;
  }
}

/** resource_postgresql_grant.go createRevokeQuery (run before every grant). */
function revokeQuery(i: Record<string, any>): string {
  const privileges = i.privileges as string[];
  switch (i.objectType) {
    case "database":
      return `REVOKE ALL PRIVILEGES ON DATABASE ${q(i.database)} FROM ${q(i.role)}`;
    case "schema":
      return `REVOKE ALL PRIVILEGES ON SCHEMA ${q(i.schema)} FROM ${q(i.role)}`;
    case "column":
      return privileges.length === 0 ? "SELECT NULL" : `REVOKE ${privileges.join(",")} (${(i.columns as string[]).map(q).join(",")}) ON TABLE ${idents(i.schema, i.objects)} FROM ${q(i.role)}`;
    default:
      return privileges.length > 0
        ? `REVOKE ${privileges.join(",")} ON ${String(i.objectType).toUpperCase()} ${idents(i.schema, i.objects)} FROM ${q(i.role)}`
        : `REVOKE ALL PRIVILEGES ON ${String(i.objectType).toUpperCase()} ${idents(i.schema, i.objects)} FROM ${q(i.role)}`;
  }
}
