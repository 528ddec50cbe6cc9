import type { Client } from "pg";
import { schemasBeyondThePolicy } from "./policy";
import {
  ACCESS_POLICY,
  CREDENTIAL_COLUMN_PATTERN,
  PRIVILEGES,
  SERVICE_ROLE_NAMES,
  allowed,
  analyticsColumns,
  schemasFor,
  secretColumns,
  type AccessPolicy,
  type Privilege,
} from "../../policy/access";
import { PUBLIC_ROLE, policyRoles, policySchemas } from "../../policy/grants";
import type { EnvironmentNames } from "../../policy/naming";

/** One role's effective privileges on one table, as the server evaluates them. */
export interface MatrixRow {
  role: string;
  table: string;
  actual: Privilege[];
  expected: readonly Privilege[];
}

/** One role's USAGE of one schema, as the server evaluates it, and as the policy says. */
export interface SchemaRow {
  role: string;
  schema: string;
  usage: boolean;
  expected: boolean;
}

export interface PrivilegeReport {
  matrix: MatrixRow[];
  schemas: SchemaRow[];
  problems: string[];
}

type Subject = { policyRole: string | null; name: string };

/** Which policy, and which of its services the environment runs. */
export interface PolicyScope {
  policy?: AccessPolicy;
  services?: readonly string[];
}

/**
 * Compares a live environment database with the access policy: every table, every role
 * (through the login role applications use, where it exists) and PUBLIC. Written once; runs
 * in the tests and, as `ops/check-privileges.ts`, against a deployed environment.
 */
export async function checkPrivileges(client: Client, names: EnvironmentNames, scope: PolicyScope = {}): Promise<PrivilegeReport> {
  const policy = scope.policy ?? ACCESS_POLICY;
  const TABLE_NAMES = Object.keys(policy.tables);
  const problems: string[] = [];
  const schemas = policySchemas(policy);
  const columns = await tableColumns(client, ["public", ...schemas]);
  const liveTables = [...columns.keys()];

  for (const table of liveTables) {
    if (!TABLE_NAMES.includes(table)) {
      problems.push(`table ${table} is not in the access policy (policy/access.ts TABLES): add it, with its secret columns.`);
    }
  }
  for (const table of TABLE_NAMES) {
    if (!columns.has(table)) problems.push(`table ${table} is in the access policy but not in the database.`);
  }

  const subjects = await subjectsOf(client, names, scope.services ?? SERVICE_ROLE_NAMES);
  const matrix: MatrixRow[] = [];
  const schemaMatrix: SchemaRow[] = [];
  for (const subject of subjects) {
    for (const table of TABLE_NAMES.filter((t) => columns.has(t))) {
      const actual: Privilege[] = [];
      for (const privilege of PRIVILEGES) {
        if (await has(client, "table", subject.name, table, privilege)) actual.push(privilege);
      }
      const expected = expectedTablePrivileges(subject.policyRole, table, policy);
      matrix.push({ role: subject.name, table, actual, expected });
      if (actual.join() !== expected.join()) {
        problems.push(`${subject.name} on ${table}: has [${actual.join(", ")}], policy says [${expected.join(", ")}].`);
      }
    }
  }

  // What the matrix's four table-level privileges do not show: a privilege on some columns only
  // (GRANT SELECT (key_hash) reads a credential without any table-level privilege), and TRUNCATE,
  // REFERENCES, TRIGGER and, from PostgreSQL 17, MAINTAIN (LOCK TABLE in any mode among others),
  // which the policy gives no one but the owner.
  const tableOnly = ["TRUNCATE", "TRIGGER", ...((await serverVersion(client)) >= 170000 ? ["MAINTAIN"] : [])];
  for (const subject of subjects.filter((s) => s.policyRole !== "owner")) {
    for (const row of matrix.filter((r) => r.role === subject.name)) {
      const extra: string[] = [];
      for (const privilege of ["SELECT", "INSERT", "UPDATE", "REFERENCES"] as const) {
        if ((row.actual as readonly string[]).includes(privilege) || (row.expected as readonly string[]).includes(privilege)) continue;
        // Analytics reads a credential table's listed columns, compared column by column below.
        if (privilege === "SELECT" && subject.policyRole === "analytics" && analyticsColumns(row.table, policy) !== null) continue;
        if (await has(client, "anyColumn", subject.name, row.table, privilege)) extra.push(`${privilege} on some of its columns`);
      }
      for (const privilege of tableOnly) {
        if (await has(client, "table", subject.name, row.table, privilege)) extra.push(privilege);
      }
      if (extra.length) problems.push(`${subject.name} on ${row.table}: also has ${extra.join(", ")}, which the policy does not give.`);
    }
  }

  for (const analytics of subjects.filter((s) => s.policyRole === "analytics")) {
    for (const table of TABLE_NAMES.filter((t) => columns.has(t))) {
      const readable = analyticsColumns(table, policy);
      for (const column of columns.get(table)!) {
        const expected = readable === null || readable.includes(column);
        const actual = await has(client, "column", analytics.name, table, "SELECT", column);
        if (actual !== expected) {
          problems.push(`${analytics.name} ${actual ? "can" : "cannot"} read ${table}.${column}; policy says it ${expected ? "may" : "may not"}.`);
        }
      }
    }
  }
  for (const table of TABLE_NAMES.filter((t) => columns.has(t))) {
    for (const column of analyticsColumns(table, policy) ?? []) {
      if (!columns.get(table)!.includes(column)) problems.push(`policy lists ${table}.${column} for analytics, but the column does not exist.`);
    }
  }
  for (const [table, cols] of columns) {
    const secret = secretColumns(table, policy);
    for (const column of cols.filter((c) => CREDENTIAL_COLUMN_PATTERN.test(c) && !secret.includes(c))) {
      problems.push(`${table}.${column} looks like a credential but is not a secret column in policy/access.ts.`);
    }
  }

  for (const subject of subjects) {
    // Per schema: only the owner creates; each role uses the schemas of its tables, no other.
    for (const schema of ["public", ...schemas]) {
      const mayCreate = subject.policyRole === "owner";
      // The owner owns the database, and so `public` where pg_database_owner owns it (PostgreSQL 15 on): not the policy's to say.
      if (!(schema === "public" && mayCreate) && (await has(client, "schema", subject.name, schema, "CREATE")) !== mayCreate) {
        problems.push(`${subject.name} ${mayCreate ? "cannot" : "can"} create objects in schema ${schema}.`);
      }
      if (schema === "public") continue;
      const mayUse = subject.policyRole !== null && schemasFor(subject.policyRole, policy).includes(schema);
      const uses = await has(client, "schema", subject.name, schema, "USAGE");
      schemaMatrix.push({ role: subject.name, schema, usage: uses, expected: mayUse });
      if (uses !== mayUse) problems.push(`${subject.name} ${mayUse ? "cannot" : "can"} use schema ${schema}; policy says it ${mayUse ? "may" : "may not"}.`);
    }
    const mayConnect = subject.policyRole !== null;
    if ((await has(client, "database", subject.name, names.database, "CONNECT")) !== mayConnect) {
      problems.push(`${subject.name} ${mayConnect ? "cannot" : "can"} connect to database ${names.database}.`);
    }
  }
  problems.push(...(await objectsBeyondThePolicy(client, subjects, ["public", ...schemas])));
  problems.push(...(await objectsOwnedByLogins(client, ["public", ...schemas])));
  // Objects in schemas the policy does not name are beyond every check above.
  problems.push(...(await schemasBeyondThePolicy(client, schemas)).map((s) => `schema ${s} is not in the access policy: add it to SCHEMAS in policy/access.ts, or drop it.`));
  return { matrix, schemas: schemaMatrix, problems };
}

