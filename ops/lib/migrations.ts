import { Logger, migrate } from "graphile-migrate";
// Internals of the pinned graphile-migrate, used to check applied files and to close its pools.
import { calculateHash } from "graphile-migrate/dist/hash";
import { getAllMigrations } from "graphile-migrate/dist/migration";
import { clearAllPools } from "graphile-migrate/dist/pgReal";
import { parseSettings } from "graphile-migrate/dist/settings";
import type { Client } from "pg";
import { MIGRATIONS_FOLDER } from "../../sql";
import { OpsError } from "./env";
import { actingAs, connect, explainConnectionError } from "./postgres";

/** Serialises runners across processes and machines; graphile-migrate's own lock only refuses. */
const RUNNER_LOCK = "gaia-migrate";
/**
 * graphile-migrate's advisory lock key. A killed runner's session can hold it a little longer
 * than ours (its backend finishes the statement before it notices the client is gone), so the
 * next run waits for it too instead of failing with "Failed to get exclusive lock".
 */
const GRAPHILE_MIGRATE_LOCK = "4727445306447283";

export interface MigrateOptions {
  /** The owner's login role. The runner acts as `ownerRole`, never as a superuser. */
  connectionString: string;
  ownerRole: string;
  migrationsFolder?: string;
  /** Longest wait for another runner on the same database. */
  lockTimeoutSeconds?: number;
  /** Longest wait of one migration statement for a table's lock (STATEMENT_LOCK_TIMEOUT_MS). */
  statementLockTimeoutMs?: number;
  /** Tries of a migration that found its tables locked, the first included (LOCK_TRIES). */
  lockTries?: number;
  /**
   * Runs after the migrations, still holding the runner's lock: the access policy, so that two
   * schema runs never apply it at once ("tuple concurrently updated") nor one between another's
   * migrations and its policy.
   */
  underLock?: () => Promise<void>;
  log?: (line: string) => void;
}

export interface MigrateResult {
  applied: string[];
}

/**
 * How long a migration's statement waits for a lock. An ALTER TABLE behind a long reader waits in
 * the lock queue, and every later reader of that table queues behind the ALTER (PostgreSQL docs
 * 13.3.1, "Table-Level Locks": conflicting requests are granted in order): unbounded, a 25-second
 * analytics query made a one-row read wait 21.5 s. With lock_timeout the ALTER gives up after this
 * long, the readers behind it go on, and the migration (its own transaction) is rolled back whole.
 */
export const STATEMENT_LOCK_TIMEOUT_MS = 2000;
/** Then tried again, after 1, 2, 4 … s: a reader of a few seconds is waited out; a longer one is named. */
export const LOCK_TRIES = 5;

/**
 * Applies every committed migration not yet applied, each in its own transaction.
 * Refuses an applied migration whose file changed since, naming the file. A migration that
 * cannot get its tables' locks within the timeout is tried again a bounded number of times,
 * then refused with the session that held them.
 */
export async function migrateDatabase(options: MigrateOptions): Promise<MigrateResult> {
  const tries = options.lockTries ?? LOCK_TRIES;
  const log = options.log ?? printLine;
  const lockMs = options.statementLockTimeoutMs ?? STATEMENT_LOCK_TIMEOUT_MS;
  const seen = new BlockerWatch();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await migrateOnce(options, log, lockMs, seen);
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      if (attempt >= tries) throw new OpsError(`${error.message} It was tried ${tries} times; nothing of it was applied. End that session or wait for it, then run the schema command again.`);
      log(`${error.message} Trying again (${attempt + 1} of ${tries}).`);
      await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** (attempt - 1)));
    }
  }
}

/** A migration rolled back because a statement waited longer than lock_timeout (SQLSTATE 55P03). */
class LockTimeoutError extends Error {}

/**
 * Which sessions block the runner's statements, as the runner sees it: every 200 ms, the
 * sessions pg_blocking_pids names for the runner's own waiting backends (PostgreSQL docs 9.27,
 * "pg_blocking_pids"), with their role and since when the runner has seen each blocking, across
 * tries. The blocker's own transaction age is hidden from the owner (pg_stat_activity shows
 * another role's xact_start only to pg_read_all_stats), so the age given is what the runner saw.
 */
