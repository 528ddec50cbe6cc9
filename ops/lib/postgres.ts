import { Client } from "pg";
import { OpsError } from "./env";

/** Where a connection goes, for messages: never the password. */
export function describeTarget(connectionString: string): string {
  const url = new URL(connectionString);
  return `role "${decodeURIComponent(url.username)}" at ${url.hostname}:${url.port || 5432}/${url.pathname.slice(1)}`;
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
          `gaia:managementHost / gaia:managementPort point at it (a tunnel or proxy for private instances).`,
      );
    case "28P01":
      return new OpsError(
        `password authentication failed for ${target}. The credential in the stack no longer matches ` +
          `the server: run \`pulumi up\` again so the role's password is set from the stack.`,
      );
    case "28000":
      return new OpsError(`the server refused ${target}: ${e.message}. Check pg_hba.conf and the role's LOGIN attribute.`);
    case "3D000":
      return new OpsError(`database missing for ${target}: ${e.message}. The database resource must exist first.`);
    default:
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
