import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environmentNames } from "../../policy/naming";
import { cloudState, unwrap } from "../../scripts/lib/cloudMocks";
import type { EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { providerSideDir, registerSecret } from "../support/canary";
import { startTestPostgres } from "../support/embedded";
import { planStack, type PlannedResource, type StackPlan } from "../../scripts/lib/offline";
import { makeCertificates } from "../support/certificates";
import { committedMigrations } from "../support/migrations";
import { runPlanned, type CommandRun } from "../support/planned";
import { passwordClause, withClient, withDatabase } from "../support/postgres";
import { ADDED_SERVICES } from "../support/services";
import { one, stackOn } from "../support/stacks";

/**
 * ops/fly.ts, run as the Fly plan's command resources run it, against the flyctl double
 * (test/support/flyctl-double.cjs: flyctl's flags, outputs, prompts and errors), and for the
 * schema against a real PostgreSQL 17 that serves TLS only, as Managed Postgres does.
 */
const DOUBLE = path.resolve(__dirname, "../support/flyctl-double.cjs");
const stack = `fly${randomBytes(3).toString("hex")}`;
const names = environmentNames(stack);
let plan: StackPlan;
let stateFile: string;
let server: EmbeddedServer;
const printed: CommandRun[] = [];
/** Fly's own user, then two per role (its rotation slots a and b): analytics' readers and a service's writers; 9 for chat, assets and auth, two more per service added since. */
const USERS = 9 + 2 * ADDED_SERVICES.length;
/** The services' apps (test/support/stacks.ts): chat's, assets', auth's and those of services added since. */
const APPS = ["gaia-chat", "gaia-assets", "gaia-auth", ...ADDED_SERVICES.map((s) => `gaia-${s}`)];
/** Every password the double's Fly has handed out, seen after each run. */
const passwords = new Set<string>();
/**
 * An operator's environment at its leakiest: flyctl's debug level on, and FLY_CONFIG_DIR set to
 * flyctl's default, $HOME/.fly, in a HOME of the test's, so that whatever the developer's own
 * environment, a log not kept out lands there. TMPDIR gathers the config directories
 * ops/lib/flyctl.ts makes, so that the test sees them go.
 */
const home = mkdtempSync(path.join(tmpdir(), "gaia-fly-home-"));
const opsTmp = mkdtempSync(path.join(tmpdir(), "gaia-fly-tmp-"));
const operator = { HOME: home, FLY_CONFIG_DIR: path.join(home, ".fly"), LOG_LEVEL: "debug", TMPDIR: opsTmp, FLY_API_TOKEN: `FlyV1 fm2_${randomBytes(12).toString("base64url")}`, FLY_ACCESS_TOKEN: "" };
/** The config directories flyctl was given, one per call. */
const configDirs = new Set<string>();

interface DoubleState {
  clusters: { id: string; name: string; plan: string; status?: string; databases: string[]; users: { name: string; role: string; password: string }[]; attached_apps: string[] }[];
  redis: { name: string; password: string; replicas: string[] }[];
  secrets: Record<string, Record<string, string>>;
  calls: { argv: string[]; stdin: string; configDir?: string; configDirMode?: string; logLevel?: string; log?: string; logsFound?: string }[];
  backups?: { cluster: string; type: string }[];
}
const state = () => JSON.parse(readFileSync(stateFile, "utf8")) as DoubleState;
const command = (name: string) => one(plan, "command:local:Command", name);

/** Files under `dir` that hold any of `secrets`, as "file: secret". */
function leaks(dir: string, secrets: Iterable<string>): string[] {
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => statSync(path.join(dir, name)).isFile());
  return files.flatMap((name) => {
    const text = readFileSync(path.join(dir, name), "utf8");
    return [...secrets].filter((secret) => text.includes(secret)).map((secret) => `${name}: ${secret}`);
  });
}

/**
 * Runs a command resource through ops/fly.ts, then checks that flyctl's debug log went nowhere:
 * each flyctl call had a private config directory of its own, where `logs` is a file so that
 * flyctl writes no log, and LOG_LEVEL=warn; the directory is gone, and no file in the operator's
 * HOME holds a password.
 */
function fly(resource: PlannedResource, verb: "create" | "update" | "delete", override: Record<string, string> = {}): CommandRun {
  const before = existsSync(stateFile) ? state().calls.length : 0;
  const result = runPlanned(resource, verb, { FLYCTL: DOUBLE, FAKE_FLY_STATE: stateFile, ...operator, ...override });
  printed.push(result);
  const now = state();
  for (const p of [...now.clusters.flatMap((c) => c.users.map((u) => u.password)), ...now.redis.map((r) => r.password)]) {
    if (!passwords.has(p)) registerSecret(p);
    passwords.add(p);
  }
  for (const call of now.calls.slice(before)) {
    // flyctl found a file where its logs go, so it wrote none (ops/lib/flyctl.ts).
    expect(call).toMatchObject({ configDirMode: "700", logLevel: "warn", logsFound: "a file" });
    expect(call.log).toBeUndefined();
    expect(path.dirname(call.configDir!)).toBe(opsTmp);
    expect(configDirs.has(call.configDir!)).toBe(false);
    configDirs.add(call.configDir!);
  }
  expect(readdirSync(opsTmp)).toEqual([]);
  expect(leaks(home, passwords)).toEqual([]);
  return result;
}

/** The cluster command's output, as the program reads it into the next commands' environment. */
const clusterId = () => JSON.parse(fly(command(`gaia-${stack}-db`), "update").stdout.trim().split("\n").at(-1)!).clusterId as string;

beforeAll(async () => {
  plan = await planStack(stack, { ...stackOn("staging", "fly"), "gaia:preset": "staging" });
  // The double's state is Fly's side (its API), which holds the passwords it hands out.
  stateFile = path.join(providerSideDir("fly"), "state.json");
  server = await startTestPostgres("fly-pg", { tls: makeCertificates(mkdtempSync(path.join(tmpdir(), "gaia-fly-ca-"))).server });
});

afterAll(async () => {
  await server?.stop();
});