class BlockerWatch {
  private readonly since = new Map<number, { role: string; first: number; last: number }>();

  watch(client: Client): () => Promise<void> {
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        const { rows } = await client
          .query<{ pid: number; role: string }>(
            `select distinct b.pid, b.usename as role from pg_stat_activity w
               cross join lateral unnest(pg_blocking_pids(w.pid)) as blocking(pid)
               join pg_stat_activity b on b.pid = blocking.pid
              where w.datname = current_database() and w.usename = session_user and w.pid <> pg_backend_pid() and b.usename <> session_user`,
          )
          .catch(() => ({ rows: [] as { pid: number; role: string }[] }));
        const now = Date.now();
        for (const r of rows) {
          const known = this.since.get(r.pid);
          this.since.set(r.pid, { role: r.role, first: known?.first ?? now, last: now });
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    return async () => {
      stopped = true;
      await loop;
    };
  }

  /** The blockers seen in the last try, longest first. */
  describe(since: number): string {
    const recent = [...this.since.entries()].filter(([, b]) => b.last >= since).sort((a, b) => a[1].first - b[1].first).slice(0, 3);
    if (recent.length === 0) return "";
    return `; blocked by ${recent.map(([pid, b]) => `${b.role} (pid ${pid}, blocking it for at least ${Math.max(1, Math.round((b.last - b.first) / 1000))} s as the runner saw it)`).join(", ")}`;
  }
}

const printLine = (line: string) => void process.stdout.write(`${line}\n`);

async function migrateOnce(options: MigrateOptions, log: (line: string) => void, lockMs: number, seen: BlockerWatch): Promise<MigrateResult> {
  const folder = options.migrationsFolder ?? MIGRATIONS_FOLDER;
  const connectionString = withLockTimeout(actingAs(options.connectionString, options.ownerRole), lockMs);
  const lockClient = await connect(connectionString);
  let watcher: Client | undefined;
  try {
    await lockClient.query(`set lock_timeout = '${Math.round((options.lockTimeoutSeconds ?? 300) * 1000)}ms'`);
    await lockClient.query("select pg_advisory_lock(hashtext($1))", [RUNNER_LOCK]).catch(async (error: unknown) => {
      if ((error as { code?: string }).code !== "55P03") throw error;
      throw new OpsError(`another session holds the schema command's lock on this database${await runnerLockHolder(lockClient)} and kept it for ${options.lockTimeoutSeconds ?? 300} s: wait for that run to finish, or end that session, then run the schema command again.`);
    });
    await lockClient.query("select pg_advisory_lock($1::bigint), pg_advisory_unlock($1::bigint)", [GRAPHILE_MIGRATE_LOCK]);
    const files = await committedMigrations(lockClient, connectionString, folder);
    const bodies = new Map(files.map((f) => [f.realFilename, { name: f.realFilename, body: f.body }]));
    const applied: string[] = [];
    let running: { name: string; body: string } | undefined;
    const logger = new Logger(() => (level, message) => {
      const match = /Running migration '([^']+)'/.exec(message);
      if (match) {
        running = bodies.get(match[1]!);
        applied.push(match[1]!);
      }
      // Errors are reported once, by the caller, with the file named.
      if (level !== "error") log(message);
    });
    watcher = await connect(options.connectionString);
    const started = Date.now();
    const stopWatching = seen.watch(watcher);
    try {
      await migrate({ connectionString, migrationsFolder: folder, manageGraphileMigrateSchema: true, logger });
    } catch (error) {
      await stopWatching();
      if ((error as { code?: string }).code === "55P03") {
        const who = seen.describe(started) || (await blockers(lockClient));
        // Outside a transaction nothing is rolled back: CREATE INDEX CONCURRENTLY leaves an
        // INVALID index (PostgreSQL docs, CREATE INDEX, "Building Indexes Concurrently"), and a
        // second try would fail on it or pass over it. Said, never tried again.
        if (running && /^--! no-transaction/m.test(running.body)) {
          throw new OpsError(
            `migration ${running.name} (no-transaction) waited longer than ${lockMs} ms for a lock and stopped part-way${who}; what it did before is not rolled back${await invalidIndexes(lockClient)}. ` +
              "Drop what it left, then run the schema command again when that session is gone.",
          );
        }
        throw new LockTimeoutError(`migration ${running?.name ?? "(unknown)"} waited longer than ${lockMs} ms for a lock and was rolled back, so that readers do not queue behind it${who}.`);
      }
      throw await describeMigrationError(error, running, connectionString);
    }
    await stopWatching();
    await options.underLock?.();
    return { applied };
  } finally {
    // Its pools outlive a run; a dropped database would then make it exit the process.
    clearAllPools();
    await watcher?.end();
    await lockClient.end();
  }
}

