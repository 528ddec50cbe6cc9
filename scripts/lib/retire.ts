import { randomBytes } from "node:crypto";
import type { Client } from "pg";
import { scramSha256Verifier } from "../../components/scram";

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Retires a PostgreSQL login at once, for a credential that leaked (`npm run rotate -- <stack>
 * <credential> --revoke`): its password becomes one nobody knows, set as a SCRAM verifier so no
 * password reaches the server or its log (components/scram.ts), then its sessions are ended.
 * The login keeps LOGIN and its grants: Pulumi's state still says so, and the next rotation
 * renews this slot with a password of its own (a NOLOGIN here would survive that update, which
 * changes only the password, and refuse the slot's clients then).
 *
 * pg_terminate_backend(pid, timeout) waits up to the timeout for a session to end (PostgreSQL
 * 14 and later: https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-SIGNAL);
 * the admin may signal them as a member of the role it created, or as rds_superuser, which holds
 * pg_signal_backend (https://repost.aws/knowledge-center/rds-cancel-long-running-queries).
 * Returns how many sessions it ended; a session still open after the wait (pg_terminate_backend
 * returns false then) is a SessionsLeftError, as is a refusal to signal.
 */
export async function retireLogin(admin: Client, login: string, waitMs = 5_000): Promise<number> {
  const unknown = randomBytes(32).toString("base64url");
  await admin.query(`ALTER ROLE ${quoteIdent(login)} PASSWORD '${scramSha256Verifier(unknown, login)}'`);
  // Every session signalled at once, then waited for: signalled and waited for one by one, each
  // would end only once the ones before it had (a pool's dozens of sessions: seconds).
  let signalled: number[];
  try {
    const { rows } = await admin.query<{ pid: number; signalled: boolean }>(
      "SELECT pid, pg_terminate_backend(pid) AS signalled FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()",
      [login],
    );
    signalled = rows.filter((r) => r.signalled).map((r) => r.pid);
  } catch (error) {
    // The password is already one nobody knows: say so, and what is left to do.
    throw new SessionsLeftError(login, (error as Error).message);
  }
  // Those still listed, waited for: false when one is still running after the wait, or had ended
  // just before it (a warning either way); those still listed then are left.
  const { rows } = await admin.query<{ pid: number; ended: boolean }>(
    "SELECT pid, pg_terminate_backend(pid, $3) AS ended FROM pg_stat_activity WHERE usename = $1 AND pid = ANY($2::int[])",
    [login, signalled, waitMs],
  );
  const waited = rows.filter((r) => !r.ended).map((r) => r.pid);
  const left = waited.length
    ? (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND pid = ANY($2::int[])", [login, waited])).rows[0]!.n
    : 0;
  if (left > 0) throw new SessionsLeftError(login, `${left} of its ${signalled.length} session(s) did not end within ${waitMs} ms`);
  return signalled.length;
}

/** PostgreSQL's quote_literal: a string constant whatever the text holds (quotes doubled; backslashes doubled, in E''). */
export function quoteLiteral(text: string): string {
  const quoted = `'${text.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
  return text.includes("\\") ? `E${quoted}` : quoted;
}

/** What an operator runs, as a role with pg_signal_backend, to end a login's sessions. */
export const endSessionsStatement = (login: string) => `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ${quoteLiteral(login)}`;

/**
 * The login no longer logs in, but some of its sessions are still open: the admin lacks
 * pg_signal_backend, or a session did not end within the wait.
 */
export class SessionsLeftError extends Error {
  constructor(readonly login: string, cause: string) {
    super(`${login} no longer logs in, but its open sessions could not be ended (${cause}): end them as a role with pg_signal_backend: ${endSessionsStatement(login)}`);
  }
}
