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
 * clients that follow the store failing nothing. And the failure paths, through the same checks
 * `npm run rotate` and the program make: a rotation retried after its update failed finishes the
 * same step (it does not raise again), and an older stack file deployed after a rotation is
 * refused before any resource.
 * Fails when the alternating way fails a query, when the previous generation's credential no
 * longer logs in, or when one two generations old still does.
 *
 *   GAIA_DRILL_STEP_MS  time between the server's change and the secret store's (default 300:
 *                       the engine moving from one resource to the next)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { currentSlot, rotationStepProblems, type Slot } from "../components/rotation";
import { scramSha256Verifier } from "../components/scram";
import { aclRules, connectRedis } from "../ops/lib/redis";
import { startEmbeddedPostgres } from "./lib/embeddedPostgres";
import { retireLogin } from "./lib/retire";
import { rotationStep } from "./rotate";

const CLIENTS = 20;
const ROTATIONS = 3;
const STEP_MS = Number(process.env.GAIA_DRILL_STEP_MS ?? 300);
const REDIS_URL = process.env.GAIA_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const newPassword = () => randomBytes(24).toString("base64url");
const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

interface Credential { user: string; password: string }
interface Tally { queries: number; failed: number; longestWaitMs: number }

/** Clients querying until told to stop, each re-reading the store after an authentication failure. */
async function underLoad(store: { current: Credential }, query: (c: Credential) => Promise<void>, work: () => Promise<void>): Promise<Tally> {
  const tally: Tally = { queries: 0, failed: 0, longestWaitMs: 0 };
  let running = true;
  const client = async () => {
    let failingSince: number | undefined;
    while (running) {
      const credential = store.current;
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
  await work();
  await sleep(200);
  running = false;
  await Promise.all(clients);
  return tally;
}

async function postgresDrill(serverUrl: string, alternating: boolean) {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  const id = randomBytes(3).toString("hex");
  const group = `drill_${id}`;
  const login = (slot: Slot | "n") => `drill_${id}_${slot}`;
  const passwords: Record<string, string> = { a: newPassword(), b: newPassword(), n: newPassword() };
  await admin.query(`CREATE ROLE ${q(group)} NOLOGIN`);
  await admin.query(`CREATE TABLE ${q(group)} (x int)`);
  await admin.query(`GRANT SELECT ON ${q(group)} TO ${q(group)}`);
  for (const slot of alternating ? (["a", "b"] as const) : (["n"] as const)) {
    await admin.query(`CREATE ROLE ${q(login(slot))} WITH ENCRYPTED PASSWORD ${literal(scramSha256Verifier(passwords[slot]!, login(slot)))} LOGIN INHERIT`);
    await admin.query(`GRANT ${q(group)} TO ${q(login(slot))}`);
  }
  const first = alternating ? "a" : "n";
  const initial = { user: login(first), password: passwords[first]! };
  const store = { current: initial };
  const history: Credential[] = [initial];
  const url = new URL(serverUrl);
  const query = async ({ user, password }: Credential) => {
    const c = new Client({ host: url.hostname, port: Number(url.port), database: "postgres", user, password });
    await c.connect();
    try {
      await c.query(`select count(*) from ${q(group)}`);
    } finally {
      await c.end();
    }
  };
  const tally = await underLoad(store, query, async () => {
    for (let generation = 1; generation <= ROTATIONS; generation++) {
      const slot = alternating ? currentSlot(generation) : "n";
      const password = newPassword();
      await admin.query("BEGIN");
      await admin.query(`ALTER ROLE ${q(login(slot))} PASSWORD ${literal(scramSha256Verifier(password, login(slot)))}`);
      await admin.query(`REVOKE ${q(group)} FROM ${q(login(slot))}`);
      await admin.query(`GRANT ${q(group)} TO ${q(login(slot))}`);
      await admin.query("COMMIT");
      await sleep(STEP_MS);
      store.current = { user: login(slot), password };
      history.push(store.current);
      await sleep(STEP_MS);
    }
  });
  const generations = await olderCredentials(history, query);
  await admin.query(`DROP TABLE ${q(group)}`);
  for (const slot of alternating ? ["a", "b"] : ["n"]) await admin.query(`DROP ROLE ${q(login(slot as Slot))}`);
  await admin.query(`DROP ROLE ${q(group)}`);
  await admin.end();
  return { tally, ...generations };
}

/** --revoke under load: how long the leaked credential's session and new logins last once the retire starts. */
async function revokeDrill(serverUrl: string) {
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  const id = randomBytes(3).toString("hex");
  const group = `drill_${id}`;
  const login = (slot: Slot) => `drill_${id}_${slot}`;
  const passwords: Record<Slot, string> = { a: newPassword(), b: newPassword() };
  await admin.query(`CREATE ROLE ${q(group)} NOLOGIN`);
  await admin.query(`CREATE TABLE ${q(group)} (x int)`);
  await admin.query(`GRANT SELECT ON ${q(group)} TO ${q(group)}`);
  for (const slot of ["a", "b"] as const) {
    await admin.query(`CREATE ROLE ${q(login(slot))} WITH ENCRYPTED PASSWORD ${literal(scramSha256Verifier(passwords[slot], login(slot)))} LOGIN INHERIT IN ROLE ${q(group)}`);
  }
  const leaked: Credential = { user: login("a"), password: passwords.a };
  const store = { current: leaked };
  const url = new URL(serverUrl);
  const connect = ({ user, password }: Credential) => new Client({ host: url.hostname, port: Number(url.port), database: "postgres", user, password });
  const query = async (credential: Credential) => {
    const c = connect(credential);
    await c.connect();
    try {
      await c.query(`select count(*) from ${q(group)}`);
    } finally {
      await c.end();
    }
  };
  // Whoever holds the leaked password: one session kept open, and new logins tried without pause.
  const held = connect(leaked);
  await held.connect();
  const result = { sessionEndedMs: -1, loginRefusedMs: -1, retired: 0 };
  let retiredAt = 0;
  const sessionEnded = new Promise<void>((resolve) => held.on("error", () => ((result.sessionEndedMs = Date.now() - retiredAt), resolve())));
  let trying = true;
  const intruder = (async () => {
    while (trying) {
      const ok = await query(leaked).then(() => true, () => false);
      if (!ok && retiredAt && result.loginRefusedMs < 0) result.loginRefusedMs = Date.now() - retiredAt;
      await sleep(5);
    }
  })();
  const tally = await underLoad(store, query, async () => {
    // The rotation: slot b renewed and made current, the store after it (as in postgresDrill)...
    const password = newPassword();
    await admin.query(`ALTER ROLE ${q(login("b"))} PASSWORD ${literal(scramSha256Verifier(password, login("b")))}`);
    await sleep(STEP_MS);
    store.current = { user: login("b"), password };
    await sleep(STEP_MS);
    // ...then, once the new login serves, the leaked one retired.
    retiredAt = Date.now();
    result.retired = await retireLogin(admin, leaked.user);
    await Promise.race([sessionEnded, sleep(5_000)]);
    await sleep(300);
  });
  trying = false;
  await intruder;
  await held.end().catch(() => undefined);
  const leakedLogsIn = await query(leaked).then(() => true, () => false);
  await admin.query(`DROP TABLE ${q(group)}`);
  for (const slot of ["a", "b"] as const) await admin.query(`DROP ROLE ${q(login(slot))}`);
  await admin.query(`DROP ROLE ${q(group)}`);
  await admin.end();
  return { tally, leakedLogsIn, ...result };
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

const line = (label: string, what: string, t: Tally) =>
  `${label}: ${ROTATIONS} rotations, ${CLIENTS} clients, ${t.queries} queries, ${t.failed} failed, longest wait ${t.longestWaitMs} ms (${what})`;

async function main() {
  const server = await startEmbeddedPostgres({ dataDir: mkdtempSync(path.join(tmpdir(), "gaia-drill-")) });
  let ok = true;
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
          for (const problem of problems.filter(Boolean)) {
            console.error(`${what}: ${problem}`);
            ok = false;
          }
        }
      }
    }
    // A retry after a failed update: the stack file one ahead of what was applied finishes that step.
    const retried = rotationStep("chat", ["chat"], { chat: ROTATIONS + 1 }, { chat: ROTATIONS }, "drill");
    console.log(`retried rotation: the stack file at ${ROTATIONS + 1}, the stack at ${ROTATIONS}: ${retried.resumed && retried.to === ROTATIONS + 1 ? "finishes that step, no second" : `moves to ${retried.to}`}`);
    if (!retried.resumed || retried.to !== ROTATIONS + 1) ok = false;
    // An older stack file deployed after the rotations: refused, as the program refuses it before any resource.
    const older = rotationStepProblems({ chat: ROTATIONS }, { chat: ROTATIONS - 1 });
    console.log(`an older deploy after the rotations: ${older.length ? `refused (${older[0]})` : "NOT refused"}`);
    if (older.length === 0) ok = false;
    const revoked = await revokeDrill(server.url);
    console.log(
      `revoke drill: 1 rotation then the previous login retired, ${CLIENTS} clients, ${revoked.tally.queries} queries, ${revoked.tally.failed} failed (postgres); ` +
        `the leaked login's session ended after ${revoked.sessionEndedMs} ms, ` +
        `its password refused after ${revoked.loginRefusedMs} ms, ${revoked.retired} session(s) ended`,
    );
    const revokeProblems = [
      revoked.tally.failed > 0 && "a client following the store failed a query",
      !(revoked.sessionEndedMs >= 0 && revoked.sessionEndedMs < 1_000) && "the leaked login's session did not end within a second",
      !(revoked.loginRefusedMs >= 0 && revoked.loginRefusedMs < 1_000) && "the leaked password was not refused within a second",
      revoked.leakedLogsIn && "the leaked password still logs in",
    ];
    for (const problem of revokeProblems.filter(Boolean)) {
      console.error(`revoke: ${problem}`);
      ok = false;
    }
  } finally {
    await server.stop();
  }
  if (!ok) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