/**
 * Views, materialized views, foreign tables, sequences and functions are not in the policy, which
 * names tables: any privilege a role other than the owner holds on one is a way around it (a view
 * over auth.users reads password_hash as whoever may select from the view). Not the extensions'
 * objects (pg_stat_statements' views, the admin's to grant), nor trigger functions, which run only
 * as triggers whoever holds EXECUTE ("trigger functions can only be called as triggers").
 */
async function objectsBeyondThePolicy(client: Client, subjects: Subject[], schemas: readonly string[]): Promise<string[]> {
  // Each named as the server writes it (regclass, regprocedure), which the has_*_privilege functions read back.
  const { rows } = await client.query<{ kind: string; name: string }>(
    `select case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'f' then 'foreign table' else 'sequence' end as kind,
            c.oid::regclass::text as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any($1) and c.relkind in ('v', 'm', 'f', 'S')
        and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
     union all
     select 'function', p.oid::regprocedure::text
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = any($1) and p.prorettype <> 'trigger'::regtype
        and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
      order by 2`,
    [schemas],
  );
  const problems: string[] = [];
  for (const object of rows) {
    const reach: string[] = [];
    // Any privilege of the object's kind (the functions take a comma-separated list as "any of").
    const [kind, privileges] =
      object.kind === "function" ? (["function", "EXECUTE"] as const)
      : object.kind === "sequence" ? (["sequence", "USAGE,SELECT,UPDATE"] as const)
      : (["table", "SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER"] as const);
    for (const subject of subjects.filter((s) => s.policyRole !== "owner")) {
      if (await has(client, kind, subject.name, object.name, privileges)) reach.push(subject.name);
    }
    if (reach.length) problems.push(`${object.kind} ${object.name} is not in the access policy, and ${reach.join(", ")} can use it: only tables are granted; drop it, or make it a table the policy names.`);
  }
  return problems;
}

