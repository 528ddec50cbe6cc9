import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { OpsError, optionalEnv, requireEnv } from "./env";

/**
 * The connection URL an ops script uses: GAIA_DATABASE_URL with its sslmode meant as libpq
 * means it (`uselibpqcompat=true`: without it node-postgres treats require and verify-ca as
 * verify-full, pg-connection-string index.js), and the CA from GAIA_DATABASE_CA in a file
 * only this process's user can read (`sslrootcert` names a file). graphile-migrate opens its
 * own pool from the URL, so everything TLS needs must be in it.
 */
export function databaseUrlFromEnv(purpose: string): string {
  return databaseUrlWithCa(requireEnv("GAIA_DATABASE_URL", purpose), optionalEnv("GAIA_DATABASE_CA"));
}

/** A connection URL with its sslmode meant as libpq means it and `ca` (PEM) as its sslrootcert, as databaseUrlFromEnv makes it. */
export function databaseUrlWithCa(connectionString: string, ca: string | undefined): string {
  const url = new URL(connectionString);
  if (ca) {
    const folder = mkdtempSync(path.join(tmpdir(), "gaia-ca-"));
    process.on("exit", () => rmSync(folder, { recursive: true, force: true }));
    const file = path.join(folder, "ca.pem");
    writeFileSync(file, ca, { mode: 0o600 });
    url.searchParams.set("sslrootcert", file);
  }
  if (url.searchParams.has("sslmode")) url.searchParams.set("uselibpqcompat", "true");
  return url.toString();
}

/** Where a connection goes, for messages: never the password. */
export function describeTarget(connectionString: string): string {
  const url = new URL(connectionString);
  const mode = url.searchParams.get("sslmode");
  return `role "${decodeURIComponent(url.username)}" at ${url.hostname}:${url.port || 5432}/${url.pathname.slice(1)}${mode ? ` (sslmode ${mode})` : ""}`;
}

/**
 * The same connection, acting as `role` from the first statement: objects it creates are
 * owned by the group role, not by the login role that happens to be in use.
 */
export function actingAs(connectionString: string, role: string): string {
  const url = new URL(connectionString);
  url.searchParams.set("options", `-c role=${role}`);
  return url.toString();
}

/** Turns the errors an operator can fix into a sentence that says how. */
export function explainConnectionError(error: unknown, connectionString: string): Error {
  const e = error as { code?: string; message?: string };
  const target = describeTarget(connectionString);
  switch (e.code) {
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EHOSTUNREACH":
    case "ETIMEDOUT":
      return new OpsError(
        `cannot reach PostgreSQL for ${target} (${e.code}). Check that the server runs and that ` +
          `gaia:management.host / gaia:management.port point at it (a tunnel for private instances).`,
      );
    case "28P01":
      return new OpsError(
        `password authentication failed for ${target}. The credential in the stack no longer matches ` +
          `the server: run \`pulumi up\` again so the role's password is set from the stack.`,
      );
    case "28000":
      return new OpsError(`the server refused ${target}: ${e.message}. Check pg_hba.conf and the role's LOGIN attribute.`);
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "CERT_SIGNATURE_FAILURE":
      return new OpsError(
        `the server at ${target} presented a certificate that the stack's CA did not sign (${e.code}): it is not the server ` +
          `the stack created, or the CA is out of date. Check gaia:management and, on local, gaia:local.sslRootCert; then run \`pulumi up\` again.`,
      );
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return new OpsError(
        `the server's certificate does not name the host in ${target}: connect by the name in its certificate. Through a tunnel, ` +
          `map the instance's endpoint name to the tunnel's address in /etc/hosts and set gaia:management.host to that name (docs/platforms.md, "TLS").`,
      );
    case "3D000":
      return new OpsError(`database missing for ${target}: ${e.message}. The database resource must exist first.`);
    default:
      if (/does not support SSL/i.test(e.message ?? "")) {
        return new OpsError(`the server at ${target} does not offer TLS: turn ssl on in its configuration, or (local only) set gaia:local.sslMode to disable.`);
      }
      return error instanceof Error ? error : new Error(String(error));
  }
}

export async function connect(connectionString: string): Promise<Client> {
  const client = new Client({ connectionString, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw explainConnectionError(error, connectionString);
  }
  return client;
}
