import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../ops/lib/open";
import type { EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { registerSecret } from "../support/canary";
import { startTestPostgres } from "../support/embedded";
import { SHARED_SERVER, createEnvironment, passwordClause, uniqueEnvironment, withClient, withDatabase, type TestEnvironment } from "../support/postgres";

/**
 * The schema command's opening of the database the component makes closed (ops/lib/open.ts), on
 * the machine's PostgreSQL: runs that open it at the same time (two `pulumi up` of stacks that
 * share a server, a CI retry beside a local run) each end with it open and PUBLIC without CONNECT.
 */
describe("opening a closed database", () => {
  let env: TestEnvironment;
  beforeAll(async () => {
    env = await createEnvironment(SHARED_SERVER, uniqueEnvironment("open"));
  });
  afterAll(async () => {
    await env?.drop();
  });

  const close = () => withClient(SHARED_SERVER, (su) => su.query(`alter database "${env.names.database}" with allow_connections false; grant all on database "${env.names.database}" to public`));

  it("by several runs at once: each opens it or finds it open, none fails", async () => {
    for (let round = 0; round < 12; round += 1) {
      await close();
      const results = await Promise.allSettled([0, 1, 2].map(() => openDatabase(env.url("owner"), env.names.groupRole("owner"))));
      expect(results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      expect(results.filter((r) => r.status === "fulfilled" && r.value === "opened")).toHaveLength(1);
      await withClient(withDatabase(SHARED_SERVER, env.names.database), async (c) => {
        const { rows } = await c.query("select has_database_privilege('public', current_database(), 'CONNECT') as connect, has_database_privilege('public', current_database(), 'TEMP') as temp");
        expect(rows[0]).toEqual({ connect: false, temp: false });
      });
    }
  });
});

describe("opening a closed database where the owner's login may not connect to the server's postgres database (PostgreSQL 17)", () => {
  let server: EmbeddedServer;
  beforeAll(async () => {
    server = await startTestPostgres("open-hardened");
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("says how to open it as a cloud admin, which is no superuser and no member of the owner group, and what it says works", async () => {
    const admin = "gaia_admin";
    const password = randomBytes(18).toString("base64url");
    await withClient(server.url, async (su) => {
      await su.query("create role rds_superuser nologin");
      await su.query(`create role ${admin} login createrole createdb ${passwordClause(admin, password)} in role rds_superuser`);
      // A hardened server: PUBLIC may not connect to postgres; the admin may.
      await su.query("revoke connect on database postgres from public");
      await su.query(`grant connect on database postgres to ${admin}`);
    });
    const adminUrl = withDatabase(server.url, "postgres", admin, password);
    const names = uniqueEnvironment("openh");
    const loginPassword = randomBytes(18).toString("base64url");
    registerSecret(loginPassword);
    // As the provider does as this admin: the owner lent for the CREATE DATABASE, then taken back.
    await withClient(adminUrl, async (a) => {
      await a.query(`create role "${names.groupRole("owner")}" nologin`);
      await a.query(`create role "${names.loginRole("owner")}" login ${passwordClause(names.loginRole("owner"), loginPassword)} in role "${names.groupRole("owner")}"`);
      await a.query(`grant "${names.groupRole("owner")}" to ${admin}`);
      await a.query(`create database "${names.database}" owner "${names.groupRole("owner")}" allow_connections false`);
      await a.query(`revoke "${names.groupRole("owner")}" from ${admin}`);
    });
    const error = await openDatabase(withDatabase(server.url, names.database, names.loginRole("owner"), loginPassword), names.groupRole("owner")).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(error).toMatch(/^database \S+ is made closed and opened by the schema command from the server's postgres database, where \S+ may not connect: /);
    // The statements it gives, run as the admin, one by one.
    const statements = /as the admin\S*:? \(?(.*?)\)?\.$/.exec(error!)![1]!.split("; ");
    await withClient(adminUrl, async (a) => {
      for (const statement of statements) await a.query(statement);
    });
    await withClient(withDatabase(server.url, names.database), async (c) => {
      const { rows } = await c.query(
        "select has_database_privilege('public', current_database(), 'CONNECT') as connect, has_database_privilege('public', current_database(), 'TEMP') as temp, pg_has_role($1, $2, 'USAGE') or pg_has_role($1, $2, 'SET') as lent",
        [admin, names.groupRole("owner")],
      );
      // The owner given back: only PostgreSQL 16+'s own grant to the role's creator is left (ADMIN, neither INHERIT nor SET).
      expect(rows[0]).toEqual({ connect: false, temp: false, lent: false });
    });
    await withClient(withDatabase(server.url, names.database, names.loginRole("owner"), loginPassword), (c) => c.query("select 1"));
  });
});
