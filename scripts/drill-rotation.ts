/**
 * Rotation under load: `npm run drill:rotation`. On PostgreSQL 17 that checks passwords
 * (embedded, scram-sha-256) and the machine's Redis, 20 clients query without pause, each
 * opening a new connection per query (a pool's worst case) with the credential the secret store
 * holds, and re-reading it when authentication fails. Three rotations run back to back, each
 * applying what the planned resources apply, in the planned order (components/rotation.ts):
 *   PostgreSQL: the renewed slot's role update as the provider runs it, in one transaction
 *     (cyrilgdn/terraform-provider-postgresql postgresql/resource_postgresql_role.go,
 *     resourcePostgreSQLRoleUpdate: setRolePassword `ALTER ROLE %s PASSWORD '%s'`, then
 *     revokeRoles and grantRoles), with the password's SCRAM verifier as the component hands it
 *     (components/credentials.ts loginVerifier), then, a step later, the secret store.
 *   Redis: `ACL SETUSER` with the current and previous passwords (ops/redis-acl.ts), then the store.
 * The same load runs against the naive way (one login, its password replaced) for comparison.
 * Then `--revoke` (an incident: the current password leaked): the rotation under the same load,
 * then the login that was current retired (scripts/lib/retire.ts) while a leaked session holds it
 * and the leaked password keeps trying to log in; both must be refused within a second, with the
 * clients that follow the store failing nothing. Beside them, pooled clients (pg.Pool) made with
 * the store's credential before the rotation hold sessions of the retired login: those sessions
 * must be seen ended (SQLSTATE 57P01) and each pool serve again once made anew from the store.
 * And the failure paths, through `npm run rotate` itself (rotate()) and the program itself
 * (gaiaStack) under the mocked engine (scripts/lib/offline.ts): a rotation retried after its
 * update failed finishes the same step (it does not raise again), and an older stack file
 * deployed after the rotation is refused before any resource.
 * Fails when the alternating way fails a query, when the previous generation's credential no
 * longer logs in, or when one two generations old still does.
 *
 *   GAIA_DRILL_STEP_MS  time between the server's change and the secret store's (default 300:
 *                       the engine moving from one resource to the next)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client, Pool, type ClientConfig } from "pg";
import { GaiaConfigError } from "../components/config";
import { currentSlot, type Slot } from "../components/rotation";
import { scramSha256Verifier } from "../components/scram";
import { aclRules, connectRedis } from "../ops/lib/redis";
import { gaiaStack } from "../program";
import { outputValues } from "./lib/automation";
import { startEmbeddedPostgres } from "./lib/embeddedPostgres";
import { planProgram } from "./lib/offline";
import { retireLogin } from "./lib/retire";
import { PROJECT_ROOT, readStackFile } from "./lib/stackFile";
import { quoteIdent } from "../policy/grants";
import { RotationError, rotate, type RotationStack } from "./rotate";

const CLIENTS = 20;
const ROTATIONS = 3;
const POOLS = 4;
const POOL_SIZE = 3;
const STEP_MS = Number(process.env.GAIA_DRILL_STEP_MS ?? 300);
const REDIS_URL = process.env.GAIA_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until `done` holds, for at most `ms`. */
const until = async (done: () => boolean, ms: number) => {
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) await sleep(5);
};
const newPassword = () => randomBytes(24).toString("base64url");
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

interface Credential { user: string; password: string }
interface Tally { queries: number; failed: number; longestWaitMs: number }

/**
 * Clients querying until told to stop, each re-reading the store after an authentication failure.
 * `work` is told which credentials the clients' queries in flight use.
 */
