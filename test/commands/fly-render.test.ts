import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readRegions } from "../../ops/lib/flyctl";

/**
 * The double's text output against what flyctl v0.4.87 prints (test/fixtures/flyctl: its
 * render.go through tablewriter v1.1.4, recorded), byte for byte, and ops' reading of it.
 */
const DOUBLE = path.resolve(__dirname, "../support/flyctl-double.cjs");
const fixture = (name: string) => readFileSync(path.resolve(__dirname, "../fixtures/flyctl", name), "utf8");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const render = require("../support/flyctl-render.cjs") as { table(rows: string[][], cols: string[], title?: string): string; verticalTable(title: string, objects: string[][], cols: string[]): string };

const STATUS_COLUMNS = ["ID", "Name", "Plan", "Primary Region", "Read Regions", "Eviction", "Auto-Upgrade", "ProdPack", "Private URL"];
const redis = (replicas: string[]) => ({ id: "Xy7abc", name: "gaia-production-redis", org: "gaia", region: "iad", replicas, password: "PASSWORD" });

/** The double run with Fly's side holding `redis` (and `fly`: clusters, secrets), its stdout; `stdin` for `secrets import`. */
function double(args: string[], databases: object[], fly: { clusters?: object[]; secrets?: object } = {}, stdin = ""): string {
  const run = doubleRun(args, { clusters: fly.clusters ?? [], redis: databases, secrets: fly.secrets ?? {} }, {}, stdin);
  expect(run.stderr).toBe("");
  return run.stdout;
}

/** The double run on Fly's side `fly`, with `env` added: what it printed, its exit status, and Fly's side after. */
function doubleRun(args: string[], fly: object, env: Record<string, string> = {}, stdin = "") {
  const stateFile = path.join(mkdtempSync(path.join(tmpdir(), "gaia-fly-render-")), "state.json");
  writeFileSync(stateFile, JSON.stringify({ clusters: [], redis: [], secrets: {}, calls: [], failed: [], ...fly }));
  const run = spawnSync(process.execPath, [DOUBLE, ...args], { input: stdin, env: { ...process.env, FLY_API_TOKEN: "fm2_double", FAKE_FLY_STATE: stateFile, FLY_CONFIG_DIR: path.dirname(stateFile), ...env }, encoding: "utf8" });
  const after = JSON.parse(readFileSync(stateFile, "utf8")) as { clusters: { id: string; status: string; plan: string; users: { password: string }[] }[]; redis: { name: string; password: string; replicas: string[] }[] };
  return { stdout: run.stdout, stderr: run.stderr, status: run.status, after };
}

describe("flyctl's tables", () => {
  it.each([
    ["redis-status-no-replicas.txt", [] as string[]],
    ["redis-status-replicas.txt", ["ord", "sjc"]],
  ])("fly redis status prints %s as flyctl does", (file, replicas) => {
    const r = redis(replicas);
    expect(render.verticalTable("Redis", [[r.id, r.name, "Pay-as-you-go", r.region, replicas.join(",") || "None", "Disabled", "Disabled", "Disabled", `redis://default:${r.password}@fly-${r.name}.upstash.io:6379`]], STATUS_COLUMNS)).toBe(fixture(file));
    expect(double(["redis", "status", r.name], [r])).toBe(fixture(file));
  });

  it("fly redis list prints its table as flyctl does, an empty list as a header alone", () => {
    const cols = ["Name", "Org", "Plan", "Eviction", "Primary Region", "Read Regions"];
    const rows = [["gaia-production-redis", "gaia", "Pay-as-you-go", "Disabled", "iad", "ord,sjc"], ["gaia-dev-redis", "gaia", "Pay-as-you-go", "Disabled", "iad", ""]];
    expect(render.table(rows, cols) + render.table([], cols)).toBe(fixture("redis-list.txt"));
    const databases = [redis(["ord", "sjc"]), { ...redis([]), name: "gaia-dev-redis" }];
    expect(double(["redis", "list", "--org", "gaia"], databases) + double(["redis", "list", "--org", "gaia"], [])).toBe(fixture("redis-list.txt"));
  });

  it("reads the read regions ops/fly.ts compares from each form flyctl has printed", () => {
    expect(readRegions(fixture("redis-status-no-replicas.txt"))).toEqual([]);
    expect(readRegions(fixture("redis-status-replicas.txt"))).toEqual(["ord", "sjc"]);
    // Before v0.4.33 (tablewriter's "=" separator).
    expect(readRegions("Redis\n  Read Regions   = sjc,ord\n")).toEqual(["ord", "sjc"]);
    expect(() => readRegions("Redis\n ID │ x \n")).toThrow('`fly redis status` printed no "Read Regions" row: flyctl\'s output changed; check the installed flyctl (v0.4.84 or later).');
  });
});

