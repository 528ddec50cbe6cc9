import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { policyRoles } from "../../policy/grants";
import { environmentNames, type EnvironmentNames } from "../../policy/naming";
import { scramSha256Verifier } from "../../components/scram";
import { registerSecret } from "./canary";

/**
 * The machine's PostgreSQL (trust authentication: good for privileges, useless for
 * passwords; tests about passwords use the embedded server of ./embedded.ts).
 */
export const SHARED_SERVER = process.env.GAIA_TEST_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export function withDatabase(serverUrl: string, database: string, user?: string, password?: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  if (user !== undefined) url.username = user;
  if (password !== undefined) url.password = password;
  return url.toString();
}

/** Runs `action` on a fresh connection, closed afterwards whatever happens. */
export async function withClient<T>(connectionString: string, action: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString });
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end();
  }
}

export async function query<T extends Record<string, unknown> = Record<string, unknown>>(
  connectionString: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return withClient(connectionString, async (client) => (await client.query<T>(sql, params)).rows);
}

/**
 * `PASSWORD '…'` as the component (and a cloud setting its admin's password) hands it to a
 * server: the password's SCRAM verifier, never the password (components/scram.ts), which also
 * becomes one of the run's canary secrets (test/support/canary.ts).
 */
export function passwordClause(role: string, password: string): string {
  registerSecret(password);
  return `password '${scramSha256Verifier(password, role)}'`;
}

/** A unique environment name per test run, so runs never collide on a shared server. */
export function uniqueEnvironment(label: string): EnvironmentNames {
  return environmentNames(`t${label}-${randomBytes(3).toString("hex")}`);
}

export interface TestEnvironment {
  names: EnvironmentNames;
  /** Login password of every role (the shared server ignores it; the embedded one checks it). */
  password: string;
  /** Connection URL of a policy role's login role to the environment's database. */
  url(role: Parameters<EnvironmentNames["loginRole"]>[0]): string;
  adminUrl: string;
  drop(): Promise<void>;
}

/**
 * Creates what the component creates before the schema command runs: the group roles, their
 * login roles and the database owned by the owner group. Removed again by `drop`.
 */
export async function createEnvironment(serverUrl: string, names: EnvironmentNames, password = randomBytes(18).toString("base64url")): Promise<TestEnvironment> {
  registerSecret(password);
  await withClient(serverUrl, async (admin) => {
    for (const role of policyRoles()) {
      await admin.query(`create role "${names.groupRole(role)}" nologin`);
      // As the component does: the server is given the password's verifier, never the password.
      const login = names.loginRole(role);
      await admin.query(`create role "${login}" login ${passwordClause(login, password)} in role "${names.groupRole(role)}"`);
      // As the component's assumeRole: the login acts as its group.
      await admin.query(`alter role "${login}" set role to "${names.groupRole(role)}"`);
    }
    await admin.query(`create database "${names.database}" owner "${names.groupRole("owner")}"`);
  });
  return {
    names,
    password,
    url: (role) => withDatabase(serverUrl, names.database, names.loginRole(role), password),
    adminUrl: withDatabase(serverUrl, names.database),
    drop: () => dropEnvironment(serverUrl, names),
  };
}

export async function dropEnvironment(serverUrl: string, names: EnvironmentNames): Promise<void> {
  await withClient(serverUrl, async (admin) => {
    await admin.query(`drop database if exists "${names.database}" with (force)`);
    for (const role of policyRoles()) {
      await admin.query(`drop role if exists "${names.loginRole(role)}"`);
      await admin.query(`drop role if exists "${names.groupRole(role)}"`);
    }
  });
}
