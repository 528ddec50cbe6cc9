/**
 * The sessions command of one policy role's logins: on create, its logins may log in (they
 * could not, were a drop of them interrupted after a delete); nothing on update; on delete
 * (the role leaves the policy, e.g. a service removed from `gaia:services`, or the stack is
 * destroyed) the logins stop logging in and their open sessions are ended, before the
 * provider drops the roles. Pulumi deletes a resource before those it depends on, and this
 * command depends on both logins. A dropped role's sessions would otherwise run on, and only a
 * role with pg_signal_backend could end them then.
 *
 *   GAIA_DATABASE_URL  the admin's connection URL (postgresql://…), secret
 *   GAIA_DATABASE_CA   optional: PEM of the CA the server certificate chains to
 *   GAIA_LOGINS        the login roles, comma-separated
 *   GAIA_GROUP         their group role
 *   GAIA_DATABASE_NAME the environment's database
 */
import { OpsError, requireEnv, runMain } from "./lib/env";
import { connect, databaseUrlFromEnv } from "./lib/postgres";
import { quoteIdent } from "../policy/grants";
import { endSessions, endSessionsStatement } from "./lib/sessions";

runMain(async () => {
  const verb = process.argv[2];
  if (verb === "keep") return;
  if (verb !== "end" && verb !== "allow") throw new OpsError(`unknown action "${verb}": ops/sessions.ts allows ("allow"), keeps ("keep") or ends ("end") a role's logins and sessions.`);
  const logins = requireEnv("GAIA_LOGINS", "the login roles whose sessions end, comma-separated").split(",");
  let admin;
  try {
    admin = await connect(databaseUrlFromEnv("the admin's connection URL"));
  } catch (error) {
    // The admin's password changed in the update that removes the role: this delete has the
    // URL of the state before it, and would fail every later run. The policy has taken the
    // role's privileges already; its sessions are left, said here, and the provider drops it.
    if (verb === "end" && error instanceof OpsError && /password authentication failed/.test(error.message)) {
      process.stdout.write(`${logins.join(", ")}: their sessions were not ended (the admin's password changed in this update); they hold no privilege. End them as the admin: ${logins.map(endSessionsStatement).join("; ")}\n`);
      return;
    }
    throw error;
  }
  try {
    // Replaced, not removed (`pulumi up --replace`, a rename): the policy still lets the group
    // connect to the environment's database (a removed role loses it in the schema command's
    // update, which runs before any delete), so its logins are in use and are left alone.
    const group = requireEnv("GAIA_GROUP", "the logins' group role");
    const database = requireEnv("GAIA_DATABASE_NAME", "the environment's database");
    if (verb === "end") {
      const { rows } = await admin.query<{ kept: boolean }>(
        "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AND EXISTS (SELECT 1 FROM pg_database WHERE datname = $2) AND has_database_privilege($1, $2, 'CONNECT') AS kept",
        [group, database],
      );
      if (rows[0]?.kept) {
        process.stdout.write(`${logins.join(", ")}: kept, ${group} may still connect to ${database} (this command was replaced, not its role removed)\n`);
        return;
      }
    }
    if (verb === "allow") {
      // A role whose drop failed after its sessions were ended, then asked for again: its logins log in again.
      for (const login of logins) {
        const { rows } = await admin.query<{ can: boolean }>("SELECT rolcanlogin AS can FROM pg_roles WHERE rolname = $1", [login]);
        if (rows[0]?.can === false) await admin.query(`ALTER ROLE ${quoteIdent(login)} LOGIN`);
      }
      return;
    }
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