describe("flyctl's table rules beyond the rows the double prints", () => {
  const cases = JSON.parse(fixture("render-rules.json")) as { kind: "table" | "vertical"; title?: string; rows: string[][]; cols: string[]; printed: string }[];
  it.each(cases.map((c) => [JSON.stringify({ ...c, printed: undefined }), c] as const))("renders %s as tablewriter v1.1.4 does", (_name, c) => {
    const printed = c.kind === "table" ? render.table(c.rows, c.cols, c.title ?? "") : render.verticalTable(c.title ?? "", c.rows, c.cols);
    expect(printed).toBe(c.printed);
  });

  it("refuses a cell whose display width it does not compute, rather than printing it otherwise than flyctl", () => {
    for (const cell of ["日本語", "e\u0301", "a\tb", "\u001b[1mx\u001b[0m"]) expect(() => render.table([[cell]], ["Name"])).toThrow(/display width/);
  });
});

describe("the double's other outputs, as flyctl's source prints them", () => {
  const cluster = {
    id: "c0ffee1234abcd", name: "gaia-staging-db", org: "gaia", region: "iad", plan: "launch", status: "ready", disk: 50, ip: "fdaa:0:1::2", dbname: "fly-db",
    databases: ["fly-db", "gaia_staging"], attached_apps: ["gaia-chat", "gaia-auth"],
    users: [{ name: "fly-user", role: "schema_admin", password: "PASSWORD" }, { name: "gaia_staging_chat_a", role: "writer", password: "PASSWORD" }],
    backups: [
      { id: "1a2b3c4d", status: "completed", type: "full", start: "2026-12-05T21:00:00Z", stop: "2026-12-05T21:10:00Z" },
      { id: "5e6f7a8b", status: "completed", type: "incr", start: "2026-12-05T22:00:00Z", stop: "2026-12-05T22:01:00Z" },
    ],
  };
  const dev = { ...cluster, id: "b0ba1234abcdef", name: "gaia-dev-db", plan: "basic", attached_apps: [] };
  const run = (args: string[], stdin = "") => double(args, [], { clusters: [cluster, dev], secrets: { "gaia-chat": { GAIA_DATABASE_URL: "VALUE" } } }, stdin);

  it("prints the tables of mpg list, status, users list, databases list, backup list and secrets list (render.Table, render.VerticalTable)", () => {
    expect(run(["mpg", "list", "--org", "gaia"])).toBe(fixture("mpg-list.txt"));
    expect(run(["mpg", "status", cluster.id])).toBe(fixture("mpg-status.txt"));
    expect(run(["mpg", "users", "list", cluster.id])).toBe(fixture("mpg-users-list.txt"));
    expect(run(["mpg", "databases", "list", cluster.id])).toBe(fixture("mpg-databases-list.txt"));
    expect(run(["secrets", "list", "--app", "gaia-chat"])).toBe(fixture("secrets-list.txt"));
    expect(run(["mpg", "backup", "list", cluster.id, "--all"])).toBe(fixture("mpg-backup-list.txt"));
  });

  it("prints JSON as render.JSON does: ClusterBackup's five fields, and a newline after", () => {
    const out = double(["mpg", "users", "list", cluster.id, "--json"], [], { clusters: [cluster] });
    expect(out).toBe(`${JSON.stringify([{ name: "fly-user", role: "schema_admin" }, { name: "gaia_staging_chat_a", role: "writer" }], null, 4)}\n`);
    const backups = JSON.parse(double(["mpg", "backup", "list", cluster.id, "--all", "--json"], [], { clusters: [cluster] })) as object[];
    for (const b of backups) expect(Object.keys(b)).toEqual(["id", "status", "type", "start", "stop"]);
  });

  it("prints what mpg users, databases, attach and detach print (v2/run_users.go, run_databases.go, run_attach.go, run_detach.go)", () => {
    const id = cluster.id;
    expect(run(["mpg", "users", "create", id, "--username", "u1", "--role", "reader"])).toBe(`Creating user u1 with role reader in cluster ${id}...\nUser created successfully!\n  Name: u1\n  Role: reader\n`);
    expect(run(["mpg", "users", "set-role", id, "--username", "fly-user", "--role", "writer"])).toBe(`Updating user fly-user role to writer in cluster ${id}...\nUser role updated successfully!\n  Name: fly-user\n  Role: writer\n`);
    expect(run(["mpg", "users", "delete", id, "--username", "gaia_staging_chat_a", "--yes"])).toBe(`Deleting user gaia_staging_chat_a from cluster ${id}...\nUser gaia_staging_chat_a deleted successfully from cluster ${id}\n`);
    expect(run(["mpg", "databases", "create", id, "--name", "d1"])).toBe(`Creating database d1 in cluster ${id}...\nDatabase created successfully!\n  Name: d1\n`);
    expect(run(["mpg", "attach", id, "--app", "gaia-assets", "--username", "fly-user", "--database", "gaia_staging", "--variable-name", "V"])).toBe(
      `\nPostgres cluster ${id} is being attached to gaia-assets\nThe following secret was added to gaia-assets:\n  V=postgresql://fly-user:PASSWORD@pgbouncer.${id}.flympg.net/gaia_staging\n`,
    );
    expect(run(["mpg", "detach", id, "--app", "gaia-chat"])).toBe(
      `\nPostgres cluster ${id} has been detached from gaia-chat\nNote: This only removes the attachment record. Any secrets (like DATABASE_URL) are still set on the app.\nUse 'fly secrets unset DATABASE_URL -a gaia-chat' to remove the connection string.\n`,
    );
  });

  it("reads secrets from stdin as parser.go does: a # after an even number of quotes starts a comment, quotes and triple quotes taken off", () => {
    const imported = (stdin: string) => {
      const stateFile = path.join(mkdtempSync(path.join(tmpdir(), "gaia-fly-render-")), "state.json");
      const r = spawnSync(process.execPath, [DOUBLE, "secrets", "import", "--app", "a", "--stage"], { input: stdin, env: { ...process.env, FLY_API_TOKEN: "fm2_double", FAKE_FLY_STATE: stateFile, FLY_CONFIG_DIR: path.dirname(stateFile) }, encoding: "utf8" });
      expect(r.stderr).toBe("");
      return (JSON.parse(readFileSync(stateFile, "utf8")) as { secrets: Record<string, Record<string, string>> }).secrets.a;
    };
    // Each as flyctl ad0172fac's parseSecrets returns it (internal/command/secrets/parser.go, run on these lines).
    expect(imported('A="redis://default:p#w@h:6379"\nB="abc"#c\nC=x # c\n')).toEqual({ A: "redis://default:p#w@h:6379", B: "abc", C: "x" });
    expect(imported('A="""l1\nl2"""\nB=\'q\'\r\nC="a"b"#c\n')).toEqual({ A: "l1\nl2", B: "q", C: '"a"b"#c' });
  });
});

