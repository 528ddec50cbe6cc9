import { createHash } from "node:crypto";
import { createClient } from "redis";
import { OpsError } from "./env";

export type RedisConnection = ReturnType<typeof createClient>;

/**
 * The permissions of an environment's Redis user: data commands on its own keys and channels
 * only, with the passwords it accepts (the current one and, during a rotation's overlap, the
 * previous one: an ACL user may hold several, https://redis.io/docs/latest/commands/acl-setuser/).
 * `reset` first, so a password two rotations old is gone in the same command.
 */
export function aclRules(keyPrefix: string, ...passwords: string[]): string[] {
  return [
    "reset",
    "on",
    // The SHA-256 form: the password itself never travels in the ACL command or the slow log.
    ...passwords.map((password) => `#${createHash("sha256").update(password).digest("hex")}`),
    `~${keyPrefix}*`,
    `&${keyPrefix}*`,
    "-@all",
    "+@read",
    "+@write",
    "+@transaction",
    "+@pubsub",
    "+@connection",
    "-@admin",
    "-@dangerous",
    // What lists the keyspace rather than naming keys: Redis checks key patterns only on the keys a
    // command names, so SCAN, RANDOMKEY and DBSIZE would show (or count) every environment's keys on
    // a shared server, and PUBSUB CHANNELS every channel (https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/,
    // "Key permissions"; categories from COMMAND INFO). test/commands/local.test.ts derives the list
    // from the server's own COMMAND INFO and dry-runs each as the user.
    ...KEYSPACE_LISTING.map((command) => `-${command}`),
    // Client-side caching's broadcast mode tells a client the name of every key anyone writes,
    // its ACL key patterns not consulted; ACL rules cannot tell BCAST from the default mode, so
    // tracking is denied as a whole (https://redis.io/docs/latest/develop/reference/client-side-caching/).
    "-client|tracking",
  ];
}

/** Commands that read the keyspace or the channels without naming a key: denied to an environment's user. */
export const KEYSPACE_LISTING = ["scan", "keys", "randomkey", "dbsize", "pubsub|channels", "pubsub|shardchannels", "pubsub|numpat"];

/** Where a Redis URL points, for messages: never the password. */
export function describeRedis(url: string): string {
  const u = new URL(url);
  return `${u.username ? `user "${decodeURIComponent(u.username)}" at ` : ""}${u.hostname}:${u.port || 6379}`;
}

/** Connects without retrying forever: an ops command must fail fast with a sentence that says what to fix. */
export async function connectRedis(url: string): Promise<RedisConnection> {
  const client = createClient({ url, socket: { connectTimeout: 5_000, reconnectStrategy: false } });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === "ECONNREFUSED" || e.code === "ENOTFOUND" || e.code === "EHOSTUNREACH") {
      throw new OpsError(`cannot reach Redis at ${describeRedis(url)} (${e.code}): check that it runs and that gaia:local.redisUrl points at it.`);
    }
    if (/WRONGPASS|NOAUTH|invalid username-password/i.test(e.message ?? "")) {
      throw new OpsError(`Redis refused the credentials for ${describeRedis(url)}: set the admin URL with the right password (pulumi config set --secret --path gaia:local.redisUrl …).`);
    }
    throw new OpsError(`cannot connect to Redis at ${describeRedis(url)}: ${e.message ?? String(error)}`);
  }
}

/** Every key of one environment, found by SCAN (never KEYS, which blocks the server). */
export async function keysWithPrefix(client: RedisConnection, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ MATCH: `${escapeGlob(prefix)}*`, COUNT: 500 })) {
    keys.push(...(Array.isArray(batch) ? batch : [batch]));
  }
  return keys;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** The key patterns of an ACL user as one string (`~gaia:dev:*`), or undefined when there is no such user. */
export async function keyPatternOf(client: RedisConnection, user: string): Promise<string | undefined> {
  const reply = (await client.sendCommand(["ACL", "GETUSER", user])) as unknown[] | null;
  if (!reply) return undefined;
  const at = reply.indexOf("keys");
  return at >= 0 ? String(reply[at + 1]) : "";
}