/**
 * Who holds the runner's advisory lock on this database (pg_locks: an advisory lock belongs to
 * its database; a bigint key is classid, high 32 bits, and objid, low 32, objsubid 1). Other
 * databases' runners hold the same key on theirs.
 */
async function runnerLockHolder(client: Client): Promise<string> {
  const { rows } = await client
    .query<{ role: string; pid: number }>(
      `select a.usename as role, a.pid from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.granted and l.objsubid = 1
          and l.database = (select oid from pg_database where datname = current_database())
          and ((l.classid::bigint << 32) | l.objid::bigint) = hashtext($1)::bigint`,
      [RUNNER_LOCK],
    )
    .catch(() => ({ rows: [] as { role: string; pid: number }[] }));
  return rows.length ? ` (${rows.map((r) => `${r.role}, pid ${r.pid}`).join("; ")})` : "";
}

/** The INVALID indexes of the database, which a CREATE INDEX CONCURRENTLY that stopped leaves. */
async function invalidIndexes(client: Client): Promise<string> {
  const { rows } = await client.query<{ name: string }>("select indexrelid::regclass::text as name from pg_index where not indisvalid").catch(() => ({ rows: [] as { name: string }[] }));
  return rows.length ? ` (INVALID indexes now: ${rows.map((r) => r.name).join(", ")}; DROP INDEX CONCURRENTLY each)` : "";
}

/** The URL with `-c lock_timeout=…` added to its startup options: graphile-migrate opens its own pool from it. */
function withLockTimeout(connectionString: string, ms: number): string {
  const url = new URL(connectionString);
  url.searchParams.set("options", `${url.searchParams.get("options") ?? ""} -c lock_timeout=${Math.round(ms)}`.trim());
  return url.toString();
}

/**
 * The other sessions holding a lock on a table of this database: their role and, where the server
 * shows it, how long their transaction has been open. Never their query's text, which may hold
 * data. pg_locks is open to every role; pg_stat_activity hides another role's xact_start unless
 * the viewer has pg_read_all_stats (PostgreSQL docs 27.2.3, pg_stat_activity), which the owner is
 * not given: on a shared server it would show every neighbour's queries.
 */
async function blockers(client: Client): Promise<string> {
  const { rows } = await client
    .query<{ usename: string; seconds: number | null }>(
      `select a.usename, max(round(extract(epoch from now() - a.xact_start)))::int as seconds
         from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.granted and l.relation is not null and l.database = (select oid from pg_database where datname = current_database())
          and a.pid <> pg_backend_pid() and a.usename is not null
        group by a.usename order by 2 desc nulls last limit 3`,
    )
    .catch(() => ({ rows: [] }));
  if (rows.length === 0) return "";
  return `; holding locks on its tables then: ${rows.map((r) => `${r.usename}${r.seconds === null ? " (how long, hidden from the owner)" : ` for ${r.seconds} s`}`).join(", ")}`;
}

/**
 * graphile-migrate checks a file's hash only when it runs it, so an applied file could be
 * edited unnoticed. This recomputes every committed file's hash with graphile-migrate's own
 * functions and compares it with the file's header and with what the database recorded.
 */
