import type { Client } from "pg";

/**
 * Ends every session of a login that may no longer log in (its password replaced, or NOLOGIN),
 * as the admin: it may signal them as a member of the login's role, or as rds_superuser / a
 * Cloud SQL admin, which hold pg_signal_backend
 * (https://repost.aws/knowledge-center/rds-cancel-long-running-queries).
 *
 * pg_terminate_backend(pid, timeout) waits up to the timeout for a session to end (PostgreSQL
 * 14 and later: https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-SIGNAL).
 * Returns how many sessions it ended; a session still open after the wait (pg_terminate_backend
 * returns false then) is a SessionsLeftError, as is a refusal to signal.
 */
export async function endSessions(admin: Client, login: string, waitMs = 5_000): Promise<number> {
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