describe("the Fly plan's commands against the flyctl double", () => {
  it("creates the cluster, its database and users, printing what the offline plan's mock prints", () => {
    const created = fly(command(`gaia-${stack}-db`), "create");
    expect(created.stderr).toBe("");
    expect(created.status).toBe(0);
    const [cluster] = state().clusters;
    expect(cluster).toMatchObject({ name: `gaia-${stack}-db`, plan: "launch", disk: 50, databases: ["fly-db", names.database] });
    expect(cluster!.users.map((u) => [u.name, u.role])).toEqual([
      ["fly-user", "schema_admin"],
      // Each role's two rotation slots.
      [`${names.database}_analytics_a`, "reader"],
      [`${names.database}_analytics_b`, "reader"],
      [`${names.database}_chat_a`, "writer"],
      [`${names.database}_chat_b`, "writer"],
      [`${names.database}_assets_a`, "writer"],
      [`${names.database}_assets_b`, "writer"],
      [`${names.database}_auth_a`, "writer"],
      [`${names.database}_auth_b`, "writer"],
      // A service added to the access policy since: a writer like the others.
      ...ADDED_SERVICES.flatMap((s) => [[`${names.database}_${s}_a`, "writer"], [`${names.database}_${s}_b`, "writer"]]),
    ]);
    const printedEndpoint = JSON.parse(created.stdout.trim().split("\n").at(-1)!);
    // With each user's keeper, for the next run to tell which slot a rotation renews.
    const keepers = JSON.parse(String(unwrap((unwrap(command(`gaia-${stack}-db`).inputs.environment) as Record<string, unknown>).GAIA_FLY_USER_KEEPERS)));
    expect(printedEndpoint).toEqual({ clusterId: cluster!.id, host: `direct.${cluster!.id}.flympg.net`, port: 5432, created: true, keepers });
    // The offline plan's simulated output has the same shape.
    const mocked = JSON.parse(String(cloudState("command:local:Command", "x", command(`gaia-${stack}-db`).inputs).stdout));
    expect(Object.keys(mocked)).toEqual(Object.keys(printedEndpoint));
    expect(mocked.host).toBe(`direct.${mocked.clusterId}.flympg.net`);
  });

  it("changes nothing on a second run", () => {
    const before = state().calls.length;
    const again = fly(command(`gaia-${stack}-db`), "update");
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/found Managed Postgres cluster/);
    expect(JSON.parse(again.stdout.trim().split("\n").at(-1)!).created).toBe(true);
    const verbs = state().calls.slice(before).map((c) => c.argv.slice(0, 3).join(" "));
    expect(verbs.filter((v) => /create|set-role|delete|destroy/.test(v))).toEqual([]);
    expect(state().clusters).toHaveLength(1);
  });

  it("refuses a plan change or more storage than the cluster has, with the way to make it, changing nothing; takes storage Fly grew", () => {
    const resized = fly(command(`gaia-${stack}-db`), "update", { GAIA_FLY_PLAN: "scale" });
    expect(resized.status).toBe(1);
    expect(resized.stderr).toBe(
      `error: Managed Postgres cluster gaia-${stack}-db has the launch plan and the stack asks for scale: flyctl cannot change a plan; change it in Fly's dashboard (the cluster's Settings, then Update Configuration), then run \`pulumi up\` again.\n`,
    );
    const grown = fly(command(`gaia-${stack}-db`), "update", { GAIA_FLY_VOLUME_GB: "80" });
    expect(grown.status).toBe(1);
    expect(grown.stderr).toBe(
      `error: Managed Postgres cluster gaia-${stack}-db has 50 GB and the stack asks for 80 GB: flyctl cannot resize a cluster's storage; set gaia:instance.storageGb to 50, or change the storage in Fly's dashboard, then run \`pulumi up\` again.\n`,
    );
    expect(state().clusters[0]).toMatchObject({ plan: "launch", disk: 50 });
    // Storage Fly grew by itself (more than the stack's first size) is no change to refuse.
    const smaller = fly(command(`gaia-${stack}-db`), "update", { GAIA_FLY_VOLUME_GB: "40" });
    expect([smaller.stderr, smaller.status]).toEqual(["", 0]);
  });

  it("says a cluster whose creation failed will not become ready, and how to clear it, on the run that made it", () => {
    const broken = { GAIA_FLY_CLUSTER: `gaia-${stack}-broken`, FAKE_FLY_CREATE_OUTCOME: "error" };
    const run = fly(command(`gaia-${stack}-db`), "create", broken);
    const made = state().clusters.find((c) => c.name === broken.GAIA_FLY_CLUSTER)!;
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`error: Managed Postgres cluster gaia-${stack}-broken (${made.id}) failed to be created (status error) and will not become ready: destroy it with \`fly mpg destroy ${made.id}\`, then run \`pulumi up\` again.\n`);
    // The retry says the same, adopting nothing that will never be ready.
    expect(fly(command(`gaia-${stack}-db`), "update", broken).stderr).toBe(run.stderr);
    writeFileSync(stateFile, JSON.stringify({ ...state(), clusters: state().clusters.filter((c) => c.id !== made.id) }));
    // A create that failed, and the look-up after it too (the network gone): both said, the create's first.
    const lost = fly(command(`gaia-${stack}-db`), "create", { GAIA_FLY_CLUSTER: `gaia-${stack}-lost`, FAKE_FLY_FAIL: "mpg create", FAKE_FLY_UNREACHABLE_AFTER: "mpg create" });
    writeFileSync(stateFile, JSON.stringify({ ...state(), unreachable: false }));
    const org = String(unwrap((unwrap(command(`gaia-${stack}-db`).inputs.environment) as Record<string, unknown>).GAIA_FLY_ORG));
    expect([lost.stderr, lost.status]).toEqual([
      `error: flyctl mpg create gaia-${stack}-lost failed (exit 1): Error: failed to mpg create: Something went wrong; whether the API made Managed Postgres cluster gaia-${stack}-lost before that could not be checked (flyctl mpg list ${org} failed (exit 1): Error: failed to mpg list: Something went wrong): see \`fly mpg list --org ${org}\` before running \`pulumi up\` again.\n`,
      1,
    ]);
    // A cluster of this name Fly is deleting (a destroy by hand, or one that outlasted the wait):
    // never ready; what its status reads then is in no source, so any status naming a deletion.
    const dying = state();
    const doomed = { ...dying.clusters[0]!, id: "d0omedc1uster1", name: `gaia-${stack}-dying`, status: "deleting", users: [{ name: "fly-user", role: "schema_admin", password: randomBytes(12).toString("base64url") }], attached_apps: [] };
    dying.clusters.push(doomed);
    writeFileSync(stateFile, JSON.stringify(dying));
    const adopting = fly(command(`gaia-${stack}-db`), "update", { GAIA_FLY_CLUSTER: doomed.name });
    expect([adopting.stderr, adopting.status]).toEqual([
      `error: Managed Postgres cluster ${doomed.name} (${doomed.id}) is being deleted (status deleting) and will not become ready: wait until \`fly mpg list --org ${org}\` no longer shows it, then run \`pulumi up\` again, which makes it anew.\n`,
      1,
    ]);
    writeFileSync(stateFile, JSON.stringify({ ...state(), clusters: state().clusters.filter((c) => c.id !== doomed.id) }));
    // A create refused before the API made anything is flyctl's own error.
    const refused = fly(command(`gaia-${stack}-db`), "create", { GAIA_FLY_CLUSTER: `gaia-${stack}-refused`, GAIA_FLY_REGION: "mad" });
    expect(refused.stderr).toMatch(/^error: flyctl mpg create .* failed \(exit 1\): Error: region mad is not available for Managed Postgres\. /);
    expect(state().clusters.map((c) => c.name)).not.toContain(`gaia-${stack}-refused`);
  });

  it("compares the plan the API reports only when it names one of flyctl's plans, and says so when it does not", () => {
    const reporting = (reported: string) => {
      const now = state();
      now.clusters[0]!.plan = reported;
      writeFileSync(stateFile, JSON.stringify(now));
      return fly(command(`gaia-${stack}-db`), "update");
    };
    // The key flyctl sent, or its display name (plans.go), is the stack's launch plan.
    for (const reported of ["launch", "Launch"]) expect([reporting(reported).stderr, reporting(reported).status]).toEqual(["", 0]);
    const other = reporting("Basic");
    expect([other.stderr, other.status]).toEqual([`error: Managed Postgres cluster gaia-${stack}-db has the Basic plan and the stack asks for launch: flyctl cannot change a plan; change it in Fly's dashboard (the cluster's Settings, then Update Configuration), then run \`pulumi up\` again.\n`, 1]);
    // Something else (flyctl's own fixtures answer "development"): not refused, said.
    const unknown = reporting("development");
    expect([unknown.stderr, unknown.status]).toEqual(["", 0]);
    expect(JSON.parse(unknown.stdout.trim().split("\n").at(-1)!).notes).toEqual([
      `Managed Postgres cluster gaia-${stack}-db reports its plan as "development", which names none of flyctl's plans (basic, starter, launch, scale, performance): the plan (launch) was not checked; see it in Fly's dashboard (the cluster's Settings).`,
    ]);
    // Run without flyctl's plans (GAIA_FLY_PLANS unset: a run by hand, an older program), the stack's own plan is still one it knows.
    const now = state();
    now.clusters[0]!.plan = "launch";
    writeFileSync(stateFile, JSON.stringify(now));
    const withoutList = fly(command(`gaia-${stack}-db`), "update", { GAIA_FLY_PLANS: "" });
    expect([withoutList.stderr, withoutList.status, JSON.parse(withoutList.stdout.trim().split("\n").at(-1)!).notes]).toEqual(["", 0, undefined]);
    reporting("launch");
  });

  it("applies a changed role kind and removes the user of a removed service", () => {
    const users = JSON.parse(String(unwrap((unwrap(command(`gaia-${stack}-db`).inputs.environment) as Record<string, unknown>).GAIA_FLY_USERS)));
    delete users[`${names.database}_auth_a`];
    users[`${names.database}_chat_a`] = "reader";
    expect(fly(command(`gaia-${stack}-db`), "update", { GAIA_FLY_USERS: JSON.stringify(users) }).status).toBe(0);
    const now = Object.fromEntries(state().clusters[0]!.users.map((u) => [u.name, u.role]));
    expect(now[`${names.database}_chat_a`]).toBe("reader");
    expect(now).not.toHaveProperty(`${names.database}_auth_a`);
    expect(now["fly-user"]).toBe("schema_admin");
    // Back to the plan's users.
    expect(fly(command(`gaia-${stack}-db`), "update").status).toBe(0);
    expect(state().clusters[0]!.users).toHaveLength(USERS);
  });

  it("finishes after a run that failed half-way, creating nothing twice", () => {
    // A second cluster resource of the same plan, with its own state.
    const second = { ...command(`gaia-${stack}-db`), name: `gaia-${stack}-db2` };
    const other = { GAIA_FLY_CLUSTER: `gaia-${stack}-db2`, FAKE_FLY_FAIL: "mpg users create" };
    const failed = fly(second, "create", other);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toBe("error: flyctl mpg users create failed (exit 1): Error: failed to mpg users create: Something went wrong\n");
    const retried = fly(second, "create", other);
    expect(retried.status).toBe(0);
    const made = state().clusters.filter((c) => c.name === `gaia-${stack}-db2`);
    expect(made).toHaveLength(1);
    expect(made[0]!.users).toHaveLength(USERS);
    // The failed run's state kept nothing: the retry cannot tell it made the cluster, so it
    // adopts it, and a destroy leaves it for a person to remove (never the other way round).
    expect(JSON.parse(retried.stdout.trim().split("\n").at(-1)!).created).toBe(false);
    const kept = fly(second, "delete", { GAIA_FLY_CLUSTER: `gaia-${stack}-db2`, GAIA_FLY_DELETION_PROTECTION: "off" });
    expect(kept.stdout).toBe(`Managed Postgres cluster gaia-${stack}-db2 was adopted, not created, by this stack: left in place\n`);
    expect(state().clusters.filter((c) => c.name === `gaia-${stack}-db2`)).toHaveLength(1);
  });

  it("restores the cluster to a point in time into a new one (fly mpg restore --pitr-time), waits for it, and says a failed, late or sourceless restore", () => {
    const source = state().clusters.find((c) => c.name === `gaia-${stack}-db`)!;
    const at = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const restoring = (name: string, extra: Record<string, string> = {}) =>
      fly(command(`gaia-${stack}-db`), "create", { GAIA_FLY_CLUSTER: name, GAIA_FLY_RESTORE_FROM: source.name, GAIA_FLY_RESTORE_AT: at, GAIA_FLY_POLL_SECONDS: "0", ...extra });
    const calls = state().calls.length;
    const name = `gaia-${stack}-db-r1`;
    const run = restoring(name);
    expect([run.stderr, run.status]).toEqual(["", 0]);
    const restored = state().clusters.find((c) => c.name === name) as DoubleState["clusters"][number] & { restoredFrom: string; restoredTo: string };
    expect(state().calls.slice(calls).map((c) => c.argv.slice(0, 7))).toContainEqual(["mpg", "restore", source.id, "--pitr-time", at, "--name", name]);
    expect([restored.restoredFrom, restored.restoredTo]).toEqual([source.id, at]);
    expect(run.stdout).toContain(`restoring Managed Postgres cluster ${source.name} (${source.id}) to ${at} as ${name}\n`);
    expect(JSON.parse(run.stdout.trim().split("\n").at(-1)!)).toMatchObject({ clusterId: restored.id, created: true });
    // The restored cluster has the source's database and users; none is made again.
    expect(run.stdout).not.toMatch(/created (database|user)/);
    // A second run finds it, restoring nothing again.
    const again = fly(command(`gaia-${stack}-db`), "update", { GAIA_FLY_CLUSTER: name, GAIA_FLY_RESTORE_FROM: source.name, GAIA_FLY_RESTORE_AT: at, PULUMI_COMMAND_STDOUT: run.stdout });
    expect([again.status, again.stdout.split("\n")[0]]).toEqual([0, `found Managed Postgres cluster ${name} (${restored.id})`]);

    const failed = restoring(`gaia-${stack}-db-r2`, { FAKE_FLY_RESTORE_STATUS: "error" });
    const failedId = state().clusters.find((c) => c.name === `gaia-${stack}-db-r2`)!.id;
    expect([failed.stderr, failed.status]).toEqual([
      `error: the restore of ${source.name} to ${at} as gaia-${stack}-db-r2 (${failedId}) failed (status error): destroy it with \`fly mpg destroy ${failedId}\`, check the point in time against the cluster's recovery window, then run \`pulumi up\` again.\n`,
      1,
    ]);
    // Still provisioning when the wait ends: said; the next run adopts it as this restore's.
    const late = restoring(`gaia-${stack}-db-r3`, { FAKE_FLY_RESTORE_STATUS: "provisioning", GAIA_FLY_RESTORE_TIMEOUT_SECONDS: "0" });
    const org = String(unwrap((unwrap(command(`gaia-${stack}-db`).inputs.environment) as Record<string, unknown>).GAIA_FLY_ORG));
    expect([late.stderr, late.status]).toEqual([
      `error: the restore of ${source.name} to ${at} as gaia-${stack}-db-r3 is not ready yet (status provisioning): run \`pulumi up\` again once \`fly mpg list --org ${org}\` shows it ready; it is adopted then.\n`,
      1,
    ]);
    const lateState = state();
    lateState.clusters.find((c) => c.name === `gaia-${stack}-db-r3`)!.status = "ready";
    writeFileSync(stateFile, JSON.stringify(lateState));
    const adopted = restoring(`gaia-${stack}-db-r3`);
    expect([adopted.status, JSON.parse(adopted.stdout.trim().split("\n").at(-1)!).created]).toEqual([0, true]);

    const orphan = restoring(`gaia-${stack}-db-r4`, { GAIA_FLY_RESTORE_FROM: `gaia-${stack}-gone` });
    expect([orphan.stderr, orphan.status]).toEqual([
      `error: the cluster to restore from, gaia-${stack}-gone, is not in \`fly mpg list --org ${org}\`: restore from a cluster that exists (its backups go with it), or remove gaia:restore.\n`,
      1,
    ]);
    // The other tests see Fly as it was.
    writeFileSync(stateFile, JSON.stringify({ ...state(), clusters: state().clusters.filter((c) => !/-db-r\d$/.test(c.name)) }));
  });

  it("applies the schema as Fly's schema_admin over TLS, on a real PostgreSQL", async () => {
    const admin = state().clusters[0]!.users.find((u) => u.name === "fly-user")!;
    const setup = (database: string) => `${withDatabase(server.url, database)}?sslmode=no-verify`;
    await withClient(setup("postgres"), async (su) => {
      await su.query(`create role "fly-user" login ${passwordClause("fly-user", admin.password)}`);
      await su.query(`create database ${names.database} owner "fly-user"`);
    });
    const id = clusterId();
    const schema = fly(command(`gaia-${stack}-schema`), "create", { GAIA_FLY_CLUSTER_ID: id, GAIA_FLY_MANAGEMENT_HOST: "localhost", GAIA_FLY_MANAGEMENT_PORT: String(server.port) });
    expect(schema.stderr).toBe("");
    expect(schema.stdout).toContain(`schema up to date (${committedMigrations().length} migration(s) applied)`);
    // Each user's role kind set again once the tables exist (Fly's writer/reader on "existing tables": unverified).
    const setRoles = state().calls.filter((c) => c.argv.slice(0, 3).join(" ") === "mpg users set-role").slice(-(USERS - 1));
    expect(setRoles.map((c) => c.argv[c.argv.indexOf("--username") + 1]).sort()).toEqual(state().clusters[0]!.users.map((u) => u.name).filter((n) => n !== "fly-user").sort());
    const again = fly(command(`gaia-${stack}-schema`), "update", { GAIA_FLY_CLUSTER_ID: id, GAIA_FLY_MANAGEMENT_HOST: "localhost", GAIA_FLY_MANAGEMENT_PORT: String(server.port) });
    expect(again.stdout).not.toContain("role kinds set again");
    await withClient(setup(names.database), async (client) => {
      const { rows } = await client.query("select tableowner from pg_tables where tablename = 'users'");
      expect(rows).toEqual([{ tableowner: "fly-user" }]);
    });
  });

  it("rotates a role by its two users: the renewed slot's user made anew (b, then a), the other kept, the app re-attached to the current one", async () => {
    const at = async (generation: number) => planStack(stack, { ...stackOn("staging", "fly"), "gaia:preset": "staging", "gaia:rotation": JSON.stringify({ chat: generation }) });
    const cluster = (p: StackPlan) => one(p, "command:local:Command", `gaia-${stack}-db`);
    const access = (p: StackPlan) => one(p, "command:local:Command", `gaia-${stack}-fly-access-chat`);
    const password = (slot: "a" | "b") => state().clusters[0]!.users.find((u) => u.name === names.loginRole("chat", slot))!.password;
    const auth = () => state().clusters[0]!.users.find((u) => u.name === names.loginRole("auth"))!.password;
    const id = clusterId();
    const [plan0, plan1, plan2] = [await at(0), await at(1), await at(2)];

    // The first run that records keepers renews nothing: no user is made anew for adopting rotation.
    const first = fly(cluster(plan0), "update");
    const before = { a: password("a"), b: password("b"), auth: auth() };
    // Generation 1: slot b renewed, a kept; chat's app detached from a and attached to b.
    const second = fly(cluster(plan1), "update", { PULUMI_COMMAND_STDOUT: first.stdout });
    expect(second.stdout).toContain(`renewed user ${names.loginRole("chat", "b")} (writer): a new password, for generation 1`);
    expect(second.stdout).not.toContain(`renewed user ${names.loginRole("chat", "a")}`);
    expect([password("a"), auth()]).toEqual([before.a, before.auth]);
    expect(password("b")).not.toBe(before.b);
    expect(fly(access(plan0), "create", { GAIA_FLY_CLUSTER_ID: id }).status).toBe(0);
    expect(unwrap((unwrap(access(plan1).inputs.environment) as Record<string, unknown>).GAIA_FLY_USER)).toBe(names.loginRole("chat", "b"));
    expect(fly(access(plan0), "delete", { GAIA_FLY_CLUSTER_ID: id }).status).toBe(0);
    expect(fly(access(plan1), "create", { GAIA_FLY_CLUSTER_ID: id }).status).toBe(0);
    expect(state().secrets["gaia-chat"]!.GAIA_DATABASE_URL).toContain(`//${names.loginRole("chat", "b")}:${password("b")}@`);
    // Generation 2: slot a renewed, b (now the previous, still in the app's running machines) kept.
    const renewedB = password("b");
    const third = fly(cluster(plan2), "update", { PULUMI_COMMAND_STDOUT: second.stdout });
    expect(third.stdout).toContain(`renewed user ${names.loginRole("chat", "a")} (writer): a new password, for generation 2`);
    expect(password("b")).toBe(renewedB);
    expect(password("a")).not.toBe(before.a);
    // The same generation again renews nothing.
    const fourth = fly(cluster(plan2), "update", { PULUMI_COMMAND_STDOUT: third.stdout });
    expect(fourth.stdout).not.toContain("renewed");
    expect(fly(access(plan1), "delete", { GAIA_FLY_CLUSTER_ID: id }).status).toBe(0);
    expect(fly(cluster(plan), "update").status).toBe(0);
  });

  it("hands each service its own credential through Fly, once, and takes it back", () => {
    const id = clusterId();
    const chat = command(`gaia-${stack}-fly-access-chat`);
    expect(fly(chat, "create", { GAIA_FLY_CLUSTER_ID: id }).status).toBe(0);
    const chatUser = state().clusters[0]!.users.find((u) => u.name === `${names.database}_chat_a`)!;
    expect(state().secrets["gaia-chat"]!.GAIA_DATABASE_URL).toBe(`postgresql://${chatUser.name}:${chatUser.password}@pgbouncer.${id}.flympg.net/${names.database}`);
    const again = fly(chat, "create", { GAIA_FLY_CLUSTER_ID: id });
    expect(again.status).toBe(0);
    expect(again.stdout).toBe("gaia-chat already has GAIA_DATABASE_URL\n");
    expect(fly(chat, "delete", { GAIA_FLY_CLUSTER_ID: id }).status).toBe(0);
    expect(state().secrets["gaia-chat"]).toEqual({});
    expect(state().clusters[0]!.attached_apps).toEqual([]);

    // The access of a cluster lost outside Pulumi, whose name a new cluster has since: its secret
    // goes, and the new cluster is not asked about the old id.
    expect(fly(chat, "create", { GAIA_FLY_CLUSTER_ID: id }).status).toBe(0);
    const calls = state().calls.length;
    const lost = fly(chat, "delete", { GAIA_FLY_CLUSTER_ID: "lostcluster01" });
    expect([lost.stderr, lost.status]).toEqual(["", 0]);
    expect(state().secrets["gaia-chat"]).toEqual({});
    expect(state().calls.slice(calls).map((c) => c.argv.slice(0, 2).join(" "))).not.toContain("mpg status");
    expect(fly(chat, "delete", { GAIA_FLY_CLUSTER_ID: id }).status).toBe(0);

    // An attach whose record failed (flyctl warns and exits 0): the credential is set and said to
    // have no record; a run cut before the record leaves the same, which the retry takes off and
    // attaches again.
    const assets = command(`gaia-${stack}-fly-access-assets`);
    const halfDone = fly(assets, "create", { GAIA_FLY_CLUSTER_ID: id, FAKE_FLY_ATTACH_RECORD: "fail" });
    expect([halfDone.stderr, halfDone.status]).toEqual(["", 0]);
    expect(halfDone.stdout).toBe("gaia-assets has its credential in GAIA_DATABASE_URL (Fly recorded no attachment: `fly mpg status` will not list the app; the credential works)\n");
    expect(state().clusters[0]!.attached_apps).not.toContain("gaia-assets");
    const retried = fly(assets, "create", { GAIA_FLY_CLUSTER_ID: id });
    expect(retried.stdout).toBe("gaia-assets had a GAIA_DATABASE_URL no cluster has attached (an attach cut short): taken off, attached again\ngaia-assets has its credential in GAIA_DATABASE_URL\n");
    expect(state().clusters[0]!.attached_apps).toContain("gaia-assets");
    expect(fly(assets, "delete", { GAIA_FLY_CLUSTER_ID: id }).status).toBe(0);

    // A credential another cluster of the organization attached is that cluster's: refused, kept.
    const org = String(unwrap((unwrap(assets.inputs.environment) as Record<string, unknown>).GAIA_FLY_ORG));
    const withOther = state();
    const other = { ...withOther.clusters[0]!, id: "0the4c1uster01", name: "gaia-other-db", org, users: [], attached_apps: ["gaia-assets"] };
    withOther.clusters.push(other);
    withOther.secrets["gaia-assets"] = { GAIA_DATABASE_URL: `postgresql://u@pgbouncer.${other.id}.flympg.net/d` };
    writeFileSync(stateFile, JSON.stringify(withOther));
    const foreign = fly(assets, "create", { GAIA_FLY_CLUSTER_ID: id });
    expect(foreign.status).toBe(1);
    expect(foreign.stderr).toBe(`error: gaia-assets has a GAIA_DATABASE_URL from Managed Postgres cluster gaia-other-db (${other.id}), not from gaia-${stack}-db: detach it with \`fly mpg detach ${other.id} -a gaia-assets\` and \`fly secrets unset GAIA_DATABASE_URL -a gaia-assets\`, then run \`pulumi up\` again.\n`);
    expect(state().secrets["gaia-assets"]!.GAIA_DATABASE_URL).toContain(`pgbouncer.${other.id}.flympg.net`);
    writeFileSync(stateFile, JSON.stringify({ ...state(), clusters: state().clusters.filter((c) => c.id !== other.id), secrets: { ...state().secrets, "gaia-assets": {} } }));
  });

  it("attaches after taking off a half-done attach's secret, when a read of Fly's secrets without flyctl's version is served what the app had before", () => {
    const id = clusterId();
    const assets = command(`gaia-${stack}-fly-access-assets`);
    // A secret set long ago (no change of it pending) with no attachment: an attach cut short.
    const cut = state();
    cut.secrets["gaia-assets"] = { GAIA_DATABASE_URL: `postgresql://u@pgbouncer.${id}.flympg.net/d` };
    delete (cut as { secretVersions?: Record<string, unknown> }).secretVersions?.["gaia-assets"];
    writeFileSync(stateFile, JSON.stringify(cut));
    // The unset's version, which flyctl keeps in its config file, reaches mpg attach's own read.
    const retried = fly(assets, "create", { GAIA_FLY_CLUSTER_ID: id, FAKE_FLY_SECRETS_LAG: "1" });
    expect([retried.stderr, retried.status]).toEqual(["", 0]);
    expect(state().secrets["gaia-assets"]!.GAIA_DATABASE_URL).toContain(`@pgbouncer.${id}.flympg.net/${names.database}`);
    expect(fly(assets, "delete", { GAIA_FLY_CLUSTER_ID: id }).status).toBe(0);
  });

  it("keeps a secret no cluster is known to have attached when a cluster of the organization says nothing of its attached apps (null)", () => {
    const id = clusterId();
    const assets = command(`gaia-${stack}-fly-access-assets`);
    const org = String(unwrap((unwrap(assets.inputs.environment) as Record<string, unknown>).GAIA_FLY_ORG));
    const now = state();
    // A cluster the API answers without attached_apps: render.JSON prints its nil slice as null.
    const silent = { ...now.clusters[0]!, id: "1egacyc1uster1", name: "gaia-legacy-db", org, users: [], attached_apps: null as unknown as string[] };
    now.clusters.push(silent);
    now.secrets["gaia-assets"] = { GAIA_DATABASE_URL: `postgresql://u@pgbouncer.${silent.id}.flympg.net/d` };
    writeFileSync(stateFile, JSON.stringify(now));
    const run = fly(assets, "create", { GAIA_FLY_CLUSTER_ID: id });
    expect([run.stderr, run.status]).toEqual([
      `error: gaia-assets has a GAIA_DATABASE_URL that no cluster is known to have attached, and \`fly mpg list --org ${org}\` does not say which apps gaia-legacy-db (${silent.id}) has attached: it may be that cluster's, so it is left in place; if it is not, take it off with \`fly secrets unset GAIA_DATABASE_URL -a gaia-assets\`, then run \`pulumi up\` again.\n`,
      1,
    ]);
    expect(state().secrets["gaia-assets"]!.GAIA_DATABASE_URL).toContain(`pgbouncer.${silent.id}.flympg.net`);
    writeFileSync(stateFile, JSON.stringify({ ...state(), clusters: state().clusters.filter((c) => c.id !== silent.id), secrets: { ...state().secrets, "gaia-assets": {} } }));
  });

  it("takes a credential back from an app Fly no longer has as done: its secrets went with it", () => {
    const id = clusterId();
    const chat = command(`gaia-${stack}-fly-access-chat`);
    expect(fly(chat, "create", { GAIA_FLY_CLUSTER_ID: id }).status).toBe(0);
    // The app destroyed outside Pulumi (`fly apps destroy`), its attachment still recorded.
    const gone = state() as DoubleState & { apps?: string[] };
    gone.apps = APPS.filter((a) => a !== "gaia-chat");
    delete gone.secrets["gaia-chat"];
    writeFileSync(stateFile, JSON.stringify(gone));
    const detached = fly(chat, "delete", { GAIA_FLY_CLUSTER_ID: id });
    expect([detached.stderr, detached.status, detached.stdout]).toEqual(["", 0, "gaia-chat no longer exists (Fly: Could not find App): nothing to take back\n"]);
    writeFileSync(stateFile, JSON.stringify({ ...state(), apps: undefined, clusters: state().clusters.map((c) => ({ ...c, attached_apps: (c.attached_apps ?? []).filter((a) => a !== "gaia-chat") })) }));
  });

  it("creates Redis once, without a prompt, and gives its URL to the services through stdin", () => {
    const redis = command(`gaia-${stack}-redis`);
    const created = fly(redis, "create");
    expect(created.stderr).toBe("");
    expect(JSON.parse(created.stdout.trim().split("\n").at(-1)!)).toEqual({ host: `fly-gaia-${stack}-redis.upstash.io`, port: 6379, created: true });
    expect(fly(redis, "update").status).toBe(0);
    expect(state().redis).toHaveLength(1);
    const create = state().calls.find((c) => c.argv[0] === "redis" && c.argv[1] === "create")!.argv;
    expect(create).toEqual(expect.arrayContaining(["--plan", "ekQ85Yjkw155ohQ5ALYq0M", "--disable-eviction", "--enable-prodpack=false", "--no-replicas"]));

    const moreReplicas = fly(redis, "update", { GAIA_FLY_REDIS_REPLICAS: JSON.stringify(["ord"]) });
    expect(moreReplicas.status).toBe(1);
    expect(moreReplicas.stderr).toBe(
      `error: Redis gaia-${stack}-redis has read replicas in [] and the stack asks for [ord]: flyctl changes them only in a terminal; run \`fly redis update gaia-${stack}-redis\` there (or use regions Upstash offers), then run \`pulumi up\` again.\n`,
    );

    // A create Fly refuses says the name may be taken in another organization (add-on names look global).
    const refusedCreate = fly(redis, "create", { GAIA_FLY_REDIS: `gaia-${stack}-taken-redis`, FAKE_FLY_FAIL: "redis create" });
    expect(refusedCreate.status).toBe(1);
    expect(refusedCreate.stderr).toMatch(/^error: flyctl redis create .* failed \(exit 1\): .* If the name is taken in another Fly organization \(Upstash names look global\), give this environment another gaia:environment\.\n$/s);

    // A Redis with read replicas (production's kind): created with them, and the next run finds them as asked.
    const ha = { GAIA_FLY_REDIS: `gaia-${stack}-ha-redis`, GAIA_FLY_REDIS_REPLICAS: JSON.stringify(["sjc", "ord"]) };
    expect(fly(redis, "create", ha).status).toBe(0);
    expect(state().redis.find((r) => r.name === ha.GAIA_FLY_REDIS)!.replicas.slice().sort()).toEqual(["ord", "sjc"]);
    const again = fly(redis, "update", ha);
    expect([again.stderr, again.status]).toEqual(["", 0]);
    const fewer = fly(redis, "update", { ...ha, GAIA_FLY_REDIS_REPLICAS: JSON.stringify(["ord"]) });
    expect(fewer.stderr).toContain(`has read replicas in [ord, sjc] and the stack asks for [ord]`);
    expect(fly(redis, "delete", { ...ha, GAIA_FLY_DELETION_PROTECTION: "off" }).status).toBe(0);
    // A replica region Upstash excludes: flyctl drops it without a word, and the check says so.
    const excluded = { GAIA_FLY_REDIS: `gaia-${stack}-excl-redis`, GAIA_FLY_REDIS_REPLICAS: JSON.stringify(["sjc", "ord"]), FAKE_FLY_UPSTASH_EXCLUDED: "sjc" };
    const withoutSjc = fly(redis, "create", excluded);
    expect([withoutSjc.stderr, withoutSjc.status]).toEqual([`error: Redis gaia-${stack}-excl-redis has read replicas in [ord] and the stack asks for [ord, sjc]: flyctl changes them only in a terminal; run \`fly redis update gaia-${stack}-excl-redis\` there (or use regions Upstash offers), then run \`pulumi up\` again.\n`, 1]);
    expect(fly(redis, "delete", { ...excluded, GAIA_FLY_DELETION_PROTECTION: "off", PULUMI_COMMAND_STDOUT: JSON.stringify({ created: true }) }).status).toBe(0);

    const share = command(`gaia-${stack}-fly-redis-url`);
    expect(fly(share, "create").status).toBe(0);
    const url = `redis://default:${state().redis[0]!.password}@fly-gaia-${stack}-redis.upstash.io:6379`;
    for (const app of APPS) expect(state().secrets[app]!.GAIA_REDIS_URL).toBe(url);
    // An app no longer listed loses the URL on the next update; the others keep it.
    const [dropped, ...kept] = APPS;
    expect(fly(share, "update", { GAIA_FLY_APPS: JSON.stringify(kept) }).status).toBe(0);
    expect(state().secrets[dropped!]).not.toHaveProperty("GAIA_REDIS_URL");
    for (const app of kept) expect(state().secrets[app]!.GAIA_REDIS_URL).toBe(url);
    expect(fly(share, "update").status).toBe(0);
    for (const app of APPS) expect(state().secrets[app]!.GAIA_REDIS_URL).toBe(url);
    // An app Fly no longer has lost the URL with its secrets: the others' are taken off.
    expect(fly(share, "update").status).toBe(0);
    writeFileSync(stateFile, JSON.stringify({ ...state(), apps: APPS.slice(1), secrets: { ...state().secrets, [APPS[0]!]: {} } }));
    const unshared = fly(share, "delete");
    expect([unshared.stderr, unshared.status]).toEqual(["", 0]);
    expect(unshared.stdout).toContain(`${APPS[0]} no longer exists (Fly: Could not find App): nothing to take back\n`);
    writeFileSync(stateFile, JSON.stringify({ ...state(), apps: undefined }));
    for (const app of APPS) expect(state().secrets[app]).not.toHaveProperty("GAIA_REDIS_URL");
  });

  it("refuses to delete a protected cluster, and takes a final full backup, completed, before deleting an unprotected one", () => {
    const cluster = command(`gaia-${stack}-db`);
    const refused = fly(cluster, "delete");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(`error: deletion protection is on for gaia-${stack}-db: set gaia:deletionProtection to false and run \`pulumi up\` before destroying it.\n`);
    expect(state().clusters.map((c) => c.name)).toContain(`gaia-${stack}-db`);

    // A final backup that fails stops the destroy: the cluster stays.
    const failedBackup = fly(cluster, "delete", { GAIA_FLY_DELETION_PROTECTION: "off", FAKE_FLY_BACKUP_OUTCOME: "failed", GAIA_FLY_POLL_SECONDS: "0" });
    expect(failedBackup.status).toBe(1);
    expect(failedBackup.stderr).toMatch(
      /^error: the final backup [0-9a-f]{8} of gaia-\w+-db ended "failed", not "completed": the cluster was left in place; check `fly mpg backup list \w+ --all`, then run the destroy again\.\n$/,
    );
    expect(state().clusters.map((c) => c.name)).toContain(`gaia-${stack}-db`);
    // One that says it failed with no stop time is not waited for until the timeout.
    const erred = fly(cluster, "delete", { GAIA_FLY_DELETION_PROTECTION: "off", FAKE_FLY_BACKUP_OUTCOME: "error", FAKE_FLY_BACKUP_STOP: "none", GAIA_FLY_POLL_SECONDS: "0", GAIA_FLY_BACKUP_TIMEOUT_SECONDS: "2" });
    expect([erred.status, erred.stderr]).toEqual([1, expect.stringMatching(/^error: the final backup [0-9a-f]{8} of gaia-\w+-db ended "error", not "completed": the cluster was left in place/)]);
    expect(state().clusters.map((c) => c.name)).toContain(`gaia-${stack}-db`);

    // A scheduled incremental backup finishing while it waits is not the final one: the full backup it queued is.
    const deleted = fly(cluster, "delete", { GAIA_FLY_DELETION_PROTECTION: "off", FAKE_FLY_SCHEDULED_BACKUP: "1", GAIA_FLY_POLL_SECONDS: "0" });
    expect(deleted.status).toBe(0);
    // Fly deletes it asynchronously: the destroy is over once `mpg list` no longer shows it.
    expect(deleted.stdout).toMatch(/^final full backup [0-9a-f]{8} of gaia-\w+-db taken\n[\s\S]*scheduled for deletion\nManaged Postgres cluster gaia-\w+-db destroyed\n$/);
    expect(state().backups).toContainEqual({ cluster: `gaia-${stack}-db`, type: "full" });
    expect(state().clusters.map((c) => c.name)).not.toContain(`gaia-${stack}-db`);
    expect(fly(cluster, "delete", { GAIA_FLY_DELETION_PROTECTION: "off" }).stdout).toBe(`Managed Postgres cluster gaia-${stack}-db is already gone\n`);
    // An application's credential is taken back even when its cluster is gone.
    const detached = fly(command(`gaia-${stack}-fly-access-auth`), "delete", { GAIA_FLY_CLUSTER_ID: "gone" });
    expect(detached.status).toBe(0);
  });

  it("says what to do when flyctl refuses the token, not flyctl's `fly auth login`, whose session it would not read", () => {
    const none = fly(command(`gaia-${stack}-db`), "update", { FLY_API_TOKEN: "" });
    expect([none.status, none.stderr.replace(/^error: flyctl mpg list \S+ /, "error: flyctl mpg list ")]).toEqual([1, 'error: flyctl mpg list was refused: no Fly token: set FLY_API_TOKEN to an org token (`fly tokens create org`). A `fly auth login` session is not used: flyctl runs here with a config directory of its own (docs/platforms.md, "Fly.io").\n']);
    const old = fly(command(`gaia-${stack}-db`), "update", { FLY_API_TOKEN: "fo1_olderstyletoken" });
    expect([old.status, old.stderr.replace(/^error: flyctl mpg list \S+ /, "error: flyctl mpg list ")]).toEqual([1, 'error: flyctl mpg list was refused: FLY_API_TOKEN (or FLY_ACCESS_TOKEN) is an older-style token, which `fly mpg` refuses: set it to an org token from `fly tokens create org` (docs/platforms.md, "Fly.io").\n']);
  });

  it("says what to do when flyctl is missing", () => {
    const missing = fly(command(`gaia-${stack}-db`), "create", { FLYCTL: "/nonexistent/flyctl" });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/flyctl not found: install flyctl 0.4.84 or later/);
  });

  it("ran every flyctl call with a config directory of its own", () => {
    // All the calls, each checked by fly().
    expect(configDirs.size).toBe(state().calls.length);
    expect(configDirs.size).toBeGreaterThan(50);
  });

  it("puts no credential on any command line and prints none", () => {
    // Both clusters' five users each, and Redis.
    expect(passwords.size).toBeGreaterThanOrEqual(11);
    const argv = JSON.stringify(state().calls.map((c) => c.argv));
    for (const password of passwords) {
      expect(argv).not.toContain(password);
      for (const run of printed) expect(run.stdout + run.stderr).not.toContain(password);
    }
  });
});

