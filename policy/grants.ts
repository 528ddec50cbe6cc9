import {
  APP_SCHEMA,
  PRIVILEGES,
  SERVICE_ROLES,
  SERVICE_ROLE_NAMES,
  TABLE_NAMES,
  analyticsColumns,
  type Privilege,
  type ServiceRole,
  type ServiceRoleName,
  type PolicyRole,
  type TableName,
} from "./access";
import type { EnvironmentNames } from "./naming";

/**
 * The access policy as an ordered list of grants, independent of how they are applied.
 * The component renders each into a `postgresql.Grant`; tests render them into SQL.
 * An empty privilege list means "nothing": it revokes what is there.
 */
export type Grant =
  | { kind: "database"; role: string; privileges: readonly string[] }
  | { kind: "schema"; role: string; privileges: readonly string[] }
  | { kind: "table"; role: string; tables: readonly TableName[]; privileges: readonly Privilege[] }
  | { kind: "column"; role: string; table: TableName; columns: readonly string[]; privileges: readonly Privilege[] };

/** Future tables made by the owner: analytics may read them, services get nothing until listed. */
export interface DefaultPrivilege {
  owner: string;
  role: string;
  privileges: readonly Privilege[];
}

export const PUBLIC_ROLE = "public";

/** The roles of an environment: owner, analytics and the services it runs (default: all). */
export function policyRoles(services: readonly ServiceRoleName[] = SERVICE_ROLE_NAMES): PolicyRole[] {
  return ["owner", "analytics", ...services];
}

export function grantsFor(names: EnvironmentNames, services: readonly ServiceRoleName[] = SERVICE_ROLE_NAMES): Grant[] {
  const group = (role: PolicyRole) => names.groupRole(role);
  const readers: PolicyRole[] = ["analytics", ...services];
  const grants: Grant[] = [
    // Only this environment's roles may connect; PUBLIC may neither connect nor create.
    { kind: "database", role: PUBLIC_ROLE, privileges: [] },
    // The owner keeps what database owners have: migrations create schemas.
    { kind: "database", role: group("owner"), privileges: ["CONNECT", "CREATE", "TEMPORARY"] },
    ...readers.map((role): Grant => ({ kind: "database", role: group(role), privileges: ["CONNECT"] })),
    { kind: "schema", role: PUBLIC_ROLE, privileges: [] },
    // PostgreSQL 14 and older give schema public to the bootstrap superuser: the owner needs CREATE on it.
    { kind: "schema", role: group("owner"), privileges: ["USAGE", "CREATE"] },
    ...readers.map((role): Grant => ({ kind: "schema", role: group(role), privileges: ["USAGE"] })),
  ];

  const wholeTables = TABLE_NAMES.filter((t) => analyticsColumns(t) === null);
  const secretTables = TABLE_NAMES.filter((t) => analyticsColumns(t) !== null);
  grants.push({ kind: "table", role: group("analytics"), tables: wholeTables, privileges: ["SELECT"] });
  // Default privileges give analytics whole-table SELECT on every new table; take it back
  // where a table holds credentials, then allow the readable columns only.
  grants.push({ kind: "table", role: group("analytics"), tables: secretTables, privileges: [] });
  for (const table of secretTables) {
    grants.push({ kind: "column", role: group("analytics"), table, columns: analyticsColumns(table)!, privileges: ["SELECT"] });
  }

  for (const service of services) {
    for (const [privileges, tables] of tablesByPrivileges((SERVICE_ROLES[service] as ServiceRole).tables)) {
      grants.push({ kind: "table", role: group(service), tables, privileges });
    }
  }
  return grants;
}

export function defaultPrivilegesFor(names: EnvironmentNames): DefaultPrivilege[] {
  return [{ owner: names.groupRole("owner"), role: names.groupRole("analytics"), privileges: ["SELECT"] }];
}

/** Groups a role's tables by identical privilege sets, so each set is one grant. */
function tablesByPrivileges(
  tables: Partial<Record<TableName, readonly Privilege[]>>,
): [readonly Privilege[], TableName[]][] {
  const groups = new Map<string, [readonly Privilege[], TableName[]]>();
  for (const table of TABLE_NAMES) {
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

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const grantee = (role: string) => (role === PUBLIC_ROLE ? "PUBLIC" : ident(role));
const qualified = (table: string) => `${ident(APP_SCHEMA)}.${ident(table)}`;

/** One grant as SQL: what is there is revoked first, so applying it twice changes nothing. */
export function grantToSql(g: Grant, database: string): string[] {
  const to = grantee(g.role);
  const on = {
    database: `DATABASE ${ident(database)}`,
    schema: `SCHEMA ${ident(APP_SCHEMA)}`,
    table: `TABLE ${g.kind === "table" ? g.tables.map(qualified).join(", ") : ""}`,
    column: `TABLE ${g.kind === "column" ? qualified(g.table) : ""}`,
  }[g.kind];
  if (g.kind === "column") {
    return [`GRANT ${g.privileges.map((p) => `${p} (${g.columns.map(ident).join(", ")})`).join(", ")} ON ${on} TO ${to}`];
  }
  return [`REVOKE ALL ON ${on} FROM ${to}`, ...(g.privileges.length ? [`GRANT ${g.privileges.join(", ")} ON ${on} TO ${to}`] : [])];
}

export function defaultPrivilegeToSql(d: DefaultPrivilege): string {
  return `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(d.owner)} IN SCHEMA ${ident(APP_SCHEMA)} GRANT ${d.privileges.join(", ")} ON TABLES TO ${ident(d.role)}`;
}

/** The grants as SQL, for servers this project manages without the Pulumi provider (tests, drills). */
export function grantsAsSql(names: EnvironmentNames, services: readonly ServiceRoleName[] = SERVICE_ROLE_NAMES): string[] {
  return [
    ...grantsFor(names, services).flatMap((g) => grantToSql(g, names.database)),
    ...defaultPrivilegesFor(names).map(defaultPrivilegeToSql),
  ];
}
