import type { Client } from "pg";
import { policySql, quoteIdent, type PolicySpec } from "../../policy/grants";
import { OpsError } from "./env";

/**
 * Brings the environment's database to the access policy in one transaction: every privilege
 * any role and PUBLIC hold on the database, its schema and its tables is revoked (every table
 * of the schema must be in the policy, or nothing is changed; the database
 * is the environment's own, so every such role is one of its roles), then the policy's are granted, so other
 * sessions see the old privileges or the new ones, never a gap. A privilege the new policy keeps
 * is never missing; one it drops is gone; a removed service's role holds nothing, so it can be
 * dropped; a table dropped by a migration is simply absent from both. Runs as the owner group,
 * which owns the database and every table, so no superuser or cloud admin is needed.
 *
 * Chosen over one `postgresql.Grant` per grant: the provider replaces a grant whose objects or
 * privileges change and its delete revokes them (cyrilgdn/terraform-provider-postgresql
 * postgresql/resource_postgresql_grant.go, createRevokeQuery), so a change could revoke what
 * the new policy keeps, and a dropped table made the old grant's delete fail for good.
 */
export async function applyAccessPolicy(client: Client, spec: PolicySpec): Promise<{ statements: number }> {
  // Tables in the policy's schemas, and any left in `public` (a table there is one the policy misses).
  const { rows } = await client.query<{ table: string }>(
    "select n.nspname || '.' || c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = any($1) and c.relkind in ('r', 'p')",
    [["public", ...spec.schemas]],
  );
  // A schema the policy does not name would hold objects no check covers: refused, its
  // PUBLIC privileges taken meanwhile (a function there could read a credential table).
  const strays = await schemasBeyondThePolicy(client, spec.schemas);
  if (strays.length) {
    for (const schema of strays) await client.query(`revoke all on schema ${quoteIdent(schema)} from public`);
    throw new OpsError(
      `${strays.map((s) => `schema ${s} is in the database but not in the access policy`).join("; ")}: add it to SCHEMAS in policy/access.ts with its tables, or drop it in a migration. ` +
        "PUBLIC's privileges on it were taken; no other privilege was changed.",
    );
  }
  const live = rows.map((r) => r.table);
  const unknown = live.filter((t) => !spec.tables.includes(t));
  const missing = spec.tables.filter((t) => !live.includes(t));
  if (unknown.length || missing.length) {
    throw new OpsError(
      [
        ...unknown.map((t) => `table ${t} is in the database but not in the access policy: add it to TABLES in policy/access.ts, with its secret columns`),
        ...missing.map((t) => `table ${t} is in the access policy but not in the database: remove it from TABLES and SERVICE_ROLES in policy/access.ts, or add the migration that creates it`),
      ].join("; ") + ". No privilege was changed.",
    );
  }
  const statements = policySql(spec, await grantees(client, spec.schemas));
  await client.query("begin");
  try {
    for (const statement of statements) await client.query(statement);
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
  return { statements: statements.length };
}

/** Every role holding a privilege on this database, its schemas, their tables or columns, or a default privilege. */
async function grantees(client: Client, schemas: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<{ role: string }>(
    `select distinct pg_get_userbyid(g.grantee) as role from (
       select (aclexplode(c.relacl)).grantee from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = any($1) and c.relacl is not null
       union all select (aclexplode(a.attacl)).grantee from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = any($1) and a.attacl is not null
       union all select (aclexplode(nspacl)).grantee from pg_namespace where nspname = any($1) and nspacl is not null
       union all select (aclexplode(datacl)).grantee from pg_database where datname = current_database() and datacl is not null
       union all select (aclexplode(defaclacl)).grantee from pg_default_acl
     ) g where g.grantee <> 0 order by 1`,
    [["public", ...schemas]],
  );
  return rows.map((r) => r.role);
}

/**
 * graphile-migrate's own bookkeeping (its default schema, graphile_migrate: the runner's
 * migrations table, which ops/lib/migrations.ts reads); the owner's, and no role's else.
 */
const RUNNER_SCHEMA = "graphile_migrate";

/** Schemas of the database beyond `public` and the policy's, other than PostgreSQL's own, the runner's and those an extension made. */
export async function schemasBeyondThePolicy(client: Client, schemas: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<{ schema: string }>(
    `select nspname as schema from pg_namespace n
      where nspname <> all($1) and nspname !~ '^pg_' and nspname <> 'information_schema'
        and not exists (select 1 from pg_depend d where d.classid = 'pg_namespace'::regclass and d.objid = n.oid and d.deptype = 'e')
      order by 1`,
    [["public", RUNNER_SCHEMA, ...schemas]],
  );
  return rows.map((r) => r.schema);
}
