import { ACCESS_POLICY, PRIVILEGES, SERVICE_ROLE_NAMES, analyticsColumns, schemaOf, schemasFor, type AccessPolicy, type Privilege, type ServiceRole } from "./access";
import type { EnvironmentNames } from "./naming";

/**
 * The access policy as an ordered list of grants, independent of how they are applied
 * (ops/lib/policy.ts applies them in one transaction, after revoking what is there).
 * An empty privilege list means "nothing".
 */
export type Grant =
  | { kind: "database"; role: string; privileges: readonly string[] }
  | { kind: "schema"; role: string; schemas: readonly string[]; privileges: readonly string[] }
  | { kind: "table"; role: string; tables: readonly string[]; privileges: readonly Privilege[] }
  | { kind: "column"; role: string; table: string; columns: readonly string[]; privileges: readonly Privilege[] };

/** The schemas of a policy, in the order its tables name them. */
export const policySchemas = (policy: AccessPolicy = ACCESS_POLICY): string[] => [...new Set(Object.keys(policy.tables).map(schemaOf))];

export const PUBLIC_ROLE = "public";

/** The roles of an environment: owner, analytics and the services it runs (default: all). */
export function policyRoles(services: readonly string[] = SERVICE_ROLE_NAMES): string[] {
  return ["owner", "analytics", ...services];
}

/**
 * `admin`: a platform admin that is no superuser (RDS's master user, a Cloud SQL user), which
 * the provider connects as to the database to create and read its extensions
 * (resource_postgresql_extension.go, startTransaction on the extension's database): with
 * PUBLIC's CONNECT taken, and no membership in the owner group (PostgreSQL 16+ gives its
 * creator ADMIN only, neither INHERIT nor SET), it may connect only by a grant of its own.
 * CONNECT alone, what PUBLIC's gave it before: no schema, table or default privilege.
 */
export function grantsFor(names: EnvironmentNames, services: readonly string[] = SERVICE_ROLE_NAMES, policy: AccessPolicy = ACCESS_POLICY, admin?: string): Grant[] {
  const group = (role: string) => names.groupRole(role);
  const readers = ["analytics", ...services];
  const grants: Grant[] = [
    // Only this environment's roles may connect; PUBLIC may neither connect nor create.
    { kind: "database", role: PUBLIC_ROLE, privileges: [] },
    ...(admin ? [{ kind: "database", role: admin, privileges: ["CONNECT"] } as const] : []),
    // The owner keeps what database owners have: migrations create schemas.
    { kind: "database", role: group("owner"), privileges: ["CONNECT", "CREATE", "TEMPORARY"] },
    ...readers.map((role): Grant => ({ kind: "database", role: group(role), privileges: ["CONNECT"] })),
    // Each role uses the schemas of its tables only; the owner creates in all of them.
    { kind: "schema", role: group("owner"), schemas: policySchemas(policy), privileges: ["USAGE", "CREATE"] },
    ...readers.map((role): Grant => ({ kind: "schema", role: group(role), schemas: schemasFor(role, policy), privileges: ["USAGE"] })),
  ];

  const tables = Object.keys(policy.tables);
  const wholeTables = tables.filter((t) => analyticsColumns(t, policy) === null);
  const secretTables = tables.filter((t) => analyticsColumns(t, policy) !== null);
  if (wholeTables.length) grants.push({ kind: "table", role: group("analytics"), tables: wholeTables, privileges: ["SELECT"] });
  // Where a table holds credentials, analytics gets the readable columns only.
  for (const table of secretTables) {
    grants.push({ kind: "column", role: group("analytics"), table, columns: analyticsColumns(table, policy)!, privileges: ["SELECT"] });
  }

  for (const service of services) {
    const role: ServiceRole | undefined = policy.services[service];
    for (const [privileges, tables] of tablesByPrivileges(role?.tables ?? {}, Object.keys(policy.tables))) {
      grants.push({ kind: "table", role: group(service), tables, privileges });
    }
  }
  return grants;
}

/** Groups a role's tables by identical privilege sets, so each set is one grant. */
function tablesByPrivileges(tables: ServiceRole["tables"], order: readonly string[]): [readonly Privilege[], string[]][] {
  const groups = new Map<string, [readonly Privilege[], string[]]>();
  for (const table of order) {
    const privileges = tables[table];
    if (!privileges || privileges.length === 0) continue;
    const ordered = PRIVILEGES.filter((p) => privileges.includes(p));
    const key = ordered.join(",");
    const entry = groups.get(key) ?? [ordered, []];
    entry[1].push(table);
    groups.set(key, entry);
  }
  return [...groups.values()];
}

/** PostgreSQL's quote_ident, always quoting: an identifier whatever it holds. */
export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const grantee = (role: string) => (role === PUBLIC_ROLE ? "PUBLIC" : quoteIdent(role));
const qualified = (table: string) => `${quoteIdent(schemaOf(table))}.${quoteIdent(table.slice(table.indexOf(".") + 1))}`;

