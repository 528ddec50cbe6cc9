import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrap } from "../../scripts/lib/cloudMocks";
import type { EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { startTestPostgres } from "../support/embedded";
import { PROJECT_ROOT, planStack, type StackPlan } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { makeCertificates, type TestCertificates } from "../support/certificates";
import { createPlannedRoles, dropPlannedRoles, runPlanned } from "../support/planned";
import { one } from "../support/stacks";

/**
 * The same commands against a server that serves TLS only, with a CA made here: every
 * connection verifies the server (verify-full), and a wrong CA or host is refused with a
 * sentence that names the fix.
 */
const work = mkdtempSync(path.join(tmpdir(), "gaia-tls-"));
const file = (name: string) => path.join(work, name);
let server: EmbeddedServer;
let plan: StackPlan;
let certificates: TestCertificates;
const stack = `tls-${randomBytes(3).toString("hex")}`;

/** An admin URL that does not check the certificate: the test's own setup, not the project's. */
const setupUrl = () => `${server.url.replace("127.0.0.1", "localhost")}?sslmode=no-verify`;

beforeAll(async () => {
  certificates = makeCertificates(work);
  server = await startTestPostgres("tls-pg", { tls: certificates.server });
  const local = { postgresUrl: server.url.replace("127.0.0.1", "localhost"), sslMode: "verify-full", sslRootCert: certificates.ca };
  plan = await planStack(stack, { ...readStackFile("local").config, "gaia:environment": stack, "gaia:local": JSON.stringify(local) }, ["gaia:local"]);
  await createPlannedRoles(plan, setupUrl());
});

afterAll(async () => {
  if (plan) await dropPlannedRoles(plan, setupUrl());
  await server?.stop();
});

describe("TLS that verifies, against a server that serves nothing else", () => {
  it("refuses a connection without TLS", () => {
    const plain = spawnSync("psql", [server.url.replace("127.0.0.1", "localhost") + "?sslmode=disable", "-c", "select 1"], { encoding: "utf8" });
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toMatch(/no pg_hba.conf entry .* no encryption/);
  });

  it("runs the schema command and the privilege check with verify-full against the stack's CA", async () => {
    const schema = one(plan, "command:local:Command", `gaia-${stack.replace(/_/g, "-")}-schema`);
    const env = unwrap(schema.inputs.environment) as Record<string, unknown>;
    expect(String(unwrap(env.GAIA_DATABASE_URL))).toMatch(/sslmode=verify-full$/);
    expect(String(unwrap(env.GAIA_DATABASE_CA))).toBe(certificates.ca);
    const applied = runPlanned(schema, "create");
    expect(applied.stderr).toBe("");
    expect(applied.status).toBe(0);

    const check = spawnSync("node_modules/.bin/tsx", ["ops/check-privileges.ts"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, GAIA_ENVIRONMENT: stack, GAIA_DATABASE_URL: String(unwrap(env.GAIA_DATABASE_URL)), GAIA_DATABASE_CA: String(unwrap(env.GAIA_DATABASE_CA)) },
      encoding: "utf8",
    });
    expect(check.stderr).toBe("");
    expect(check.stdout).toMatch(/privileges match the access policy/);
  });

  it("lets a libpq client use a stored URL with the stored CA, over TLS", () => {
    const url = (plan.outputs.connectionUrls!.value as Record<string, string>).chat!;
    expect(url).toMatch(/\?sslmode=verify-full$/);
    writeFileSync(file("stored-ca.pem"), String(plan.outputs.postgresCa!.value));
    const psql = spawnSync("psql", [url, "-Atc", "select ssl from pg_stat_ssl where pid = pg_backend_pid()"], {
      env: { ...process.env, PGSSLROOTCERT: file("stored-ca.pem") },
      encoding: "utf8",
    });
    expect(psql.stderr).toBe("");
    expect(psql.stdout.trim()).toBe("t");
  });

  it("lets a node-postgres client use a stored URL with the stored CA, as the README says", async () => {
    const url = (plan.outputs.connectionUrls!.value as Record<string, string>).chat!;
    writeFileSync(file("stored-ca.pem"), String(plan.outputs.postgresCa!.value));
    const client = new Client({ connectionString: `${url}&uselibpqcompat=true&sslrootcert=${file("stored-ca.pem")}` });
    await client.connect();
    try {
      const { rows } = await client.query("select ssl from pg_stat_ssl where pid = pg_backend_pid()");
      expect(rows).toEqual([{ ssl: true }]);
    } finally {
      await client.end();
    }
  });

  it("refuses a server signed by another CA, saying what to check", () => {
    const schema = one(plan, "command:local:Command", `gaia-${stack.replace(/_/g, "-")}-schema`);
    const run = runPlanned(schema, "create", { GAIA_DATABASE_CA: certificates.otherCa });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^error: the server at role "gaia_tls_[0-9a-f]+_owner_a" at localhost:\d+\/gaia_tls_[0-9a-f]+ \(sslmode verify-full\) presented a certificate that the stack's CA did not sign \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): .*Check gaia:management and, on local, gaia:local.sslRootCert; then run `pulumi up` again.\n$/);
  });

  it("refuses a host the certificate does not name, saying how to connect by its name", () => {
    const schema = one(plan, "command:local:Command", `gaia-${stack.replace(/_/g, "-")}-schema`);
    const env = unwrap(schema.inputs.environment) as Record<string, unknown>;
    const byAddress = String(unwrap(env.GAIA_DATABASE_URL)).replace("@localhost:", "@127.0.0.1:");
    const run = runPlanned(schema, "create", { GAIA_DATABASE_URL: byAddress });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/the server's certificate does not name the host in role .* at 127\.0\.0\.1:\d+.*: connect by the name in its certificate\. Through a tunnel, map the instance's endpoint name to the tunnel's address in \/etc\/hosts/);
  });
});
