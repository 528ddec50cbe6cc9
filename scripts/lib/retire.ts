import { randomBytes } from "node:crypto";
import type { Client } from "pg";
import { scramSha256Verifier } from "../../components/scram";
import { quoteIdent } from "../../policy/grants";
import { endSessions } from "../../ops/lib/sessions";

export { SessionsLeftError, endSessionsStatement, quoteLiteral } from "../../ops/lib/sessions";

/**
 * Retires a PostgreSQL login at once, for a credential that leaked (`npm run rotate -- <stack>
 * <credential> --revoke`): its password becomes one nobody knows, set as a SCRAM verifier so no
 * password reaches the server or its log (components/scram.ts), then its sessions are ended
 * (ops/lib/sessions.ts). The login keeps LOGIN and its grants: Pulumi's state still says so, and
 * the next rotation renews this slot with a password of its own (a NOLOGIN here would survive
 * that update, which changes only the password, and refuse the slot's clients then).
 * Returns how many sessions it ended; sessions left are a SessionsLeftError.
 */
export async function retireLogin(admin: Client, login: string, waitMs = 5_000): Promise<number> {
  const unknown = randomBytes(32).toString("base64url");
  await admin.query(`ALTER ROLE ${quoteIdent(login)} PASSWORD '${scramSha256Verifier(unknown, login)}'`);
  // The password is already one nobody knows when ending the sessions fails: the error says what is left to do.
  return endSessions(admin, login, waitMs);
}
