import { readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPrivileges } from "../../ops/lib/privileges";
import { migrateDatabase } from "../../ops/lib/migrations";
import { applyAccessPolicy } from "../../ops/lib/policy";
import { policySpec } from "../../policy/grants";
import { copyMigrations } from "../support/migrations";
import { SHARED_SERVER, createEnvironment, query, uniqueEnvironment, type TestEnvironment } from "../support/postgres";
import { withClient } from "../support/postgres";

/**
 * A database made by the first migration, with rows in every table, upgraded in place by the
 * migrations since: every row is still there, in its table's new schema, every reference
 * intact; then the campaign tables' constraints and cascades.
 */
let env: TestEnvironment;
const quiet = () => undefined;
const ids: Record<string, string> = {};

beforeAll(async () => {
  env = await createEnvironment(SHARED_SERVER, uniqueEnvironment("upgrade"));
  const owner = { connectionString: env.url("owner"), ownerRole: env.names.groupRole("owner"), log: quiet };
  // Version 1 alone: a copy of the migrations without those after the first.
  const v1 = copyMigrations();
  for (const file of readdirSync(path.join(v1, "committed")).sort().slice(1)) rmSync(path.join(v1, "committed", file));
  await migrateDatabase({ ...owner, migrationsFolder: v1 });
  const one = async (sql: string, params: unknown[] = []) => (await query<{ id: string }>(env.url("owner"), `${sql} returning id`, params))[0]!.id;
  ids.user = await one("insert into users (email, password_hash) values ('ada@gaia.test', 'argon2-hash')");
  ids.apiKey = await one("insert into api_keys (user_id, key_hash) values ($1, repeat('a', 64))", [ids.user]);
  ids.providerKey = await one("insert into provider_keys (user_id, provider_id, encrypted_key) values ($1, 'openai', '\\x01')", [ids.user]);
  ids.conversation = await one("insert into conversations (user_id, title) values ($1, 'first')", [ids.user]);
  ids.message = await one("insert into messages (conversation_id, role, content) values ($1, 'user', 'hello')", [ids.conversation]);
  ids.asset = await one("insert into assets (user_id, type, name) values ($1, 'image', 'map')", [ids.user]);
  ids.oauth = await one("insert into oauth_accounts (user_id, provider, provider_account_id) values ($1, 'github', '42')", [ids.user]);
  ids.session = await one("insert into sessions (user_id, token_hash, expires_at) values ($1, repeat('b', 64), now() + interval '1 day')", [ids.user]);
  ids.access = await one("insert into access_control (user_id, resource_type, resource_id, permission) values ($1, 'asset', 'x', 'read')", [ids.user]);
  ids.event = await one("insert into security_events (user_id, event_type) values ($1, 'login')", [ids.user]);
  // Then everything since, as the schema command runs it.
  const applied = await migrateDatabase(owner);
  expect(applied.applied.length).toBeGreaterThan(0);
  await withClient(env.url("owner"), (c) => applyAccessPolicy(c, policySpec(env.names)));
});

afterAll(async () => {
  await env?.drop();
});