/** One grant as a GRANT statement; none for an empty privilege list. */
export function grantToSql(g: Grant, database: string): string[] {
  if (g.privileges.length === 0 || (g.kind === "schema" && g.schemas.length === 0)) return [];
  const to = grantee(g.role);
  switch (g.kind) {
    case "database":
      return [`GRANT ${g.privileges.join(", ")} ON DATABASE ${quoteIdent(database)} TO ${to}`];
    case "schema":
      return [`GRANT ${g.privileges.join(", ")} ON SCHEMA ${g.schemas.map(quoteIdent).join(", ")} TO ${to}`];
    case "table":
      return [`GRANT ${g.privileges.join(", ")} ON TABLE ${g.tables.map(qualified).join(", ")} TO ${to}`];
    case "column":
      return [`GRANT ${g.privileges.map((p) => `${p} (${g.columns.map(quoteIdent).join(", ")})`).join(", ")} ON TABLE ${qualified(g.table)} TO ${to}`];
  }
}

/**
 * Everything the given roles (and PUBLIC) hold on the database, its schemas and every object in
 * them, taken away: the first half of bringing a database to the policy. The owner keeps what it
 * owns (revoking from it would strip an owner's own rights).
 *
 * Every object, not only the policy's tables: a view, materialized view, sequence or function a
 * migration adds gets no privilege for anyone but the owner until the policy names it (a view
 * over auth.users would otherwise hand its columns to whoever the view was granted to). And no
 * default privilege is left for anyone (the owner's defaults in each schema, and its global
 * default that gives PUBLIC EXECUTE on every new function: PostgreSQL docs, "ALTER DEFAULT
 * PRIVILEGES" and 5.8 "Privileges", table 5.2). Trigger functions need no EXECUTE to fire
 * (CREATE TRIGGER checks it once, as the owner), which are the only functions the schema has.
 */
export function revokeAllSql(roles: readonly string[], owner: string, database: string, tables: readonly string[], schemas: readonly string[]): string[] {
  // Table by table in `public`: it holds what extensions make (pg_stat_statements' views,
  // owned by a superuser), which is not the environment's to change; on `public` itself, only
  // what was granted (CREATE and USAGE from PUBLIC, as every database has them by default).
  // In the policy's schemas, which only migrations fill, every object of every kind.
  const all = ["public", ...schemas];
  const inSchemas = schemas.map(quoteIdent).join(", ");
  return [
    ...[...roles.filter((r) => r !== owner), PUBLIC_ROLE].flatMap((role) => [
      ...(tables.length ? [`REVOKE ALL ON TABLE ${tables.map(qualified).join(", ")} FROM ${grantee(role)}`] : []),
      // ROUTINES, not FUNCTIONS: ALL FUNCTIONS leaves procedures out (PostgreSQL docs, GRANT), and a
      // first schema run's migrations make theirs before any default privilege is taken from PUBLIC.
      ...(schemas.length ? ["TABLES", "SEQUENCES", "ROUTINES"].map((kind) => `REVOKE ALL ON ALL ${kind} IN SCHEMA ${inSchemas} FROM ${grantee(role)}`) : []),
      `REVOKE ALL ON SCHEMA ${all.map(quoteIdent).join(", ")} FROM ${grantee(role)}`,
      `REVOKE ALL ON DATABASE ${quoteIdent(database)} FROM ${grantee(role)}`,
      ...all.flatMap((schema) =>
        ["TABLES", "SEQUENCES", "FUNCTIONS", "TYPES"].map((kind) => `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(owner)} IN SCHEMA ${quoteIdent(schema)} REVOKE ALL ON ${kind} FROM ${grantee(role)}`),
      ),
    ]),
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(owner)} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC`,
  ];
}

/**
 * What the schema command applies after the migrations, in one transaction: the environment,
 * the tables the policy knows, and its grants. JSON in the command's environment, so a
 * changed policy runs the command again.
 */
export interface PolicySpec {
  database: string;
  owner: string;
  tables: string[];
  /** The schemas the tables live in. */
  schemas: string[];
  grants: Grant[];
}

/** `admin`: the platform's admin where it is no superuser (grantsFor). */
export function policySpec(names: EnvironmentNames, services: readonly string[] = SERVICE_ROLE_NAMES, policy: AccessPolicy = ACCESS_POLICY, admin?: string): PolicySpec {
  return {
    database: names.database,
    owner: names.groupRole("owner"),
    tables: Object.keys(policy.tables),
    schemas: policySchemas(policy),
    grants: grantsFor(names, services, policy, admin),
  };
}

/** The statements that bring a database to `spec`, given the roles that hold privileges in it now. */
export function policySql(spec: PolicySpec, grantees: readonly string[]): string[] {
  return [
    ...revokeAllSql(grantees, spec.owner, spec.database, spec.tables, spec.schemas),
    ...spec.grants.flatMap((g) => grantToSql(g, spec.database)),
  ];
}
