/**
 * The sessions command of one policy role's logins: nothing on create and update; on delete
 * (the role leaves the policy, e.g. a service removed from `gaia:services`, or the stack is
 * destroyed) the logins stop logging in and their open sessions are ended, before the
 * provider drops the roles. Pulumi deletes a resource before those it depends on, and this
 * command depends on both logins. A dropped role's sessions would otherwise run on, and only a
 * role with pg_signal_backend could end them then.
 *
 *   GAIA_DATABASE_URL  the admin's connection URL (postgresql://…), secret
 *   GAIA_DATABASE_CA   optional: PEM of the CA the server certificate chains to
 *   GAIA_LOGINS        the login roles, comma-separated
 */
import { OpsError, requireEnv, runMain } from "./lib/env";
import { connect, databaseUrlFromEnv } from "./lib/postgres";
import { endSessions, quoteIdent } from "./lib/sessions";

runMain(async () => {
  const verb = process.argv[2];
  if (verb === "keep") return;
  if (verb !== "end") throw new OpsError(`unknown action "${verb}": ops/sessions.ts keeps ("keep") or ends ("end") a role's sessions.`);
  const logins = requireEnv("GAIA_LOGINS", "the login roles whose sessions end, comma-separated").split(",");
  const admin = await connect(databaseUrlFromEnv("the admin's connection URL"));
  try {
    let ended = 0;
    for (const login of logins) {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [login]);
      if (!rowCount) continue;
      // No new session first, then the open ones ended: none can start in between.
      await admin.query(`ALTER ROLE ${quoteIdent(login)} NOLOGIN`);
      ended += await endSessions(admin, login);
    }
    process.stdout.write(`${logins.join(", ")}: no longer log in, ${ended} session(s) ended\n`);
  } finally {
    await admin.end();
  }
});