describe("upgrading a version-1 database in place", () => {
  it("keeps every row, in its table's new schema", async () => {
    const rows = await query<Record<string, number>>(env.adminUrl, `select
      (select count(*) from auth.users where id = $1 and password_hash = 'argon2-hash')::int as users,
      (select count(*) from auth.api_keys where id = $2 and user_id = $1)::int as api_keys,
      (select count(*) from auth.provider_keys where id = $3 and user_id = $1)::int as provider_keys,
      (select count(*) from game.conversations where id = $4 and user_id = $1 and campaign_id is null)::int as conversations,
      (select count(*) from game.messages where id = $5 and conversation_id = $4)::int as messages,
      (select count(*) from platform.assets where id = $6)::int as assets,
      (select count(*) from auth.oauth_accounts where id = $7)::int as oauth_accounts,
      (select count(*) from auth.sessions where id = $8)::int as sessions,
      (select count(*) from auth.access_control where id = $9)::int as access_control,
      (select count(*) from audit.security_events where id = $10)::int as security_events,
      (select count(*) from platform.providers)::int as providers`,
      [ids.user, ids.apiKey, ids.providerKey, ids.conversation, ids.message, ids.asset, ids.oauth, ids.session, ids.access, ids.event]);
    expect(rows[0]).toEqual({ users: 1, api_keys: 1, provider_keys: 1, conversations: 1, messages: 1, assets: 1, oauth_accounts: 1, sessions: 1, access_control: 1, security_events: 1, providers: 3 });
  });

  it("keeps the triggers working from their new schemas, and the privileges exactly the policy's", async () => {
    const before = (await query<{ updated_at: Date }>(env.url("owner"), "select updated_at from game.conversations where id = $1", [ids.conversation]))[0]!.updated_at;
    await new Promise((r) => setTimeout(r, 20));
    await query(env.url("chat"), "insert into game.messages (conversation_id, role, content) values ($1, 'assistant', 'hi')", [ids.conversation]);
    const after = (await query<{ updated_at: Date }>(env.url("owner"), "select updated_at from game.conversations where id = $1", [ids.conversation]))[0]!.updated_at;
    expect(after.getTime()).toBeGreaterThan(before.getTime());
    await withClient(env.url("owner"), async (c) => expect((await checkPrivileges(c, env.names)).problems).toEqual([]));
  });

  it("ties campaigns to their owner, participants and conversations, with the cascades the seed describes", async () => {
    const db = env.url("chat");
    const campaign = (await query<{ id: string }>(db, "insert into game.campaigns (owner_id, name) values ($1, 'Lost Mines') returning id", [ids.user]))[0]!.id;
    await query(db, "insert into game.campaign_participants (campaign_id, user_id, role) values ($1, $2, 'game_master')", [campaign, ids.user]);
    // One seat per user per campaign, and only the roles a table may hold.
    await expect(query(db, "insert into game.campaign_participants (campaign_id, user_id) values ($1, $2)", [campaign, ids.user])).rejects.toMatchObject({ code: "23505" });
    await expect(query(db, "insert into game.campaign_participants (campaign_id, user_id, role) values ($1, $2, 'dragon')", [campaign, ids.user])).rejects.toMatchObject({ code: "23514" });
    const talk = (await query<{ id: string }>(db, "insert into game.conversations (user_id, campaign_id) values ($1, $2) returning id", [ids.user, campaign]))[0]!.id;
    await query(db, "insert into game.messages (conversation_id, role, content) values ($1, 'user', 'roll')", [talk]);
    // The campaign goes with its seats and its conversation history; the older conversation stays.
    await query(db, "delete from game.campaigns where id = $1", [campaign]);
    const left = (await query<Record<string, number>>(env.url("owner"), `select
      (select count(*) from game.campaign_participants where campaign_id = $1)::int as seats,
      (select count(*) from game.conversations where id = $2)::int as campaign_talk,
      (select count(*) from game.messages where conversation_id = $2)::int as campaign_messages,
      (select count(*) from game.conversations where id = $3)::int as other_talk`, [campaign, talk, ids.conversation]))[0];
    expect(left).toEqual({ seats: 0, campaign_talk: 0, campaign_messages: 0, other_talk: 1 });
  });

  it("refuses each service what is not its schema's, and analytics the secret columns of auth", async () => {
    await expect(query(env.url("assets"), "select count(*) from game.campaigns")).rejects.toMatchObject({ code: "42501" });
    await expect(query(env.url("chat"), "select count(*) from audit.security_events")).rejects.toMatchObject({ code: "42501" });
    await expect(query(env.url("analytics"), "select password_hash from auth.users")).rejects.toMatchObject({ code: "42501" });
    expect((await query<{ n: number }>(env.url("analytics"), "select count(*)::int as n from game.campaigns"))[0]!.n).toBe(0);
  });
});