async function committedMigrations(client: Client, connectionString: string, folder: string) {
  const settings = await parseSettings({ connectionString, migrationsFolder: folder });
  const files = await getAllMigrations(settings);
  for (const file of files) {
    const actual = calculateHash(file.body, file.previousHash);
    if (actual !== file.hash) {
      throw new OpsError(
        `migration ${file.realFilename} does not match its hash header (${file.hash}): it was edited after it was committed. ` +
          `Restore it, and put the change in a new migration.`,
      );
    }
  }
  const recorded = await client
    .query<{ filename: string; hash: string }>(`select filename, hash from graphile_migrate.migrations order by filename`)
    .catch((error: { code?: string }) => {
      if (error.code === "42P01" || error.code === "3F000") return { rows: [] }; // nothing applied yet
      throw error;
    });
  const byName = new Map(files.map((f) => [f.filename, f]));
  for (const { filename, hash } of recorded.rows) {
    const file = byName.get(filename);
    if (!file) {
      throw new OpsError(`migration ${filename} was applied to this database but its file is gone from ${folder}/committed. Restore it.`);
    }
    if (file.hash !== hash) {
      throw new OpsError(
        `migration ${file.realFilename} was edited after it was applied (database has ${hash}, file has ${file.hash}). ` +
          `Applied migrations are immutable: restore the file and put the change in a new migration.`,
      );
    }
  }
  return files;
}

async function describeMigrationError(
  error: unknown,
  file: { name: string; body: string } | undefined,
  connectionString: string,
): Promise<Error> {
  const e = error as { message?: string; code?: string; _gmMessageOverride?: string };
  if (!file || !e.code || e.code.length !== 5 || e.code.startsWith("28")) {
    const explained = explainConnectionError(error, connectionString);
    return explained instanceof OpsError ? explained : new OpsError(e.message ?? String(error));
  }
  // Syntax errors carry a position, which graphile-migrate turns into line and snippet;
  // errors raised while executing do not, so the statement is found by replaying the file.
  const where = e._gmMessageOverride
    ? stripAnsi(e._gmMessageOverride)
    : `${(await locateFailingStatement(connectionString, file.body)) ?? "statement unknown"}\n${e.code}: ${e.message}`;
  return new OpsError(`migration ${file.name} failed and was rolled back; nothing of it was applied.\n${where}`);
}

/**
 * Replays a failed migration statement by statement, split by PostgreSQL's own parser, in a
 * transaction that is always rolled back, and says which statement fails and on which line.
 */
async function locateFailingStatement(connectionString: string, body: string): Promise<string | undefined> {
  // Loaded only when a migration fails: every other run starts without it.
  const { loadModule, parseSync } = await import("libpg-query");
  await loadModule();
  let statements: { stmt_location?: number; stmt_len?: number }[];
  try {
    statements = parseSync(body).stmts ?? [];
  } catch {
    return undefined;
  }
  const client = await connect(connectionString);
  try {
    await client.query("begin");
    for (const [index, statement] of statements.entries()) {
      const start = statement.stmt_location ?? 0;
      const text = statement.stmt_len ? body.slice(start, start + statement.stmt_len) : body.slice(start);
      try {
        await client.query(text);
      } catch {
        const leading = text.length - text.trimStart().length;
        const line = body.slice(0, start + leading).split("\n").length;
        return `statement ${index + 1}, line ${line}: ${text.trim().split("\n")[0]}`;
      }
    }
    return undefined;
  } finally {
    await client.query("rollback").catch(() => undefined);
    await client.end();
  }
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

export interface AdminBootstrap {
  email: string;
  keySha256: string;
}

/**
 * Makes sure the environment's admin account exists and that the stack's current admin key
 * is its active bootstrap key; a key from before a rotation is deactivated.
 */
export async function bootstrapAdmin(options: MigrateOptions, admin: AdminBootstrap): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(admin.keySha256)) {
    throw new OpsError("GAIA_ADMIN_KEY_SHA256 must be the SHA-256 of the admin key as 64 lowercase hex characters.");
  }
  const client = await connect(actingAs(options.connectionString, options.ownerRole));
  try {
    await client.query("begin");
    const user = await client.query<{ id: string }>(
      `insert into auth.users (email, name, is_admin) values ($1, 'Administrator', true)
       on conflict ((lower(email))) do update set is_admin = true
       returning id`,
      [admin.email],
    );
    const userId = user.rows[0]!.id;
    await client.query(
      `update auth.api_keys set is_active = false
        where user_id = $1 and name = 'bootstrap admin key' and key_hash <> $2 and is_active`,
      [userId, admin.keySha256],
    );
    await client.query(
      `insert into auth.api_keys (user_id, key_hash, name, permissions)
       values ($1, $2, 'bootstrap admin key', '{"admin": true}')
       on conflict (key_hash) do update set is_active = true`,
      [userId, admin.keySha256],
    );
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