describe("the flyctl double", () => {
  /** The double run directly, as flyctl without ops/lib/flyctl.ts: its debug log goes to HOME/.fly/logs. */
  const direct = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const [home, stateFile] = [mkdtempSync(path.join(tmpdir(), "gaia-fly-home-")), path.join(mkdtempSync(path.join(tmpdir(), "gaia-fly-")), "s.json")];
    const result = spawnSync(DOUBLE, args, { env: { ...process.env, HOME: home, FLY_CONFIG_DIR: undefined, LOG_LEVEL: undefined, FAKE_FLY_STATE: stateFile, FLY_API_TOKEN: "fm2_double", ...env }, encoding: "utf8" });
    return { ...result, home, state: JSON.parse(readFileSync(stateFile, "utf8")) as DoubleState };
  };
  const run = (...args: string[]) => direct(args);

  it("writes flyctl's debug log, passwords included, where flyctl does, and the leak check finds it", () => {
    const create = ["mpg", "create", "--name", "c", "--org", "o", "--region", "iad"];
    const unwrapped = direct(create);
    expect(unwrapped.status).toBe(0);
    const password = unwrapped.state.clusters[0]!.users[0]!.password;
    expect(leaks(unwrapped.home, [password])).toEqual([expect.stringMatching(/^\.fly\/logs\/flyctl-.+\.log: /)]);
    // FLY_CONFIG_DIR moves it (helpers/config.go), and LOG_LEVEL=debug prints it too (logger.go).
    const config = mkdtempSync(path.join(tmpdir(), "gaia-fly-cfg-"));
    const debug = direct(create, { FLY_CONFIG_DIR: config, LOG_LEVEL: "debug" });
    const other = debug.state.clusters[0]!.users[0]!.password;
    expect(leaks(debug.home, [other])).toEqual([]);
    expect(leaks(config, [other])).toEqual([expect.stringMatching(/^logs\/flyctl-.+\.log: /)]);
    expect(debug.stderr).toContain(other);
    for (const dir of [unwrapped.home, debug.home, config]) rmSync(dir, { recursive: true, force: true });
  });

  it("fails on flags flyctl does not have, as flyctl does", () => {
    expect(run("redis", "status", "x", "--json")).toMatchObject({ status: 1, stderr: "Error: unknown flag: --json\n" });
    expect(run("mpg", "status", "x", "--org", "gaia")).toMatchObject({ status: 1, stderr: "Error: unknown flag: --org\n" });
  });

  it("fails where flyctl would prompt, without a terminal", () => {
    expect(run("redis", "create", "--name", "r", "--org", "o", "--region", "iad", "--no-replicas", "--disable-eviction")).toMatchObject({ status: 1, stderr: "Error: prompt: non interactive\n" });
    expect(run("mpg", "create", "--org", "o", "--region", "iad")).toMatchObject({ status: 1, stderr: "Error: name argument or flag must be specified when not running interactively\n" });
    expect(run("mpg", "list")).toMatchObject({ status: 1, stderr: "Error: slug argument must be specified when not running interactively\n" });
  });
});
