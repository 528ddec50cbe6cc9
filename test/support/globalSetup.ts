import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { createClient } from "redis";
import { findLeaks, findLeaksIn, registeredSecrets, type Leak } from "./canary";
import { SHARED_SERVER } from "./postgres";

import { PROJECT_ROOT } from "../../scripts/lib/stackFile";
/** The machine's Redis, which the tests share (README, "Tests"). */
const SHARED_REDIS = process.env.GAIA_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Once per `vitest` run, around every test file: the secret canary (test/support/canary.ts).
 *
 * - The run gets a temporary folder of its own (TMPDIR, which Node's os.tmpdir(), flyctl and
 *   the servers' tools all follow), so "every file the run left in temporary folders" is one
 *   folder, searched whole, whatever a file's modification time says.
 * - The machine's PostgreSQL logs every statement and connection for the run (ALTER SYSTEM,
 *   put back as it was at the end); the embedded servers tests start log theirs into the canary
 *   folder; what every command printed and every console line lands there too (./recordCommands.ts,
 *   ./canaryReporter.ts).
 * - At the end, all of it is searched for every secret the run generated or registered, with
 *   the places the run shares with the rest of the machine, read for what changed during the
 *   run: the home folder (toolchains' caches aside), /dev/shm, the checkout's untracked files,
 *   ~/.fly, the machine's PostgreSQL log, and every key of the machine's Redis.
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

  const machineLog = await logEveryStatement();

  return async () => {
    await machineLog?.restore();
    const secrets = registeredSecrets(dir);
    const home = homedir();
    const leaks: Leak[] = [
      // The registries of secrets and the doubles' own state, this run's and those of runs nested in it (the add-a-migration test).
      ...findLeaks([dir], secrets, { skip: (file) => /(^|\/)gaia-canary-[^/]+\/(secrets|provider-side)$/.test(file) }),
      ...findLeaks([home, "/dev/shm", ...untrackedFiles()], secrets, {
        since: started,
        // Toolchains' caches, which hold no file a test writes; the checkout's own files are read through git.
        skip: (file) => [PROJECT_ROOT, ...["go", ".cache/go-build", ".npm", ".pyenv", ".rustup", ".cargo"].map((d) => path.join(home, d))].includes(file),
      }),
      ...(machineLog ? findLeaks([machineLog.file], secrets, { fromOffset: { [machineLog.file]: machineLog.offset } }) : []),
      ...(await redisLeaks(secrets)),
    ];
    if (leaks.length > 0) {
      const where = [...new Set(leaks.map((l) => `${l.file} (${l.secret})`))].slice(0, 20).join("\n  ");
      throw new Error(`secret canary: ${leaks.length} secret(s) found in clear after the run (kept for inspection in ${dir}):\n  ${where}`);
    }
    rmSync(dir, { recursive: true, force: true });
    console.log(
      `secret canary: no generated or registered secret in the embedded servers' logs, command outputs, console lines, ` +
        `the run's temporary files, files changed in ${home}, /dev/shm or the checkout, or the machine's Redis; ` +
        (machineLog ? `nor in ${machineLog.file}` : `the machine's PostgreSQL log was not read (no Debian cluster on ${SHARED_SERVER}: pg_lsclusters)`),
    );
  };
}

/** The checkout's untracked files (ignored ones too, dependencies aside): what a test may have left in it. */
function untrackedFiles(): string[] {
  try {
    return execFileSync("git", ["ls-files", "--others", "-z", "--exclude=node_modules/"], { cwd: PROJECT_ROOT, encoding: "utf8" })
      .split("\0")
      .filter(Boolean)
      .map((f) => path.join(PROJECT_ROOT, f));
  } catch {
    return []; // not a git checkout
  }
}

/** Every key's value in the machine's Redis, whatever its type; nothing a test leaves there may hold a secret. */
async function redisLeaks(secrets: readonly string[]): Promise<Leak[]> {
  const client = createClient({ url: SHARED_REDIS });
  try {
    await client.connect();
  } catch {
    return []; // no Redis on this machine: the tests that need it have failed already
  }
  const leaks: Leak[] = [];
  try {
    for await (const keys of client.scanIterator({ COUNT: 500 })) {
      for (const key of keys) {
        const type = await client.type(key);
        const value =
          type === "string" ? [await client.get(key)]
          : type === "hash" ? Object.entries(await client.hGetAll(key)).flat()
          : type === "list" ? await client.lRange(key, 0, -1)
          : type === "set" ? await client.sMembers(key)
          : type === "zset" ? await client.zRange(key, 0, -1)
          : [JSON.stringify(await client.sendCommand(["XRANGE", key, "-", "+"]).catch(() => null))];
        leaks.push(...findLeaksIn(`redis key ${key}`, [key, ...value].join("\n"), secrets));
      }
    }
    // The commands the server kept as slow, with their arguments.
    leaks.push(...findLeaksIn("redis SLOWLOG", JSON.stringify(await client.sendCommand(["SLOWLOG", "GET", "-1"])), secrets));
  } finally {
    await client.quit();
  }
  return leaks;
}

const LOGGING: Record<string, string> = { log_statement: "all", log_connections: "on", log_disconnections: "on" };

/**
 * Turns statement and connection logging of the machine's PostgreSQL on for the run, and says
 * where its log is and how to put the settings back as they were (values set with ALTER SYSTEM
 * before the run are set again; the others reset). Only on this machine's Debian cluster, whose
 * log file pg_lsclusters names; elsewhere (GAIA_TEST_PG_URL) the embedded servers' logs still count.
 */
async function logEveryStatement(): Promise<{ file: string; offset: number; restore: () => Promise<void> } | undefined> {
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
  const set = async (values: Record<string, string | undefined>) => {
    const client = new Client({ connectionString: SHARED_SERVER });
    await client.connect();
    try {
      for (const [name, value] of Object.entries(values)) {
        await client.query(value === undefined ? `ALTER SYSTEM RESET ${name}` : `ALTER SYSTEM SET ${name} = '${value.replace(/'/g, "''")}'`);
      }
      await client.query("SELECT pg_reload_conf()");
    } finally {
      await client.end();
    }
  };
  // What ALTER SYSTEM had set before (postgresql.auto.conf), to be set again afterwards.
  const client = new Client({ connectionString: SHARED_SERVER });
  await client.connect();
  const before = await client
    .query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%/postgresql.auto.conf' AND name = ANY($1)",
      [Object.keys(LOGGING)],
    )
    .finally(() => client.end());
  const previous = Object.fromEntries(Object.keys(LOGGING).map((name) => [name, before.rows.find((r) => r.name === name)?.setting]));
  await set(LOGGING);
  return { file, offset: statSync(file).size, restore: () => set(previous) };
}