/** Objects owned by a role that can log in: logins act as their group (components/database.ts assumeRole), so one is made around that. */
async function objectsOwnedByLogins(client: Client, schemas: readonly string[]): Promise<string[]> {
  const { rows } = await client.query<{ name: string; owner: string }>(
    `select n.nspname || '.' || c.relname as name, pg_get_userbyid(c.relowner) as owner
       from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_roles r on r.oid = c.relowner
      where n.nspname = any($1) and r.rolcanlogin and not r.rolsuper and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
     union all
     select p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
       from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_roles r on r.oid = p.proowner
      where n.nspname = any($1) and r.rolcanlogin and not r.rolsuper
      order by 1`,
    [schemas],
  );
  return rows.map((r) => `${r.name} is owned by the login ${r.owner}, not its group: the next rotation strands it. Run \`ALTER ... OWNER TO\` the group as the admin.`);
}

function expectedTablePrivileges(role: string | null, table: string, policy: AccessPolicy): readonly Privilege[] {
  if (role === null) return [];
  // Analytics reads tables with credentials column by column, never as a whole.
  if (role === "analytics" && analyticsColumns(table, policy) !== null) return [];
  return allowed(role, table, policy);
}

/** The roles each policy role is checked through: every login role of it that exists (both rotation slots), else its group. */
async function subjectsOf(client: Client, names: EnvironmentNames, services: readonly string[]): Promise<Subject[]> {
  const subjects: Subject[] = [];
  for (const role of policyRoles(services)) {
    const logins = [names.loginRole(role, "a"), names.loginRole(role, "b")];
    const { rows } = await client.query<{ rolname: string }>("select rolname from pg_roles where rolname = any($1) order by rolname", [logins]);
    if (rows.length === 0) subjects.push({ policyRole: role, name: names.groupRole(role) });
    for (const { rolname } of rows) subjects.push({ policyRole: role, name: rolname });
  }
  subjects.push({ policyRole: null, name: PUBLIC_ROLE });
  return subjects;
}

async function tableColumns(client: Client, schemas: readonly string[]): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ table: string; column: string }>(
    `select n.nspname || '.' || c.relname as table, a.attname as column
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where n.nspname = any($1) and c.relkind in ('r', 'p')
      order by n.nspname, c.relname, a.attnum`,
    [schemas],
  );
  const columns = new Map<string, string[]>();
  for (const { table, column } of rows) columns.set(table, [...(columns.get(table) ?? []), column]);
  return columns;
}

/** server_version_num: 170000 and up knows MAINTAIN (has_table_privilege refuses the word before). */
async function serverVersion(client: Client): Promise<number> {
  const { rows } = await client.query<{ version: number }>("select current_setting('server_version_num')::int as version");
  return rows[0]!.version;
}

async function has(
  client: Client,
  kind: "table" | "column" | "anyColumn" | "schema" | "database" | "sequence" | "function",
  role: string,
  object: string,
  privilege: string,
  column?: string,
): Promise<boolean> {
  const sql = {
    table: "select has_table_privilege($1, $2, $3) as ok",
    column: "select has_column_privilege($1, $2, $4, $3) as ok",
    anyColumn: "select has_any_column_privilege($1, $2, $3) as ok",
    schema: "select has_schema_privilege($1, $2, $3) as ok",
    database: "select has_database_privilege($1, $2, $3) as ok",
    sequence: "select has_sequence_privilege($1, $2, $3) as ok",
    function: "select has_function_privilege($1, $2, $3) as ok",
  }[kind];
  const params = column === undefined ? [role, object, privilege] : [role, object, privilege, column];
  const { rows } = await client.query<{ ok: boolean }>(sql, params);
  return rows[0]!.ok;
}

/** The matrix as a fixed-width table for people. */
export function formatMatrix(rows: MatrixRow[]): string {
  const width = Math.max(...rows.map((r) => r.role.length), 4);
  const tableWidth = Math.max(...rows.map((r) => r.table.length), 5);
  const lines = [`${"role".padEnd(width)}  ${"table".padEnd(tableWidth)}  S I U D`];
  for (const r of rows) {
    const marks = PRIVILEGES.map((p) => {
      const has = r.actual.includes(p);
      const want = r.expected.includes(p);
      return has === want ? (has ? "x" : ".") : "!";
    });
    lines.push(`${r.role.padEnd(width)}  ${r.table.padEnd(tableWidth)}  ${marks.join(" ")}`);
  }
  return lines.join("\n");
}
