import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { createClient } from "redis";
import { setTimeout as sleep } from "node:timers/promises";
import { findLeaks, findLeaksIn, isRegistry, processesOf, registeredSecrets, type Leak } from "./canary";
import { holdSetting, releaseSetting } from "./sharedSetting";
import { SHARED_SERVER } from "./postgres";

import { PROJECT_ROOT } from "../../scripts/lib/stackFile";
/** The machine's Redis, which the tests share (README, "From a fresh clone"). */
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
 * - At the end, once no process the run started still runs, all of it is searched for every
 *   secret the run generated or registered, with the places the run shares with the rest of the
 *   machine, read for what changed during the run: the home folder (toolchains' caches aside,
 *   ~/.fly included), /dev/shm, /tmp and /var/tmp, the checkout's untracked and modified files
 *   and its git objects, the machine's PostgreSQL log, and every database of the machine's Redis.
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
    try {
      await machineLog?.restore();
      await noProcessLeft(dir);
      const secrets = registeredSecrets(dir);
      const home = homedir();
      const unreadable: string[] = [];
      const leaks: Leak[] = [
        ...findLeaks([dir], secrets, { skip: (file) => isRegistry(dir, file) }),
        ...findLeaks([home, "/dev/shm", ...checkoutChanges(), "/tmp", "/var/tmp"], secrets, {
          since: started,
          skip: (file) =>
            // The run's own folder, searched whole above, and other runs' (each searches its own), but not a run's this one is nested in.
            file === dir || (/\/gaia-canary-[^/]+$/.test(file) && !dir.startsWith(`${file}/`)) || /\/gaia-canary-[^/]+\/(secrets|provider-side)$/.test(file) ||
            // Toolchains' caches and installed packages that nothing changed during the run (npm's logs are read); the checkout's own files are read through git.
            (path.basename(file) === "node_modules" && changedBefore(file, started)) ||
            [PROJECT_ROOT, ...["go", ".cache/go-build", ".npm/_cacache", ".npm/_npx", ".pyenv", ".rustup", ".cargo"].map((d) => path.join(home, d))].includes(file),
        }),
        ...(machineLog ? findLeaks([machineLog.file], secrets, { fromOffset: { [machineLog.file]: machineLog.offset }, unreadable }) : []),
        ...(await redisLeaks(SHARED_REDIS, secrets)),
      ];
      // A log this user may not read is not "searched and clean": say so, and fail.
      if (unreadable.length > 0) throw new Error(`secret canary: could not read ${unreadable.join(", ")}: run the tests as a user who may (the PostgreSQL log is postgres:adm 0640 on Debian).`);
      if (leaks.length > 0) {
        const bySecret = new Map<string, Set<string>>();
        for (const leak of leaks) bySecret.set(leak.secret, (bySecret.get(leak.secret) ?? new Set()).add(leak.file));
        const where = [...bySecret].slice(0, 20).map(([secret, files]) => `${secret} in ${[...files].slice(0, 3).join(", ")}`).join("\n  ");
        throw new Error(`secret canary: ${leaks.length} secret(s) found in clear after the run (kept for inspection in ${dir}):\n  ${where}`);
      }
      rmSync(dir, { recursive: true, force: true });
      console.log(
        `secret canary: no generated or registered secret in the embedded servers' logs, command outputs, console lines, ` +
          `the run's temporary files, files changed in ${home}, /dev/shm, /tmp, /var/tmp or the checkout (its git objects too), or any database of the machine's Redis; ` +
          (machineLog ? `nor in ${machineLog.file}` : `the machine's PostgreSQL log was not read (no Debian cluster on ${SHARED_SERVER}: pg_lsclusters)`),
      );
    } finally {
      // What a failed run keeps for inspection never includes the secrets themselves.
      for (const registry of ["secrets", "provider-side"]) rmSync(path.join(dir, registry), { recursive: true, force: true });
    }
  };
}

/**
 * Fails when a process the run started is still running after a grace period: one writing
 * after the search would go unsearched, and a test that leaves a server behind has a bug.
 */
