import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startEmbeddedPostgres, type EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { canaryFile, registerSecret } from "./canary";

/**
 * A PostgreSQL 17 that checks passwords (scram-sha-256), for the tests about passwords, with
 * every statement and connection logged into the run's secret canary and its admin password
 * registered there (test/support/canary.ts).
 */
export async function startTestPostgres(label: string, options: { tls?: { cert: string; key: string } } = {}): Promise<EmbeddedServer> {
  const server = await startEmbeddedPostgres({
    dataDir: mkdtempSync(path.join(tmpdir(), `gaia-${label}-`)),
    tls: options.tls,
    logFile: canaryFile("logs", `postgres-${label}`),
  });
  registerSecret(server.password);
  return server;
}