async function underLoad(store: { current: Credential }, query: (c: Credential) => Promise<void>, work: (inFlight: () => Credential[]) => Promise<void>): Promise<Tally> {
  const tally: Tally = { queries: 0, failed: 0, longestWaitMs: 0 };
  let running = true;
  const using: Credential[] = [];
  const client = async (_: unknown, i: number) => {
    let failingSince: number | undefined;
    while (running) {
      const credential = (using[i] = store.current);
      try {
        await query(credential);
        tally.queries++;
        if (failingSince !== undefined) tally.longestWaitMs = Math.max(tally.longestWaitMs, Date.now() - failingSince);
        failingSince = undefined;
      } catch {
        tally.failed++;
        failingSince ??= Date.now();
        await sleep(5);
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  await sleep(200);
  await work(() => [...using]);
  await sleep(200);
  running = false;
  await Promise.all(clients);
  return tally;
}

/**
 * A policy role as the component makes it, on the drill's server: a group that may read a table
 * of its own, and its logins (`a` and `b`, or `n` for the naive way's one), each in the group with
 * a password whose SCRAM verifier the server holds. Connected as the server's admin until `drop`.
 */
async function drillRole(serverUrl: string, slots: readonly (Slot | "n")[]) {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  const id = randomBytes(3).toString("hex");
  const group = `drill_${id}`;
  const login = (slot: Slot | "n") => `drill_${id}_${slot}`;
  const passwords = Object.fromEntries(slots.map((slot) => [slot, newPassword()])) as Record<Slot | "n", string>;
  await admin.query(`CREATE ROLE ${quoteIdent(group)} NOLOGIN`);
  await admin.query(`CREATE TABLE ${quoteIdent(group)} (x int)`);
  await admin.query(`GRANT SELECT ON ${quoteIdent(group)} TO ${quoteIdent(group)}`);
  for (const slot of slots) {
    await admin.query(`CREATE ROLE ${quoteIdent(login(slot))} WITH ENCRYPTED PASSWORD ${literal(scramSha256Verifier(passwords[slot], login(slot)))} LOGIN INHERIT`);
    await admin.query(`GRANT ${quoteIdent(group)} TO ${quoteIdent(login(slot))}`);
  }
  const url = new URL(serverUrl);
  const settings = ({ user, password }: Credential): ClientConfig => ({ host: url.hostname, port: Number(url.port), database: "postgres", user, password });
  const sql = `select count(*) from ${quoteIdent(group)}`;
  return {
    admin,
    group,
    login,
    settings,
    sql,
    credential: (slot: Slot | "n"): Credential => ({ user: login(slot), password: passwords[slot] }),
    /** One query on a connection of its own: a pool's worst case. */
    query: async (credential: Credential) => {
      const c = new Client(settings(credential));
      // A session ended between statements is an error event, not a rejection: the next statement fails instead.
      c.on("error", () => undefined);
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    },
    drop: async () => {
      await admin.query(`DROP TABLE ${quoteIdent(group)}`);
      for (const slot of slots) await admin.query(`DROP ROLE ${quoteIdent(login(slot))}`);
      await admin.query(`DROP ROLE ${quoteIdent(group)}`);
      await admin.end();
    },
  };
}

async function postgresDrill(serverUrl: string, alternating: boolean) {
  const role = await drillRole(serverUrl, alternating ? ["a", "b"] : ["n"]);
  const initial = role.credential(alternating ? "a" : "n");
  const store = { current: initial };
  const history: Credential[] = [initial];
  const tally = await underLoad(store, role.query, async (inFlight) => {
    for (let generation = 1; generation <= ROTATIONS; generation++) {
      const login = role.login(alternating ? currentSlot(generation) : "n");
      // As `npm run rotate` refuses to renew a login still in use: the rotations here come a step apart,
      // not months, and a query begun with the credential two generations back may outlast a step on a busy machine.
      if (alternating) await until(() => !inFlight().some((c) => c.user === login), 5_000);
      const password = newPassword();
      await role.admin.query("BEGIN");
      await role.admin.query(`ALTER ROLE ${quoteIdent(login)} PASSWORD ${literal(scramSha256Verifier(password, login))}`);
      await role.admin.query(`REVOKE ${quoteIdent(role.group)} FROM ${quoteIdent(login)}`);
      await role.admin.query(`GRANT ${quoteIdent(role.group)} TO ${quoteIdent(login)}`);
      await role.admin.query("COMMIT");
      await sleep(STEP_MS);
      store.current = { user: login, password };
      history.push(store.current);
      await sleep(STEP_MS);
    }
  });
  const generations = await olderCredentials(history, role.query);
  await role.drop();
  return { tally, ...generations };
}

interface PoolTally {
  queries: number;
  failed: number;
  /** Sessions seen ended by the server's admin (SQLSTATE 57P01), in a query or idle in a pool. */
  ended: number;
  /** Pools that served a query after being remade from the store. */
  servingAgain: number;
  /** From `since()` to the last pool's first query after being remade. */
  servingAgainMs: number;
}

/**
 * Pooled clients (pg.Pool), as an application keeps them: each pool made with the credential the
 * store held at that moment and kept until its sessions fail; then (a session ended, 57P01, or its
 * password refused, 28P01) made anew with the store's credential. Returns a stop that ends the
 * pools and says what they saw.
 */
function pooledClients(store: { current: Credential }, role: { settings: (c: Credential) => ClientConfig; sql: string }, since: () => number) {
  const tally: PoolTally = { queries: 0, failed: 0, ended: 0, servingAgain: 0, servingAgainMs: 0 };
  const newPool = () => {
    const pool = new Pool({ ...role.settings(store.current), max: POOL_SIZE, idleTimeoutMillis: 0 });
    // An idle pooled session ended by the server reaches the pool, not a query.
    pool.on("error", (error) => void ((error as { code?: string }).code === "57P01" && tally.ended++));
    return pool;
  };
  let running = true;
  const pools = Array.from({ length: POOLS }, () => ({ pool: newPool(), remade: false, servedAgain: false }));
  const worker = async (held: (typeof pools)[number]) => {
    while (running) {
      const pool = held.pool;
      try {
        await pool.query(role.sql);
        tally.queries++;
        if (held.remade && !held.servedAgain) {
          held.servedAgain = true;
          tally.servingAgain++;
          tally.servingAgainMs = Math.max(tally.servingAgainMs, Date.now() - since());
        }
        // A request every 100 ms per worker: every pooled session in use, without taking the machine from the clients above.
        await sleep(100);
      } catch (error) {
        tally.failed++;
        const code = (error as { code?: string }).code;
        if (code === "57P01") tally.ended++;
        if ((code === "57P01" || code === "28P01") && held.pool === pool) {
          held.pool = newPool();
          held.remade = true;
          void pool.end().catch(() => undefined);
        }
        await sleep(5);
      }
    }
  };
  const workers = pools.flatMap((held) => Array.from({ length: POOL_SIZE }, () => worker(held)));
  return async () => {
    running = false;
    await Promise.all(workers);
    await Promise.all(pools.map((held) => held.pool.end().catch(() => undefined)));
    return tally;
  };
}

/** --revoke under load: how long the leaked credential's session and new logins last once the retire starts, and what pooled sessions see. */
async function revokeDrill(serverUrl: string) {
  const role = await drillRole(serverUrl, ["a", "b"]);
  const leaked = role.credential("a");
  const store = { current: leaked };
  // Whoever holds the leaked password: one session kept open, and new logins tried without pause.
  const held = new Client(role.settings(leaked));
  await held.connect();
  const result = { sessionEndedMs: -1, loginRefusedMs: -1, retired: 0 };
  let retiredAt = 0;
  const sessionEnded = new Promise<void>((resolve) => held.on("error", () => ((result.sessionEndedMs = Date.now() - retiredAt), resolve())));
  let trying = true;
  const intruder = (async () => {
    while (trying) {
      const ok = await role.query(leaked).then(() => true, () => false);
      if (!ok && retiredAt && result.loginRefusedMs < 0) result.loginRefusedMs = Date.now() - retiredAt;
      await sleep(5);
    }
  })();
  const stopPools = pooledClients(store, role, () => retiredAt);
  const tally = await underLoad(store, role.query, async (inFlight) => {
    // The rotation: slot b renewed and made current, the store after it (as in postgresDrill)...
    const password = newPassword();
    await role.admin.query(`ALTER ROLE ${quoteIdent(role.login("b"))} PASSWORD ${literal(scramSha256Verifier(password, role.login("b")))}`);
    await sleep(STEP_MS);
    store.current = { user: role.login("b"), password };
    await sleep(STEP_MS);
    // ...then, once the new login serves every client that follows the store, the leaked one retired. A
    // query begun with the leaked credential just before the store moved may outlast a step on a busy
    // machine; in `npm run rotate` the update's last steps and the login check come before the retire.
    await until(() => !inFlight().includes(leaked), 5_000);
    retiredAt = Date.now();
    result.retired = await retireLogin(role.admin, leaked.user);
    await Promise.race([sessionEnded, sleep(5_000)]);
    await sleep(300);
  });
  const pooled = await stopPools();
  trying = false;
  await intruder;
  await held.end().catch(() => undefined);
  const leakedLogsIn = await role.query(leaked).then(() => true, () => false);
  await role.drop();
  return { tally, pooled, leakedLogsIn, ...result };
}

async function redisDrill(alternating: boolean) {
  const admin = await connectRedis(REDIS_URL);
  const id = randomBytes(3).toString("hex");
  const user = `drill_${id}`;
  const prefix = `drill:${id}:`;
  let passwords = [newPassword(), newPassword()];
  await admin.sendCommand(["ACL", "SETUSER", user, ...aclRules(prefix, ...(alternating ? passwords : passwords.slice(0, 1)))]);
  const initial = { user, password: passwords[0]! };
  const store = { current: initial };
  const history: Credential[] = [initial];
  const query = async ({ password }: Credential) => {
    const url = new URL(REDIS_URL);
    url.username = user;
    url.password = password;
    const c = await connectRedis(url.toString());
    try {
      await c.get(`${prefix}k`);
    } finally {
      await c.quit().catch(() => undefined);
    }
  };
  const tally = await underLoad(store, query, async () => {
    for (let generation = 1; generation <= ROTATIONS; generation++) {
      const password = newPassword();
      // The renewed slot takes the new password; the other (the previous one) stays.
      passwords = alternating ? [password, store.current.password] : [password];
      await admin.sendCommand(["ACL", "SETUSER", user, ...aclRules(prefix, ...passwords)]);
      await sleep(STEP_MS);
      store.current = { user, password };
      history.push(store.current);
      await sleep(STEP_MS);
    }
  });
  const generations = await olderCredentials(history, query);
  await admin.sendCommand(["ACL", "DELUSER", user]);
  await admin.quit();
  return { tally, ...generations };
}

/** After the rotations: does the previous generation's credential still log in, and the one two generations old? */
async function olderCredentials(history: Credential[], query: (c: Credential) => Promise<void>) {
  const logsIn = (c: Credential) => query(c).then(() => true, () => false);
  return { previousLogsIn: await logsIn(history.at(-2)!), twoOldLogsIn: await logsIn(history.at(-3)!) };
}

/**
 * A stack the drill deploys under the mocked engine: the local stack's file (Pulumi.local.yaml)
 * in a folder of its own, its config in memory as the CLI would hold it, and each update the
 * program itself (gaiaStack) given what the last one applied, as index.ts reads it back from the
 * stack's own `rotation` output. An update fails while `failing` says so; a failed one leaves the
 * state as it was. Resources registered, the stack itself aside, are counted.
 */
function drillStack(name: string) {
  const root = mkdtempSync(path.join(tmpdir(), "gaia-drill-stack-"));
  writeFileSync(path.join(root, `Pulumi.${name}.yaml`), readFileSync(path.join(PROJECT_ROOT, "Pulumi.local.yaml"), "utf8"));
  const config = { ...readStackFile("local").config };
  const state: { outputs: Record<string, unknown>; resources: number } = { outputs: {}, resources: 0 };
  const failing = { updates: 0 };
  /** An update with these generations in the stack file: the program refuses, or the state becomes its outputs. */
  const deploy = async (generations: Record<string, number> = JSON.parse(config["gaia:rotation"] ?? "{}")) => {
    const applied = state.outputs.rotation as Record<string, number> | undefined;
    let registered = 0;
    const onRegister = (type: string) => void (type !== "pulumi:pulumi:Stack" && registered++);
    try {
      const plan = await planProgram(name, { ...config, "gaia:rotation": JSON.stringify(generations) }, () => gaiaStack(applied), { onRegister });
      state.outputs = outputValues(plan.outputs);
    } finally {
      state.resources = registered;
    }
    return state.outputs;
  };
  const stack: RotationStack = {
    getConfigValue: async (key) => config[key],
    // `pulumi config set --path gaia:rotation.<key>`, as the CLI sets it.
    setConfigValue: async (key, value) => {
      const [, credential] = key.split(".");
      config["gaia:rotation"] = JSON.stringify({ ...JSON.parse(config["gaia:rotation"] ?? "{}"), [credential!]: Number(value) });
    },
    up: async () => {
      if (failing.updates > 0) {
        failing.updates--;
        throw new Error(`update failed:\n  postgresql:index:Role (gaia_local_chat_b): error: dial tcp 127.0.0.1:5432: connect: connection refused`);
      }
      return deploy();
    },
    outputs: async () => state.outputs,
  };
  const generation = (credential: string) => ({
    file: (JSON.parse(config["gaia:rotation"] ?? "{}") as Record<string, number>)[credential],
    applied: (state.outputs.rotation as Record<string, number>)[credential],
  });
  // The login checks and the sessions count are not what these two checks are about: they pass.
  const options = { root, open: async () => stack, logsIn: async () => undefined, sessionsOf: async () => 0 };
  return { config, state, failing, deploy, generation, options, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * A rotation whose update fails, then run again, through rotate() on the stack at ROTATIONS: the
 * rerun must finish the step the stack file already asks for (applied ROTATIONS + 1), not raise
 * it again. Then the stack file from before the rotation deployed: the program must refuse it
 * before any resource.
 */
async function failurePathsDrill() {
  const drill = drillStack("drill");
  drill.config["gaia:rotation"] = JSON.stringify({ chat: ROTATIONS });
  await drill.deploy();
  const before = { chat: ROTATIONS };
  drill.failing.updates = 1;
  const failed = await rotate(["drill", "chat"], drill.options).then(() => "the update did not fail", (error: unknown) => (error instanceof RotationError ? "" : String(error)));
  const afterFailure = drill.generation("chat");
  const rerun = await rotate(["drill", "chat"], drill.options).then((lines) => lines[0]!, (error: unknown) => `refused: ${(error as Error).message}`);
  const retried = { failed, afterFailure, after: drill.generation("chat"), rerun };
  const older = await drill.deploy(before).then(() => undefined, (error: unknown) => (error instanceof GaiaConfigError ? error.problems[0] : String(error)));
  drill.remove();
  return { retried, older, olderResources: drill.state.resources };
}

const line = (label: string, what: string, t: Tally) =>
  `${label}: ${ROTATIONS} rotations, ${CLIENTS} clients, ${t.queries} queries, ${t.failed} failed, longest wait ${t.longestWaitMs} ms (${what})`;

async function main() {
  const server = await startEmbeddedPostgres({ dataDir: mkdtempSync(path.join(tmpdir(), "gaia-drill-")) });
  let ok = true;
  const problem = (what: string) => {
    console.error(what);
    ok = false;
  };
  try {
    for (const alternating of [true, false]) {
      const label = alternating ? "rotation drill" : "naive drill (one login, password replaced)";
      const pg = await postgresDrill(server.url, alternating);
      const redis = await redisDrill(alternating);
      console.log(line(label, "postgres", pg.tally));
      console.log(line(label, "redis", redis.tally));
      if (alternating) {
        if (pg.tally.failed > 0 || redis.tally.failed > 0) ok = false;
        for (const [what, r] of [["postgres", pg], ["redis", redis]] as const) {
          const problems = [r.twoOldLogsIn && "a credential two generations old still logs in", !r.previousLogsIn && "the previous generation's credential no longer logs in"];
          for (const found of problems.filter(Boolean)) problem(`${what}: ${found}`);
        }
      }
    }
    const { retried, older, olderResources } = await failurePathsDrill();
    const finished = retried.failed === "" && retried.afterFailure.file === ROTATIONS + 1 && retried.afterFailure.applied === ROTATIONS && retried.after.file === ROTATIONS + 1 && retried.after.applied === ROTATIONS + 1;
    console.log(
      `retried rotation (npm run rotate, its update failing once): the stack file at ${retried.afterFailure.file}, the stack at ${retried.afterFailure.applied}; run again: ${retried.rerun}; ` +
        `the stack file at ${retried.after.file}, the stack at ${retried.after.applied}: ${finished ? "finished that step, no second" : "NOT one step"}`,
    );
    if (!finished) problem(`retried rotation: ${retried.failed || "not one step"}`);
    console.log(`an older deploy after the rotation (the program, chat at ${ROTATIONS} in the stack file): ${older ? `refused before any resource (${olderResources} registered): ${older}` : `NOT refused (${olderResources} resources registered)`}`);
    if (!older || olderResources > 0) problem("older deploy: not refused before any resource");
    const revoked = await revokeDrill(server.url);
    const pooled = revoked.pooled;
    console.log(
      `revoke drill: 1 rotation then the previous login retired, ${CLIENTS} clients, ${revoked.tally.queries} queries, ${revoked.tally.failed} failed (postgres); ` +
        `the leaked login's session ended after ${revoked.sessionEndedMs} ms, ` +
        `its password refused after ${revoked.loginRefusedMs} ms, ${revoked.retired} session(s) ended; ` +
        `${POOLS} pools of ${POOL_SIZE} made before the rotation: ${pooled.queries} queries, ${pooled.failed} failed, ${pooled.ended} pooled session(s) seen ended (SQLSTATE 57P01), ` +
        `${pooled.servingAgain} of ${POOLS} pools remade from the store and serving again within ${pooled.servingAgainMs} ms`,
    );
    const revokeProblems = [
      revoked.tally.failed > 0 && "a client following the store failed a query",
      !(revoked.sessionEndedMs >= 0 && revoked.sessionEndedMs < 1_000) && "the leaked login's session did not end within a second",
      !(revoked.loginRefusedMs >= 0 && revoked.loginRefusedMs < 1_000) && "the leaked password was not refused within a second",
      revoked.leakedLogsIn && "the leaked password still logs in",
      pooled.ended === 0 && "no pooled session of the leaked login was seen ended (57P01)",
      pooled.servingAgain < POOLS && "a pool did not serve again after its sessions were ended",
    ];
    for (const found of revokeProblems.filter(Boolean)) problem(`revoke: ${found}`);
  } finally {
    await server.stop();
  }
  if (!ok) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
