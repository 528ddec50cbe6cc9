import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../ops/lib/hash";
import { bootstrapAdmin, migrateDatabase } from "../../ops/lib/migrations";
import { SHARED_SERVER, createEnvironment, query, uniqueEnvironment, type TestEnvironment } from "../support/postgres";

let env: TestEnvironment;
let options: Parameters<typeof migrateDatabase>[0];
const sqlstate = (promise: Promise<unknown>) => promise.then(() => "ok", (e: { code?: string }) => e.code);

beforeAll(async () => {
  env = await createEnvironment(SHARED_SERVER, uniqueEnvironment("schema"));
  options = { connectionString: env.url("owner"), ownerRole: env.names.groupRole("owner"), log: () => undefined };
  await migrateDatabase(options);
});
afterAll(() => env?.drop());

async function newUser(email = `u${randomBytes(4).toString("hex")}@gaia.test`): Promise<string> {
  const [row] = await query<{ id: string }>(env.url("owner"), "insert into auth.users (email) values ($1) returning id", [email]);
  return row!.id;
}

describe("the Gaia schema", () => {
  it("removes a user's keys, conversations and messages with the user, and keeps the audit trail", async () => {
    const db = env.url("owner");
    const user = await newUser();
    await query(db, "insert into auth.api_keys (user_id, key_hash) values ($1, $2)", [user, sha256Hex("k1")]);
    await query(db, "insert into auth.provider_keys (user_id, provider_id, encrypted_key) values ($1, 'openai', '\\x00')", [user]);
    const [conversation] = await query<{ id: string }>(db, "insert into game.conversations (user_id) values ($1) returning id", [user]);
    await query(db, "insert into game.messages (conversation_id, role, content) values ($1, 'user', 'hi'), ($1, 'assistant', 'hello')", [conversation!.id]);
    await query(db, "insert into audit.security_events (user_id, event_type) values ($1, 'login')", [user]);

    await query(db, "delete from auth.users where id = $1", [user]);
    const [left] = await query(db, `select
      (select count(*) from auth.api_keys where user_id = $1)::int as keys,
      (select count(*) from auth.provider_keys where user_id = $1)::int as provider_keys,
      (select count(*) from game.conversations where user_id = $1)::int as conversations,
      (select count(*) from game.messages where conversation_id = $2)::int as messages,
      (select count(*) from audit.security_events where event_type = 'login' and user_id is null)::int as orphaned_events`, [user, conversation!.id]);
    expect(left).toEqual({ keys: 0, provider_keys: 0, conversations: 0, messages: 0, orphaned_events: 1 });
  });

  it("refuses a duplicate email, in any letter case", async () => {
    await newUser("Jason@Gaia.test");
    expect(await sqlstate(newUser("jason@gaia.test"))).toBe("23505");
  });

  it("stores API keys only as SHA-256 hex and refuses anything else", async () => {
    const user = await newUser();
    const db = env.url("owner");
    for (const malformed of ["admin-key-production", sha256Hex("x").toUpperCase(), sha256Hex("x").slice(1)]) {
      expect(await sqlstate(query(db, "insert into auth.api_keys (user_id, key_hash) values ($1, $2)", [user, malformed]))).toMatch(/^(23514|22001)$/);
    }
    expect(await sqlstate(query(db, "insert into auth.api_keys (user_id, key_hash) values ($1, $2)", [user, sha256Hex("ok")]))).toBe("ok");
  });

  it("allows one provider key per provider per user", async () => {
    const user = await newUser();
    const insert = () => query(env.url("owner"), "insert into auth.provider_keys (user_id, provider_id, encrypted_key) values ($1, 'anthropic', '\\x01')", [user]);
    expect(await sqlstate(insert())).toBe("ok");
    expect(await sqlstate(insert())).toBe("23505");
  });

  it("maintains updated_at in the database", async () => {
    const user = await newUser();
    const db = env.url("owner");
    const [before] = await query<{ updated_at: Date }>(db, "select updated_at from auth.users where id = $1", [user]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The application does not set updated_at; the trigger does.
    await query(db, "update auth.users set name = 'Renamed' where id = $1", [user]);
    const [after] = await query<{ updated_at: Date }>(db, "select updated_at from auth.users where id = $1", [user]);
    expect(after!.updated_at.getTime() - before!.updated_at.getTime()).toBeGreaterThanOrEqual(20);
  });

  it("leaves pg_stat_statements to the admin: the owner cannot create it, and without preloading its view refuses", async () => {
    expect(await sqlstate(query(env.url("owner"), "create extension pg_stat_statements"))).toBe("42501");
    await query(env.adminUrl, "create extension if not exists pg_stat_statements");
    const preloaded = await query<{ setting: string }>(env.adminUrl, "select setting from pg_settings where name = 'shared_preload_libraries'");
    const view = await sqlstate(query(env.adminUrl, "select count(*) from pg_stat_statements"));
    // This machine's server does not preload it (the embedded one and every platform do).
    expect(view).toBe(preloaded[0]!.setting.includes("pg_stat_statements") ? "ok" : "55000");
  });

  it("bootstraps the admin from a key hash only, and retires the previous key on rotation", async () => {
    const firstKey = randomBytes(32).toString("base64url");
    const secondKey = randomBytes(32).toString("base64url");
    await bootstrapAdmin(options, { email: "admin@gaia.test", keySha256: sha256Hex(firstKey) });
    await bootstrapAdmin(options, { email: "admin@gaia.test", keySha256: sha256Hex(firstKey) });
    await bootstrapAdmin(options, { email: "Admin@Gaia.test", keySha256: sha256Hex(secondKey) });
    const keys = await query<{ key_hash: string; is_active: boolean }>(
      env.url("owner"),
      "select k.key_hash, k.is_active from auth.api_keys k join auth.users u on u.id = k.user_id where lower(u.email) = 'admin@gaia.test' and u.is_admin order by k.created_at",
    );
    expect(keys).toEqual([
      { key_hash: sha256Hex(firstKey), is_active: false },
      { key_hash: sha256Hex(secondKey), is_active: true },
    ]);
    const stored = JSON.stringify(await query(env.adminUrl, "select * from auth.api_keys"));
    expect(stored).not.toContain(firstKey);
    expect(stored).not.toContain(secondKey);
    await expect(bootstrapAdmin(options, { email: "admin@gaia.test", keySha256: "admin-key-production" })).rejects.toThrow(/SHA-256/);
  });
});