async function noProcessLeft(dir: string): Promise<void> {
  let left = processesOf(dir);
  const grace = Number(process.env.GAIA_CANARY_GRACE_MS ?? 10_000);
  for (let waited = 0; left.length > 0 && waited < grace; waited += 250) {
    await sleep(250);
    left = processesOf(dir);
  }
  if (left.length > 0) {
    const list = left.map((p) => `${p.pid} ${p.command.slice(0, 200)}`).join("\n  ");
    throw new Error(`secret canary: ${left.length} process(es) the run started still run, so what they write would go unsearched; stop each in the test that starts it:\n  ${list}`);
  }
}

/** The checkout's untracked files (ignored ones too, dependencies aside), its modified tracked files and its git folder: what a test may have changed in it. */
function checkoutChanges(): string[] {
  try {
    const list = (...args: string[]) => execFileSync("git", ["ls-files", "-z", ...args], { cwd: PROJECT_ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
    return [...list("--others", "--exclude=node_modules/"), ...list("--modified")].map((f) => path.join(PROJECT_ROOT, f)).concat(path.join(PROJECT_ROOT, ".git"));
  } catch {
    return []; // not a git checkout
  }
}

/**
 * Every key's value in every database of a Redis (INFO keyspace lists those holding keys:
 * https://redis.io/docs/latest/commands/info/), whatever its type, and the commands it kept as
 * slow with their arguments; nothing a test leaves there may hold a secret.
 */
export async function redisLeaks(url: string, secrets: readonly string[]): Promise<Leak[]> {
  const client = createClient({ url });
  try {
    await client.connect();
  } catch {
    return []; // no Redis on this machine: the tests that need it have failed already
  }
  const leaks: Leak[] = [];
  try {
    const databases = [...(await client.info("keyspace")).matchAll(/^db(\d+):/gm)].map((m) => Number(m[1]));
    for (const db of databases) {
      await client.select(db);
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
          leaks.push(...findLeaksIn(`redis db ${db} key ${key}`, [key, ...value].join("\n"), secrets));
        }
      }
    }
    leaks.push(...findLeaksIn("redis SLOWLOG", JSON.stringify(await client.sendCommand(["SLOWLOG", "GET", "-1"])), secrets));
    // The server's own settings (masterauth, requirepass) and the functions loaded into it, with their code.
    leaks.push(...findLeaksIn("redis CONFIG", JSON.stringify(await client.sendCommand(["CONFIG", "GET", "*"])), secrets));
    leaks.push(...findLeaksIn("redis FUNCTION LIST", JSON.stringify(await client.sendCommand(["FUNCTION", "LIST", "WITHCODE"]).catch(() => null)), secrets));
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
  const set = async (values: Record<string, string | null>) => {
    const client = new Client({ connectionString: SHARED_SERVER });
    await client.connect();
    try {
      for (const [name, value] of Object.entries(values)) {
        await client.query(value === null ? `ALTER SYSTEM RESET ${name}` : `ALTER SYSTEM SET ${name} = '${value.replace(/'/g, "''")}'`);
      }
      await client.query("SELECT pg_reload_conf()");
    } finally {
      await client.end();
    }
  };
  // What ALTER SYSTEM had set before (postgresql.auto.conf), to be set again afterwards.
  const readPrevious = async () => {
    const client = new Client({ connectionString: SHARED_SERVER });
    await client.connect();
    const before = await client
      .query<{ name: string; setting: string }>(
        "SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%/postgresql.auto.conf' AND name = ANY($1)",
        [Object.keys(LOGGING)],
      )
      .finally(() => client.end());
    // null, not undefined, for "not set": the state file keeps it as JSON.
    return Object.fromEntries(Object.keys(LOGGING).map((name) => [name, before.rows.find((r) => r.name === name)?.setting ?? null]));
  };
  // Runs at once (a walkthrough's nested run, a second checkout's) share the setting: the last to end puts it back (./sharedSetting.ts).
  const stateFile = path.join("/tmp", `gaia-test-pg-logging-${new URL(SHARED_SERVER).port || "5432"}.json`);
  await holdSetting(stateFile, readPrevious, () => set(LOGGING));
  return { file, offset: statSync(file).size, restore: () => releaseSetting<Record<string, string | null>>(stateFile, set).then(() => undefined) };
}

/** Whether a folder's entries last changed before `time` (a file added or removed in it changes the folder's change time). */
function changedBefore(folder: string, time: number): boolean {
  try {
    return statSync(folder).ctimeMs < time;
  } catch {
    return true;
  }
}
