import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { Logger, migrate } from "graphile-migrate";
import type { Client } from "pg";
import { OpsError } from "./env";
import { actingAs, connect, explainConnectionError } from "./postgres";

/** The project's migrations. */
export const MIGRATIONS_FOLDER = path.resolve(__dirname, "../../sql/migrations");

/** Serialises runners across processes and machines; graphile-migrate's own lock only refuses. */
const RUNNER_LOCK = "gaia-migrate";

export interface MigrateOptions {
  /** The owner's login role. The runner acts as `ownerRole`, never as a superuser. */
  connectionString: string;
  ownerRole: string;
  migrationsFolder?: string;
  /** Longest wait for another runner on the same database. */
  lockTimeoutSeconds?: number;
  log?: (line: string) => void;
}

export interface MigrateResult {
  applied: string[];
}

/**
 * Applies every committed migration not yet applied, each in its own transaction.
 * Refuses an applied migration whose file changed since, naming the file.
 */
export async function migrateDatabase(options: MigrateOptions): Promise<MigrateResult> {
  const folder = options.migrationsFolder ?? MIGRATIONS_FOLDER;
  const log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
  const connectionString = actingAs(options.connectionString, options.ownerRole);
  const lockClient = await connect(connectionString);
  try {
    await lockClient.query(`set lock_timeout = '${Math.round((options.lockTimeoutSeconds ?? 300) * 1000)}ms'`);
    await lockClient.query("select pg_advisory_lock(hashtext($1))", [RUNNER_LOCK]);
    await refuseEditedMigrations(lockClient, folder);
    const applied: string[] = [];
    let running: string | undefined;
    const logger = new Logger(() => (level, message) => {
      const match = /Running migration '([^']+)'/.exec(message);
      if (match) {
        running = match[1];
        applied.push(match[1]!);
      }
      // Errors are reported once, by the caller, with the file named.
      if (level !== "error") log(message);
    });
    try {
      await migrate({ connectionString, migrationsFolder: folder, manageGraphileMigrateSchema: true, logger });
    } catch (error) {
      throw describeMigrationError(error, running, connectionString);
    }
    return { applied };
  } finally {
    await lockClient.end();
  }
}

/**
 * graphile-migrate checks each file against its own hash header; this also checks the files
 * against what the database recorded when it applied them, so an edited file with a rewritten
 * header is refused too.
 */
async function refuseEditedMigrations(client: Client, folder: string): Promise<void> {
  const recorded = await client.query<{ filename: string; hash: string }>(
    `select filename, hash from graphile_migrate.migrations order by filename`,
  ).catch((error: { code?: string }) => {
    if (error.code === "42P01" || error.code === "3F000") return { rows: [] }; // nothing applied yet
    throw error;
  });
  const committed = path.join(folder, "committed");
  // graphile-migrate records "000001.sql" for the file "000001-initial-schema.sql".
  const fileByNumber = new Map(readdirSync(committed).map((f) => [f.split(/[-.]/)[0], f]));
  for (const { filename, hash } of recorded.rows) {
    const file = fileByNumber.get(filename.split(".")[0]);
    if (!file) {
      throw new OpsError(`migration ${filename} was applied to this database but its file is gone from ${committed}. Restore it.`);
    }
    const header = /^--! Hash: (\S+)$/m.exec(readFileSync(path.join(committed, file), "utf8"));
    if (header?.[1] !== hash) {
      throw new OpsError(
        `migration ${file} was edited after it was applied (database has ${hash}, file has ${header?.[1] ?? "no hash"}). ` +
          `Applied migrations are immutable: restore the file and put the change in a new migration.`,
      );
    }
  }
}

function describeMigrationError(error: unknown, file: string | undefined, connectionString: string): Error {
  const e = error as { message?: string; code?: string; _gmMessageOverride?: string };
  if (!file || !e.code || e.code.length !== 5 || e.code.startsWith("28")) {
    const explained = explainConnectionError(error, connectionString);
    return explained instanceof OpsError ? explained : new OpsError(e.message ?? String(error));
  }
  const where = e._gmMessageOverride ? stripAnsi(e._gmMessageOverride) : `migration "${file}": ${e.code}: ${e.message}`;
  return new OpsError(`migration ${file} failed and was rolled back; nothing of it was applied.\n${where}`);
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

/** SHA-256 as lowercase hex: the only form in which an API key reaches the database. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
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
      `insert into users (email, name, is_admin) values ($1, 'Administrator', true)
       on conflict ((lower(email))) do update set is_admin = true
       returning id`,
      [admin.email],
    );
    const userId = user.rows[0]!.id;
    await client.query(
      `update api_keys set is_active = false
        where user_id = $1 and name = 'bootstrap admin key' and key_hash <> $2 and is_active`,
      [userId, admin.keySha256],
    );
    await client.query(
      `insert into api_keys (user_id, key_hash, name, permissions)
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