describe("what the commands that change something print, as flyctl's source prints it (test/fixtures/flyctl)", () => {
  /** `printed` with the id and password Fly made put back as the fixtures' <ID> and <PASSWORD>. */
  const placeheld = (printed: string, id: string, password: string) => printed.replaceAll(id, "<ID>").replaceAll(password, "<PASSWORD>");
  const ready = { id: "c0ffee1234abcd", name: "gaia-staging-db", org: "gaia", region: "iad", plan: "launch", status: "ready", disk: 50, ip: "fdaa:0:1::2", dbname: "fly-db", databases: ["fly-db"], attached_apps: [], users: [{ name: "fly-user", role: "schema_admin", password: "PASSWORD" }], backups: [] };
  const create = ["mpg", "create", "--name", "gaia-staging-db", "--org", "gaia", "--region", "iad", "--plan", "launch", "--volume-size", "50"];

  it("fly mpg create: the plan, the wait and the cluster (v2/run_create.go RunCreate, plans.go)", () => {
    const run = doubleRun(create, {});
    const [made] = run.after.clusters;
    expect([run.stderr, run.status]).toEqual(["", 0]);
    expect(placeheld(run.stdout, made!.id, made!.users[0]!.password)).toBe(fixture("mpg-create.txt"));
  });

  it("fly mpg create whose cluster fails: the wait, then flyctl's error, the cluster left in status error", () => {
    const run = doubleRun(create, {}, { FAKE_FLY_CREATE_OUTCOME: "error" });
    const [made] = run.after.clusters;
    const waiting = fixture("mpg-create.txt").split("\nManaged Postgres cluster created successfully!")[0]!;
    expect([placeheld(run.stdout, made!.id, made!.users[0]!.password), run.stderr, run.status, made!.status]).toEqual([waiting, "Error: cluster creation failed\n", 1, "error"]);
  });

  it("fly mpg create with a plan flyctl does not know: Basic, without a word (create.go normalizePlan; Performance's key is capitalised)", () => {
    for (const plan of ["performance", "enterprise"]) {
      const run = doubleRun(create.map((a) => (a === "launch" ? plan : a)), {});
      expect(run.stdout.split("\n")[0]).toBe("Selected Plan: Basic");
      expect(run.after.clusters[0]!.plan).toBe("basic");
    }
    expect(doubleRun(create.map((a) => (a === "launch" ? " Scale " : a)), {}).stdout.split("\n")[0]).toBe("Selected Plan: Scale");
  });

  it("fly mpg destroy: scheduled (v2/run_destroy.go); without --yes, its warning and the prompt's error", () => {
    expect(doubleRun(["mpg", "destroy", ready.id, "--yes"], { clusters: [ready] }).stdout).toBe(fixture("mpg-destroy.txt").replaceAll("<ID>", ready.id));
    const unconfirmed = doubleRun(["mpg", "destroy", ready.id], { clusters: [ready] });
    expect([unconfirmed.stdout, unconfirmed.stderr, unconfirmed.status]).toEqual(["", "Destroying a managed Postgres cluster is not reversible. All data will be permanently lost.\nError: --yes flag must be specified when not running interactively\n", 1]);
  });

  it("fly mpg backup create: queued (v2/run_backup.go RunBackupCreate)", () => {
    expect(doubleRun(["mpg", "backup", "create", ready.id, "--type", "full"], { clusters: [ready] }).stdout).toBe(fixture("mpg-backup-create.txt").replaceAll("<ID>", ready.id));
  });

  it("fly redis create: the database, its URL and its billing (redis/create.go Create); the eviction prompt's text before its error", () => {
    const flags = ["redis", "create", "--name", "gaia-staging-redis", "--org", "gaia", "--region", "iad", "--no-replicas", "--enable-prodpack=false"];
    const run = doubleRun([...flags, "--disable-eviction"], {});
    expect([run.stderr, run.status]).toEqual(["", 0]);
    expect(placeheld(run.stdout, "\u0000", run.after.redis[0]!.password)).toBe(fixture("redis-create.txt"));
    const prompted = doubleRun(flags, {});
    expect([prompted.stdout, prompted.stderr, prompted.status]).toEqual([fixture("redis-create-eviction-prompt.txt"), "Error: prompt: non interactive\n", 1]);
    // --disable-eviction=false is no answer: flyctl reads the flag's value (flag.GetBool), not whether it was given.
    expect(doubleRun([...flags, "--disable-eviction=false"], {}).status).toBe(1);
  });

  it("fly redis create keeps the replica regions Fly offers Upstash, less the primary, and drops any other without a word; refuses an unknown primary", () => {
    const flags = (region: string, replicas: string) => ["redis", "create", "--name", "r", "--org", "gaia", "--region", region, "--replica-regions", replicas, "--disable-eviction", "--enable-prodpack=false"];
    // mad is in no list of Fly's current regions; cdg is Fly's and not Managed Postgres's; iad is the primary.
    expect(doubleRun(flags("iad", "cdg,mad,iad,ord"), {}).after.redis[0]!.replicas.slice().sort()).toEqual(["cdg", "ord"]);
    expect(doubleRun(flags("iad", "cdg,ord"), {}, { FAKE_FLY_UPSTASH_EXCLUDED: "cdg" }).after.redis[0]!.replicas).toEqual(["ord"]);
    const unknown = doubleRun(flags("xyz", "ord"), {});
    expect([unknown.stderr, unknown.status]).toEqual(["Error: region xyz not found\n", 1]);
    const excludedPrimary = doubleRun(flags("cdg", "ord"), {}, { FAKE_FLY_UPSTASH_EXCLUDED: "cdg" });
    expect(excludedPrimary.stderr).toBe("Error: region cdg not found\n");
    const legacy = doubleRun([...flags("iad", "ord"), "--plan", "Pro 2k"], {});
    expect(legacy.stderr).toBe('Error: plan "Pro 2k" is no longer available for new databases. Please choose a current plan\n');
  });

  it("fly redis destroy: destroyed (redis/destroy.go); an unknown name is an error, not a silent success", () => {
    const r = { name: "gaia-staging-redis", org: "gaia", region: "iad", replicas: [], password: "PASSWORD" };
    expect(doubleRun(["redis", "destroy", r.name, "--yes"], { redis: [r] }).stdout).toBe(fixture("redis-destroy.txt"));
    const unknown = doubleRun(["redis", "destroy", "gaia-nothing-redis", "--yes"], { redis: [r] });
    expect([unknown.status, unknown.after.redis]).toEqual([1, [r]]);
    const unconfirmed = doubleRun(["redis", "destroy", r.name], { redis: [r] });
    expect([unconfirmed.stderr, unconfirmed.status]).toEqual(["Destroying a Redis instance is not reversible.\nError: yes flag must be specified when not running interactively\n", 1]);
  });

  it("fly secrets import and unset with --stage: staged, not deployed (secrets/secrets.go DeploySecrets)", () => {
    expect(doubleRun(["secrets", "import", "--app", "a", "--stage"], {}, {}, 'A="x"\n').stdout).toBe(fixture("secrets-staged.txt"));
    expect(doubleRun(["secrets", "unset", "A", "--app", "a", "--stage"], { secrets: { a: { A: "x" } } }).stdout).toBe(fixture("secrets-staged.txt"));
  });

  it("fails as flyctl's source fails: what it printed before the API's 404 (client.go), the wrapped lookups of attach and detach, their order", () => {
    const id = ready.id;
    const fly = { clusters: [ready], secrets: { a: { V: "x" } } };
    const out = (args: string[]) => {
      const r = doubleRun(args, fly);
      return [r.stdout, r.stderr, r.status];
    };
    // v2/run_users.go RunUsersSetRole, RunUsersDelete; internal/uiex/mpg/v2/client.go UpdateUserRole, DeleteUser (404).
    expect(out(["mpg", "users", "set-role", id, "--username", "ghost", "--role", "writer"])).toEqual([`Updating user ghost role to writer in cluster ${id}...\n`, `Error: failed to update user role: cluster ${id} or user ghost not found\n`, 1]);
    expect(out(["mpg", "users", "delete", id, "--username", "ghost", "--yes"])).toEqual([`Deleting user ghost from cluster ${id}...\n`, `Error: failed to delete user: cluster ${id} or user ghost not found\n`, 1]);
    expect(out(["mpg", "users", "delete", id, "--username", "fly-user"])).toEqual(["", "Deleting a user is not reversible.\nError: --yes flag must be specified when not running interactively\n", 1]);
    // attach.go, detach.go: "failed retrieving cluster <id>: " before ClusterFromArgOrSelect's error (mpg.go).
    expect(out(["mpg", "attach", "nosuch", "--app", "a"])).toEqual(["", 'Error: failed retrieving cluster nosuch: managed postgres cluster "nosuch" not found\n', 1]);
    expect(out(["mpg", "detach", "nosuch", "--app", "a"])).toEqual(["", 'Error: failed retrieving cluster nosuch: managed postgres cluster "nosuch" not found\n', 1]);
    // RequireAppName, a preparer, before any lookup.
    expect(out(["mpg", "attach", "nosuch"])[1]).toBe("Error: the config for your app is missing an app name, add an app field to the fly.toml file or specify with the -a flag\n");
    // v2/run_attach.go: the user's credentials (GetUserCredentials' 404) before the secrets.
    expect(out(["mpg", "attach", id, "--app", "a", "--username", "ghost", "--variable-name", "V"])).toEqual(["", `Error: failed retrieving credentials for user ghost: cluster ${id} or user ghost not found\n`, 1]);
    // secrets/unset.go: cobra.MinimumNArgs(1), checked before the session.
    expect(doubleRun(["secrets", "unset", "--app", "a"], {}, { FLY_API_TOKEN: "" }).stderr).toBe("Error: requires at least 1 arg(s), only received 0\n");
    // A command flyctl has and the double does not model (postgres create: root.go) is the double's own error, never an "unknown command".
    expect(out(["postgres", "create"])).toEqual(["", "flyctl double: `postgres create` is not modelled (test/support/flyctl-double.cjs): what flyctl answers is not known here\n", 2]);
  });

  it("fly mpg backup list keeps, without --all, a backup whose start it cannot parse (v2/run_backup.go RunBackupList)", () => {
    const backups = [{ id: "0a0a0a0a", status: "in_progress", type: "full", start: "", stop: "" }, { id: "1b1b1b1b", status: "completed", type: "full", start: "2020-01-01T00:00:00Z", stop: "2020-01-01T00:10:00Z" }];
    const listed = JSON.parse(doubleRun(["mpg", "backup", "list", ready.id, "--json"], { clusters: [{ ...ready, backups }] }).stdout) as { id: string }[];
    expect(listed.map((b) => b.id)).toEqual(["0a0a0a0a"]);
  });

  it("fails on more arguments than cobra lets each command take, before anything else (cobra args.go)", () => {
    expect(doubleRun(["mpg", "status", "a", "b"], {}).stderr).toBe("Error: accepts at most 1 arg(s), received 2\n");
    expect(doubleRun(["redis", "status"], {}).stderr).toBe("Error: accepts 1 arg(s), received 0\n");
    expect(doubleRun(["redis", "destroy", "a", "b", "--yes"], {}).stderr).toBe("Error: accepts 1 arg(s), received 2\n");
    expect(doubleRun(["mpg", "destroy", "--yes"], {}).stderr).toBe("Error: accepts 1 arg(s), received 0\n");
    // Before the session: no token, and the count is still what is said.
    expect(doubleRun(["mpg", "users", "list", "a", "b"], {}, { FLY_API_TOKEN: "" }).stderr).toBe("Error: accepts at most 1 arg(s), received 2\n");
  });
});
