import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { findLeaks, registeredSecrets } from "./canary";
import { SHARED_SERVER } from "./postgres";

/**
 * Once per `vitest` run, around every test file: the secret canary (test/support/canary.ts).
 *
 * - The run gets a temporary folder of its own (TMPDIR, which Node's os.tmpdir(), flyctl and
 *   the servers' tools all follow), so "every file the run left on the runner" is one folder.
 * - The machine's PostgreSQL logs every statement and connection for the run (ALTER SYSTEM,
 *   put back at the end); the embedded servers tests start log theirs into the canary folder.
 * - At the end, all of it is searched for every secret the run generated or registered.
 */
export default async function setup() {
  const started = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), "gaia-canary-"));
  // The embedded servers run as the `postgres` system user, which must enter the folders above
  // their data directories (scripts/lib/embeddedPostgres.ts checkTraversable): enter, not list.
  chmodSync(dir, 0o711);
  const runTmp = path.join(dir, "tmp");
  mkdirSync(runTmp);
  chmodSync(runTmp, 0o711);
  mkdirSync(path.join(dir, "secrets"), { mode: 0o700 });
  process.env.GAIA_CANARY_DIR = dir;
  process.env.TMPDIR = runTmp;

  const machineLog = await logEveryStatement(true);

  return async () => {
    if (machineLog) await logEveryStatement(false);
    const flyLogs = path.join(homedir(), ".fly", "logs");
    const leaks = findLeaks(
      [dir, ...(existsSync(flyLogs) ? [flyLogs] : []), ...(machineLog ? [machineLog.file] : [])],
      registeredSecrets(dir),
      { skip: [path.join(dir, "secrets"), path.join(dir, "provider-side")], fromOffset: machineLog ? { [machineLog.file]: machineLog.offset } : {}, since: started },
    );
    if (leaks.length > 0) {
      const where = [...new Set(leaks.map((l) => `${l.file} (${l.secret})`))].slice(0, 20).join("\n  ");
      throw new Error(`secret canary: ${leaks.length} secret(s) found in clear after the run (kept for inspection in ${dir}):\n  ${where}`);
    }
    rmSync(dir, { recursive: true, force: true });
    const summary = `secret canary: no generated or registered secret in the server logs${machineLog ? ` (and ${machineLog.file})` : ""}, command outputs, flyctl folders or the run's temporary files`;
    console.log(summary);
  };
}

/**
 * Turns statement and connection logging of the machine's PostgreSQL on for the run (or back
 * to its settings), and says where its log is. Only on this machine's Debian cluster, whose log
 * file pg_lsclusters names; elsewhere (GAIA_TEST_PG_URL) the embedded servers' logs still count.
 */
async function logEveryStatement(on: boolean): Promise<{ file: string; offset: number } | undefined> {
  if (process.env.GAIA_TEST_PG_URL) return undefined;
  let file: string | undefined;
  try {
    const port = new URL(SHARED_SERVER).port || "5432";
    file = execFileSync("pg_lsclusters", ["--no-header"], { encoding: "utf8" })
      .split("\n")
      .map((line) => line.trim().split(/\s+/))
      .find((cols) => cols[2] === port && cols[3] === "online")?.[6];
  } catch {
    return undefined;
  }
  if (!file || !existsSync(file)) return undefined;
  const client = new Client({ connectionString: SHARED_SERVER });
  await client.connect();
  try {
    for (const setting of ["log_statement", "log_connections", "log_disconnections"]) {
      await client.query(on ? `ALTER SYSTEM SET ${setting} = '${setting === "log_statement" ? "all" : "on"}'` : `ALTER SYSTEM RESET ${setting}`);
    }
    await client.query("SELECT pg_reload_conf()");
  } finally {
    await client.end();
  }
  return { file, offset: statSync(file).size };
}
