#!/usr/bin/env node
// A double of flyctl for tests, built from flyctl's own command definitions (superfly/flyctl
// at v0.4.87, paths below): for each command ops/fly.ts runs, the flags it accepts, what it
// prints (JSON in the shape of flyctl's Go structs, text where flyctl prints text, passwords
// included where flyctl prints them), the prompts that fail without a terminal, and its errors.
// A flag the command does not have fails as flyctl does ("Error: unknown flag: --x", exit 1:
// internal/cli/cli.go printError); a command the double does not model fails with the double's
// own error, exit 2, never an answer flyctl would not give (`flyctl postgres create` exists:
// internal/command/root/root.go). The Fly API is a JSON file (FAKE_FLY_STATE); every call is
// recorded with its argv and stdin. FAKE_FLY_FAIL="<command path>" fails that command once,
// as an API error would, to test a run interrupted half-way. Like flyctl, every run writes a
// debug log, passwords included, to $FLY_CONFIG_DIR/logs or ~/.fly/logs (below).
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const render = require("./flyctl-render.cjs");

const stateFile = process.env.FAKE_FLY_STATE;
const state = fs.existsSync(stateFile)
  ? JSON.parse(fs.readFileSync(stateFile, "utf8"))
  : { clusters: [], redis: [], secrets: {}, calls: [], failed: [] };
const save = () => fs.writeFileSync(stateFile, JSON.stringify(state, null, 1));
const secret = () => crypto.randomBytes(12).toString("base64url");

/** A failure as flyctl prints it: "Error: <message>" on stderr, after whatever the command printed before it. */
class FlyError extends Error {
  constructor(message, printed = "") {
    super(message);
    this.printed = printed;
  }
}
/** A command the double does not model: its own error, exit 2, never a guess at flyctl's answer. */
class NotModelled extends Error {}
const fail = (message, printed) => {
  throw new FlyError(message, printed);
};
// flyctl logs every run at debug level to <config dir>/logs/flyctl-<RFC3339>.log whatever LOG_LEVEL
// says, and keeps the last ten (internal/cli/cli.go:46,58, internal/logger/split_logger.go:14-20,
// logfile/fs.go:14-36,85-105, logfile/name.go:10-17); the config dir is FLY_CONFIG_DIR if set, even
// empty, else $HOME/.fly (helpers/config.go:11-21). Its HTTP client logs each request and response
// body (fly-go v0.9.6 http.go:64-121), so the log holds what the API hands out. LOG_LEVEL=debug
// prints the same lines on stderr (internal/logger/logger.go:55-73).
const debugLines = [];
const debug = (line) => debugLines.push(`DEBUG ${line}\n`);
/** An API call as flyctl's HTTP client logs it (the request body pretty-printed, logger.go:90-104); returns the response. */
const api = (url, response, request) => {
  debug(`--> POST ${url}`);
  if (request !== undefined) debug(JSON.stringify(request, null, 2));
  debug(`<-- 200 ${url}`);
  debug(`  <-- ${url}: ${JSON.stringify(response)}`);
  return response;
};
/** The log file written, if any: flyctl carries on without one when it cannot (cli.go:46-48). */
function writeLog() {
  const configDir = process.env.FLY_CONFIG_DIR ?? (process.env.HOME ? path.join(process.env.HOME, ".fly") : undefined);
  if (configDir === undefined) return undefined;
  try {
    const dir = path.join(configDir, "logs");
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `flyctl-${new Date().toISOString().replace(/\.\d+Z$/, "Z")}.log`);
    fs.writeFileSync(file, debugLines.join(""));
    const logs = fs.readdirSync(dir).filter((name) => /^flyctl-.*\.log$/.test(name)).sort();
    for (const old of logs.slice(0, -10)) fs.rmSync(path.join(dir, old));
    return file;
  } catch {
    return undefined;
  }
}

/** What flyctl's prompts answer without a terminal (internal/prompt/prompt.go ErrNonInteractive). */
const NON_INTERACTIVE = "prompt: non interactive";

const str = "string";
const bool = "bool";
const int = "int";
// Persistent root flags (internal/command/root/root.go).
const GLOBAL = { "access-token": { type: str, short: "t" }, verbose: { type: bool }, debug: { type: bool } };
const json = { json: { type: bool, short: "j" } }; // flag.JSONOutput(), internal/flag/flag.go
const yes = { yes: { type: bool, short: "y", alias: "auto-confirm" } }; // flag.Yes()
const app = { app: { type: str, short: "a" }, config: { type: str, short: "c" } }; // flag.App(), flag.AppConfig()
const secretsShared = { ...app, detach: { type: bool }, stage: { type: bool }, "dns-checks": { type: bool } }; // internal/command/secrets/secrets.go

/** MPG regions the API offers (docs mpg/index.html.md); plans as flyctl keys them (internal/command/mpg/plans.go). */
const MPG_REGIONS = ["ams", "fra", "gru", "iad", "lax", "lhr", "nrt", "ord", "sin", "sjc", "syd", "yyz"];
const MPG_PLANS = {
  basic: { name: "Basic", cpu: "Shared x 2", memory: "1 GB", price: 38 },
  starter: { name: "Starter", cpu: "Shared x 2", memory: "2 GB", price: 72 },
  launch: { name: "Launch", cpu: "Performance x 2", memory: "8 GB", price: 282 },
  scale: { name: "Scale", cpu: "Performance x 4", memory: "33 GB", price: 962 },
  Performance: { name: "Performance", cpu: "Performance x 8", memory: "64 GB", price: 1922 },
};
/**
 * Fly's platform regions as the API lists them (`fly platform regions`; the 18 Fly keeps since
 * its 2025 consolidation, as alchemy-run/alchemy packages/fly/src/Region.ts lists them in
 * September 2026) and those Upstash excludes (GetAddOnProvider's excludedRegions: none known,
 * FAKE_FLY_UPSTASH_EXCLUDED="a,b" names some). `redis create` picks from the first less the second
 * (internal/command/redis/create.go, redis.go GetExcludedRegions, internal/prompt/prompt.go).
 */
const FLY_REGIONS = ["ams", "arn", "bom", "cdg", "dfw", "ewr", "fra", "gru", "iad", "jnb", "lax", "lhr", "nrt", "ord", "sin", "sjc", "syd", "yyz"];
const upstashExcluded = () => (process.env.FAKE_FLY_UPSTASH_EXCLUDED ?? "").split(",").filter(Boolean);
const UPSTASH_PLANS = { ekQ85Yjkw155ohQ5ALYq0M: "Pay-as-you-go", x7M0gyB764ggwt6YZLRK: "Free" }; // internal/command/redis/create.go

// mpg.go ClusterFromArgOrSelect; the cluster as the API returns it, with the credentials (GetCluster, GetUserCredentials).
const cluster = (id) => api(`https://api.fly.io/api/v1/postgres/${id}`, state.clusters.find((c) => c.id === id) ?? fail(`managed postgres cluster "${id}" not found`));
const clusterArg = (args) => args[0] ?? fail(NON_INTERACTIVE);
/** attach.go and detach.go wrap ClusterFromArgOrSelect's error: "failed retrieving cluster <id>: ...". */
const retrieving = (id) => {
  try {
    return cluster(id);
  } catch (error) {
    throw new FlyError(`failed retrieving cluster ${id}: ${error.message}`);
  }
};
const pgbouncerUri = (c, user, password) => `postgresql://${user}:${password}@pgbouncer.${c.id}.flympg.net/${c.dbname}`;
const orgOf = (flags) => flags.org ?? process.env.FLY_ORG;
/**
 * The app a command names, looked up first (GetAppCompact: secrets/import.go, unset.go; GetAppBasic:
 * mpg/attach.go, detach.go). The apps Fly has are `state.apps` when the test says which (all
 * otherwise); one destroyed is the API's GraphQL error, "Could not find App", the text flyctl itself
 * matches (internal/command/deploy/deploy.go, machine/run.go).
 */
const appOf = (name) => (state.apps && !state.apps.includes(name) ? fail("Could not find App") : name);
/** render.JSON (internal/render/render.go): json.Encoder with a 4-space indent, a newline after. */
const jsonOut = (value) => `${JSON.stringify(value, null, 4)}\n`;
/**
 * The add-on a name gives (gql GetAddOn, DeleteAddOn: name and type, no organization); an unknown
 * name is a GraphQL error whose text is the API's, in no source: this one is made up.
 */
const addOn = (name) => state.redis.find((x) => x.name === name) ?? fail(`Could not find Redis database ${name}`);
/**
 * An app's secrets as flyctl reads and writes them (internal/appsecrets/secrets.go): every change
 * (Update: import, unset, mpg attach) returns the app's new secrets version, which flyctl keeps in
 * its config file (`app_secrets_minvers` in <config dir>/config.yml, minvers.go SetMinvers; its
 * failure to save is the command's error) and sends with its later reads (List: fly-go flaps
 * ListAppSecrets ?version=), "to ensure that the latest secrets are used" (flyctl ad0dc5f75): a
 * read without it may be served what the app had before. FAKE_FLY_SECRETS_LAG=1 serves such a
 * read the secrets as they were before the app's last change (the lag itself is Fly's: in no source).
 */
const configFile = () => path.join(process.env.FLY_CONFIG_DIR ?? path.join(process.env.HOME ?? "", ".fly"), "config.yml");
function minvers() {
  try {
    return require("yaml").parse(fs.readFileSync(configFile(), "utf8"))?.app_secrets_minvers ?? {};
  } catch {
    return {};
  }
}
function readSecrets(app) {
  const current = state.secrets[app] ?? {};
  const history = state.secretVersions?.[app];
  if (!history || !process.env.FAKE_FLY_SECRETS_LAG) return current;
  const known = minvers()[app];
  return known !== undefined && known >= history.version ? current : history.before;
}
function updateSecrets(app, set, unset = []) {
  const before = { ...(state.secrets[app] ?? {}) };
  const secrets = (state.secrets[app] ??= {});
  Object.assign(secrets, set);
  for (const name of unset) delete secrets[name];
  state.secretVersions ??= {};
  const version = (state.secretVersions[app]?.version ?? 0) + 1;
  state.secretVersions[app] = { version, before };
  try {
    const file = configFile();
    const config = fs.existsSync(file) ? require("yaml").parse(fs.readFileSync(file, "utf8")) ?? {} : {};
    config.app_secrets_minvers = { ...(config.app_secrets_minvers ?? {}), [app]: version };
    fs.writeFileSync(file, require("yaml").stringify(config, { indent: 4 }), { mode: 0o600 });
  } catch (error) {
    fail(`error saving config file: ${error.message}`);
  }
  return version;
}
/** mpg.FormatAttachedApps (internal/command/mpg/list.go): a list the API did not give (null) is none. */
const attachedApps = (apps) => (apps?.length ? apps.join(", ") : "<no attached apps>");
/**
 * AttachedApps []mpg.AttachedApp (internal/uiex/mpg/types.go) as render.JSON prints it: a cluster
 * whose answer has no attached_apps (null in the state: whether the API ever leaves it out is in no
 * source) is a nil slice, printed null.
 */
const attachedAppsJson = (apps) => (apps ? apps.map((name, i) => ({ name, id: i + 1 })) : null);

/**
 * internal/command/secrets/parser.go parseSecrets, line by line (bufio.Scanner: "\n", a "\r" before it dropped):
 * comments and blank lines skipped; NAME=VALUE cut at the first "="; the value cut at a "#" when
 * the part before it holds an even number of '"'; then """…""" (one line or many), "…" or '…' unquoted.
 */
function parseSecrets(stdin) {
  const secrets = {};
  let multiline;
  const lines = stdin.split("\n").map((l) => l.replace(/\r$/, ""));
  if (lines.at(-1) === "") lines.pop();
  for (const line of lines) {
    if (multiline) {
      if (line.endsWith('"""')) {
        secrets[multiline.key] = multiline.value + line.slice(0, -3);
        multiline = undefined;
      } else multiline.value += `${line}\n`;
      continue;
    }
    if (line.startsWith("#") || line.trim() === "") continue;
    const at = line.indexOf("=");
    if (at < 0) fail(`Failed to parse secrets from stdin: Secrets must be provided as NAME=VALUE pairs (${line} is invalid)`);
    const key = line.slice(0, at).trim();
    let value = line.slice(at + 1).replace(/^ +/, "");
    const hash = value.indexOf("#");
    if (hash >= 0 && (value.slice(0, hash).match(/"/g) ?? []).length % 2 === 0) value = value.slice(0, hash).replace(/ +$/, "");
    if (value.startsWith('"""') && value.endsWith('"""') && value.length >= 6) secrets[key] = value.slice(3, -3);
    else if (value.startsWith('"""')) multiline = { key, value: `${value.slice(3)}\n` };
    else if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) secrets[key] = value.slice(1, -1);
    else secrets[key] = value;
  }
  return secrets;
}

const COMMANDS = {
  // internal/command/mpg/list.go; JSON: []v1.ManagedCluster (internal/uiex/mpg/v1/client.go).
  "mpg list": {
    flags: { ...json, org: { type: str, short: "o" }, deleted: { type: bool } },
    run(args, flags) {
      const org = orgOf(flags) ?? args[0] ?? fail("slug argument must be specified when not running interactively");
      // A cluster scheduled to be destroyed is gone once Fly has finished: here after that many lists.
      for (const c of state.clusters.filter((x) => x.destroyAfterLists !== undefined)) c.destroyAfterLists--;
      state.clusters = state.clusters.filter((c) => !(c.destroyAfterLists <= 0));
      const found = state.clusters.filter((c) => c.org === org);
      if (found.length === 0) return `No managed postgres clusters found in organization ${org}\n`;
      const list = found.map((c) => ({
        id: c.id, mpgd_cluster_id: c.id, version: 2, name: c.name, region: c.region, status: c.status, plan: c.plan, disk: c.disk, replicas: 1,
        organization: { Slug: c.org, RawSlug: c.org }, ip_assignments: { direct: c.ip }, attached_apps: attachedAppsJson(c.attached_apps),
      }));
      return flags.json
        ? jsonOut(list)
        : render.table(found.map((c) => [c.id, c.name, c.org, c.region, c.status, c.plan, attachedApps(c.attached_apps)]), ["ID", "Name", "Org", "Region", "Status", "Plan", "Attached Apps"]);
    },
  },
  // internal/command/mpg/create.go and v2/run_create.go; no --json; blocks until ready.
  "mpg create": {
    flags: {
      region: { type: str, short: "r" }, org: { type: str, short: "o" }, name: { type: str, short: "n" }, v2: { type: bool },
      plan: { type: str }, "volume-size": { type: int }, "enable-postgis-support": { type: bool }, "pg-major-version": { type: int },
    },
    run(_args, flags) {
      if (!flags.name) fail("name argument or flag must be specified when not running interactively");
      const org = orgOf(flags) ?? fail("org slug must be specified when not running interactively");
      const version = flags["pg-major-version"] ?? 16;
      if (version !== 16 && version !== 17) fail(`invalid Postgres major version: ${version}. Supported versions are 16 and 17`);
      // normalizePlan lowercases; an unmatched plan silently becomes Basic without a terminal.
      const key = String(flags.plan ?? "").toLowerCase().trim();
      const plan = MPG_PLANS[key] ? key : "basic";
      if (!flags.region) fail(NON_INTERACTIVE);
      if (!MPG_REGIONS.includes(flags.region)) fail(`region ${flags.region} is not available for Managed Postgres. Available regions: [${MPG_REGIONS.join(" ")}]`);
      const id = crypto.randomBytes(7).toString("hex");
      const password = secret();
      // The API's `plan` is what flyctl never reads back (#6, unverified): the key it sent unless
      // FAKE_FLY_PLAN_REPORTED says otherwise. FAKE_FLY_CREATE_OUTCOME=error: the cluster's
      // provisioning fails, as the poll in v2/run_create.go sees it ("error").
      const failed = process.env.FAKE_FLY_CREATE_OUTCOME === "error";
      const c = {
        id, name: flags.name, org, region: flags.region, plan: process.env.FAKE_FLY_PLAN_REPORTED ?? plan, status: failed ? "error" : "ready", disk: flags["volume-size"] ?? 10, version,
        ip: `fdaa:0:1::${state.clusters.length + 2}`, dbname: "fly-db", databases: ["fly-db"], attached_apps: [], backups: [],
        users: [{ name: "fly-user", role: "schema_admin", password }],
      };
      state.clusters.push(c);
      api("https://api.fly.io/api/v1/postgres", c, { name: c.name, org, region: c.region, plan });
      // v2/run_create.go RunCreate, line for line (CreatePlanDisplay from plans.go).
      const p = MPG_PLANS[plan];
      const waiting = [
        `Selected Plan: ${p.name}`, `  CPU: ${p.cpu}`, `  Memory: ${p.memory}`, `  Price: $${p.price} per month`, "",
        `Waiting for cluster ${c.name} (${id}) to be ready...`,
        `You can view the cluster in the UI at: https://fly.io/dashboard/${org}/managed_postgres/${id}`,
        "You can cancel this wait with Ctrl+C - the cluster will continue provisioning in the background.",
        `Once ready, you can connect to the database with: fly mpg connect ${id}`, "", "",
      ].join("\n");
      if (failed) fail("cluster creation failed", waiting);
      return waiting + [
        "", "Managed Postgres cluster created successfully!", `  ID: ${id}`, `  Name: ${c.name}`, `  Organization: ${org}`,
        `  Region: ${c.region}`, `  Plan: ${plan}`, `  Disk: ${c.disk}GB`, `  PostGIS: ${flags["enable-postgis-support"] === true}`, `  Connection string: ${pgbouncerUri(c, "fly-user", password)}`, "",
      ].join("\n");
    },
  },
  // internal/command/mpg/restore.go, v2/run_restore.go at ad0172fa (--pitr-time came after v0.4.87:
  // superfly/flyctl #5051): into a new cluster, asynchronously. The new
  // cluster's status while Fly provisions it is in no source: FAKE_FLY_RESTORE_STATUS (default
  // "ready") says what `mpg list` and `mpg status` show; its data and users are the source's.
  "mpg restore": {
    args: [0, 1],
    flags: { "backup-id": { type: str }, name: { type: str, short: "n" }, "pitr-time": { type: str } },
    run(args, flags) {
      const backupId = flags["backup-id"] ?? "";
      const pitrTime = flags["pitr-time"] ?? "";
      if (!backupId && !pitrTime) fail("one of --backup-id or --pitr-time is required");
      if (backupId && pitrTime) fail("--backup-id and --pitr-time are mutually exclusive");
      // Go's time.Parse(time.RFC3339, …): a date, T, a time, and Z or ±hh:mm.
      if (pitrTime && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(pitrTime)) {
        fail(`--pitr-time must be an RFC3339 timestamp with an explicit offset (e.g. 2026-06-01T12:00:00Z): parsing time "${pitrTime}" as "2006-01-02T15:04:05Z07:00": cannot parse "${pitrTime}" as "2006"`);
      }
      const source = cluster(clusterArg(args));
      const id = crypto.randomBytes(7).toString("hex");
      const name = flags.name || `${source.name}-restore-${id.slice(0, 4)}`;
      const restored = {
        ...JSON.parse(JSON.stringify(source)), id, name, status: process.env.FAKE_FLY_RESTORE_STATUS ?? "ready",
        ip: `fdaa:0:1::${state.clusters.length + 2}`, attached_apps: [], backups: [], restoredFrom: source.id, restoredTo: pitrTime || undefined, restoredBackup: backupId || undefined,
      };
      state.clusters.push(restored);
      api(`https://api.fly.io/api/v1/postgresv2/${source.id}/restore`, { data: { id, name } }, { backup_id: backupId, name: flags.name ?? "", pitr_time: pitrTime });
      return [
        backupId ? `Restoring cluster ${source.id} from backup ${backupId}...` : `Restoring cluster ${source.id} to point in time ${pitrTime}...`,
        "Restore initiated successfully!", `  Cluster ID: ${id}`, `  Cluster Name: ${name}`, "",
      ].join("\n");
    },
  },
  // internal/command/mpg/status.go, v2/run_status.go; JSON: GetClusterResponse (internal/uiex/mpg/v2/client.go).
  "mpg status": {
    args: [0, 1],
    flags: { ...json },
    run(args, flags) {
      const c = cluster(clusterArg(args));
      const admin = c.users.find((u) => u.name === "fly-user");
      const response = {
        data: {
          id: c.id, name: c.name, status: c.status, engine: "postgres", plan: c.plan, region: c.region, organization: { Slug: c.org },
          mpgd_cluster_id: c.id, disk: c.disk, replicas: 1, ip_assignments: { direct: c.ip }, attached_apps: attachedAppsJson(c.attached_apps),
        },
        credentials: { status: "ready", user: "fly-user", password: admin.password, dbname: c.dbname, pgbouncer_uri: pgbouncerUri(c, "fly-user", admin.password) },
      };
      // v2/run_status.go: render.VerticalTable.
      return flags.json
        ? jsonOut(response)
        : render.verticalTable("Cluster Status", [[c.id, c.name, c.org, c.region, c.status, String(c.disk), "1", c.ip]], ["ID", "Name", "Organization", "Region", "Status", "Allocated Disk (GB)", "Replicas", "Direct IP"]);
    },
  },
  // internal/command/mpg/destroy.go, v2/run_destroy.go: asynchronous.
  "mpg destroy": {
    args: [1, 1],
    flags: { ...yes },
    run(args, flags) {
      const c = cluster(args[0]);
      if (!flags.yes) {
        // v2/run_destroy.go: the warning on stderr (red only on a terminal), then the prompt that cannot run.
        process.stderr.write("Destroying a managed Postgres cluster is not reversible. All data will be permanently lost.\n");
        fail("--yes flag must be specified when not running interactively");
      }
      // Asynchronous (flyctl 1d97feff9, "MPG cluster async destroy": the API answers 202). What
      // the cluster's status reads meanwhile is in no source: it keeps the one it had, the case
      // in which a reader cannot tell it from a live one. It leaves `mpg list` after
      // FAKE_FLY_DESTROY_LISTS (default 2) more lists.
      c.destroyAfterLists ??= Number(process.env.FAKE_FLY_DESTROY_LISTS ?? 2);
      return `Managed Postgres cluster ${c.name} (${c.id}) scheduled to be destroyed (may take some time)\n`;
    },
  },
  // internal/command/mpg/databases.go, v2/run_databases.go; JSON [{name}].
  "mpg databases list": {
    args: [0, 1],
    flags: { ...json },
    run(args, flags) {
      const c = cluster(clusterArg(args));
      if (c.databases.length === 0) return `No databases found for cluster ${c.id}\n`;
      return flags.json ? jsonOut(c.databases.map((name) => ({ name }))) : render.table(c.databases.map((name) => [name]), ["Name"]);
    },
  },
  "mpg databases create": {
    args: [0, 1],
    flags: { name: { type: str, short: "n" } },
    run(args, flags) {
      const c = cluster(clusterArg(args));
      if (!flags.name) fail("database name must be specified with --name flag when not running interactively");
      c.databases.push(flags.name);
      return `Creating database ${flags.name} in cluster ${c.id}...\nDatabase created successfully!\n  Name: ${flags.name}\n`;
    },
  },
  // internal/command/mpg/users.go, v2/run_users.go; JSON [{name, role}]; Fly makes the passwords.
  "mpg users list": {
    args: [0, 1],
    flags: { ...json },
    run(args, flags) {
      const c = cluster(clusterArg(args));
      if (c.users.length === 0) return `No users found for cluster ${c.id}\n`;
      return flags.json ? jsonOut(c.users.map(({ name, role }) => ({ name, role }))) : render.table(c.users.map((u) => [u.name, u.role]), ["Name", "Role"]);
    },
  },
  "mpg users create": {
    args: [0, 1],
    flags: { username: { type: str, short: "u" }, role: { type: str, short: "r" } },
    run(args, flags) {
      const c = cluster(clusterArg(args));
      if (!flags.username) fail("username must be specified with --username flag when not running interactively");
      if (!flags.role) fail("user role must be specified with --role flag when not running interactively");
      if (!["schema_admin", "writer", "reader"].includes(flags.role)) fail(`invalid role "${flags.role}". Must be one of: schema_admin, writer, reader`);
      c.users.push({ name: flags.username, role: flags.role, password: secret() });
      return `Creating user ${flags.username} with role ${flags.role} in cluster ${c.id}...\nUser created successfully!\n  Name: ${flags.username}\n  Role: ${flags.role}\n`;
    },
  },
  "mpg users set-role": {
    args: [0, 1],
    flags: { username: { type: str, short: "u" }, role: { type: str, short: "r" } },
    run(args, flags) {
      const c = cluster(clusterArg(args));
      if (!flags.username) fail("username must be specified with --username flag when not running interactively");
      if (!flags.role) fail("user role must be specified with --role flag when not running interactively");
      if (!["schema_admin", "writer", "reader"].includes(flags.role)) fail(`invalid role "${flags.role}". Must be one of: schema_admin, writer, reader`);
      // Printed before the API is asked; an unknown user is its 404 (v2/run_users.go RunUsersSetRole,
      // internal/uiex/mpg/v2/client.go UpdateUserRole).
      const asking = `Updating user ${flags.username} role to ${flags.role} in cluster ${c.id}...\n`;
      const user = c.users.find((u) => u.name === flags.username) ?? fail(`failed to update user role: cluster ${c.id} or user ${flags.username} not found`, asking);
      user.role = flags.role;
      return `${asking}User role updated successfully!\n  Name: ${flags.username}\n  Role: ${flags.role}\n`;
    },
  },
  "mpg users delete": {
    args: [0, 1],
    flags: { username: { type: str, short: "u" }, ...yes },
    run(args, flags) {
      const c = cluster(clusterArg(args));
      if (!flags.username) fail("username must be specified with --username flag when not running interactively");
      if (!flags.yes) {
        // v2/run_users.go RunUsersDelete: the warning on stderr (red only on a terminal), then the prompt that cannot run.
        process.stderr.write("Deleting a user is not reversible.\n");
        fail("--yes flag must be specified when not running interactively");
      }
      // Printed before the API is asked; an unknown user is its 404 (client.go DeleteUser).
      const asking = `Deleting user ${flags.username} from cluster ${c.id}...\n`;
      if (!c.users.some((u) => u.name === flags.username)) fail(`failed to delete user: cluster ${c.id} or user ${flags.username} not found`, asking);
      c.users = c.users.filter((u) => u.name !== flags.username);
      return `${asking}User ${flags.username} deleted successfully from cluster ${c.id}\n`;
    },
  },
  // internal/command/mpg/backup.go, v2/run_backup.go.
  "mpg backup create": {
    args: [0, 1],
    flags: { type: { type: str } },
    run(args, flags) {
      const c = cluster(clusterArg(args));
      const type = flags.type ?? "full";
      if (type !== "full" && type !== "incr") fail("--type must be either 'full' or 'incr'");
      // Queued (v2/run_backup.go): in progress, with no stop time, until Fly finishes it. The
      // double's Fly finishes it on the next list, "completed" or as FAKE_FLY_BACKUP_OUTCOME says
      // (a status flyctl does not know, for a failure), and, with FAKE_FLY_SCHEDULED_BACKUP, a
      // scheduled incremental backup finishes first.
      const now = new Date().toISOString();
      c.backups.push({ id: crypto.randomBytes(4).toString("hex"), status: "in_progress", type, start: now, stop: "" });
      state.backups = [...(state.backups ?? []), { cluster: c.name, type }];
      return `Creating ${type} backup for cluster ${c.id}...\nBackup queued successfully!\n`;
    },
  },
  // v2/run_backup.go: JSON [{id, status, type, start, stop}]; text when empty, even with --json.
  "mpg backup list": {
    args: [0, 1],
    flags: { ...json, all: { type: bool } },
    run(args, flags) {
      const c = cluster(clusterArg(args));
      const now = new Date().toISOString();
      const running = c.backups.filter((b) => b.status === "in_progress");
      if (running.length && process.env.FAKE_FLY_SCHEDULED_BACKUP && !c.backups.some((b) => b.type === "incr")) {
        c.backups.push({ id: `scheduled-${crypto.randomBytes(2).toString("hex")}`, status: "completed", type: "incr", start: now, stop: now });
      } else {
        // FAKE_FLY_BACKUP_STOP=none: finished without a stop time (whether Fly sets one on a failure is unknown).
        for (const b of running) Object.assign(b, { status: process.env.FAKE_FLY_BACKUP_OUTCOME ?? "completed", stop: process.env.FAKE_FLY_BACKUP_STOP === "none" ? "" : now });
      }
      if (c.backups.length === 0) return `No backups found for cluster ${c.id}\n`;
      // The last 24 hours only, unless --all (v2/run_backup.go RunBackupList).
      // A start time it cannot parse (RFC 3339) is kept.
      const shown = flags.all ? c.backups : c.backups.filter((b) => !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(b.start) || Date.parse(b.start) > Date.now() - 24 * 3600 * 1000);
      if (shown.length === 0) return `No backups found for cluster ${c.id} in the last 24 hours (use --all to see all backups)\n`;
      return flags.json
        ? jsonOut(shown.map(({ id, status, type, start, stop }) => ({ id, status, type, start, stop })))
        : render.table(shown.map((b) => [b.id, b.start, b.status, b.type]), ["ID", "Start", "Status", "Type"]);
    },
  },
  // internal/command/mpg/attach.go, v2/run_attach.go: sets the app secret itself, prints it.
  "mpg attach": {
    args: [0, 1],
    flags: { ...app, "variable-name": { type: str }, database: { type: str, short: "d" }, username: { type: str, short: "u" } },
    run(args, flags) {
      // RequireAppName is a preparer, before the command looks anything up (attach.go).
      const appName = flags.app ?? process.env.FLY_APP ?? fail("the config for your app is missing an app name, add an app field to the fly.toml file or specify with the -a flag");
      try {
        appOf(appName);
      } catch (error) {
        throw new FlyError(`failed retrieving app ${appName}: ${error.message}`);
      }
      const c = retrieving(clusterArg(args));
      // v2/run_attach.go: the user's credentials (GetUserCredentials, 404: client.go), then the secrets.
      const user = c.users.find((u) => u.name === (flags.username ?? "fly-user")) ?? fail(`failed retrieving credentials for user ${flags.username}: cluster ${c.id} or user ${flags.username} not found`);
      const variable = flags["variable-name"] ?? "DATABASE_URL";
      if (readSecrets(appName)[variable] !== undefined) fail(`app ${appName} already has ${variable} set. Use 'fly secrets unset ${variable}' to remove it first`);
      const uri = pgbouncerUri(c, user.name, user.password).replace(`/${c.dbname}`, `/${flags.database ?? c.dbname}`);
      updateSecrets(appName, { [variable]: uri });
      api(`https://api.machines.dev/v1/apps/${appName}/secrets`, { version: 1 }, { values: { [variable]: uri } });
      // CreateAttachment failing after the secret is set is a warning, and exit 0 (run_attach.go);
      // FAKE_FLY_ATTACH_RECORD=fail makes it fail (the API's error text is in no source).
      if (process.env.FAKE_FLY_ATTACH_RECORD === "fail") process.stderr.write("Warning: failed to create attachment record: Something went wrong\n");
      else if (!c.attached_apps?.includes(appName)) (c.attached_apps ??= []).push(appName);
      return `\nPostgres cluster ${c.id} is being attached to ${appName}\nThe following secret was added to ${appName}:\n  ${variable}=${uri}\n`;
    },
  },
  // internal/command/mpg/detach.go: removes the attachment, keeps the secret.
  "mpg detach": {
    args: [0, 1],
    flags: { ...app },
    run(args, flags) {
      const appName = flags.app ?? process.env.FLY_APP ?? fail("the config for your app is missing an app name, add an app field to the fly.toml file or specify with the -a flag");
      flags.app = appName;
      try {
        appOf(appName);
      } catch (error) {
        throw new FlyError(`failed retrieving app ${appName}: ${error.message}`);
      }
      const c = retrieving(clusterArg(args));
      // An app not attached: DeleteAttachment's 404 (internal/uiex/mpg/v2/client.go), wrapped by run_detach.go.
      if (!c.attached_apps?.includes(flags.app)) fail(`failed to detach: attachment not found for app '${flags.app}' on cluster ${c.id}`);
      c.attached_apps = c.attached_apps.filter((a) => a !== flags.app);
      return `\nPostgres cluster ${c.id} has been detached from ${flags.app}\nNote: This only removes the attachment record. Any secrets (like DATABASE_URL) are still set on the app.\nUse 'fly secrets unset DATABASE_URL -a ${flags.app}' to remove the connection string.\n`;
    },
  },
  // internal/command/redis/list.go: a table, no --json.
  "redis list": {
    flags: { org: { type: str, short: "o" } },
    run(_args, flags) {
      const org = orgOf(flags);
      const rows = state.redis.filter((r) => !org || r.org === org);
      // internal/command/redis/list.go: render.Table, read regions joined (empty when none).
      return render.table(rows.map((r) => [r.name, r.org, "Pay-as-you-go", "Disabled", r.region, r.replicas.join(",")]), ["Name", "Org", "Plan", "Eviction", "Primary Region", "Read Regions"]);
    },
  },
  // internal/command/redis/create.go: every prompt's flag is required without a terminal.
  "redis create": {
    flags: {
      org: { type: str, short: "o" }, region: { type: str, short: "r" }, "replica-regions": { type: str }, name: { type: str, short: "n" }, plan: { type: str },
      "no-replicas": { type: bool }, "enable-eviction": { type: bool }, "disable-eviction": { type: bool }, "enable-auto-upgrade": { type: bool }, "enable-prodpack": { type: bool },
    },
    run(_args, flags) {
      // runCreate's order: the legacy plan, the org, the name, the primary region, eviction, the plan, ProdPack.
      if (flags.plan && ["pro_2k", "pro_10k", "starter", "standard"].includes(flags.plan.toLowerCase().replaceAll(" ", "_"))) {
        fail(`plan "${flags.plan}" is no longer available for new databases. Please choose a current plan`);
      }
      const org = orgOf(flags) ?? fail("org slug must be specified when not running interactively");
      if (!flags.name) fail(NON_INTERACTIVE);
      const offered = FLY_REGIONS.filter((code) => !upstashExcluded().includes(code));
      // prompt.Region: the flag, else the config's region (FLY_REGION), else a prompt.
      const region = flags.region || process.env.FLY_REGION || fail("region code must be specified when not running interactively");
      if (!offered.includes(region)) fail(`region ${region} not found`);
      let printed = "";
      if (!flags["enable-eviction"] && !flags["disable-eviction"]) {
        printed += "\nUpstash Redis can evict objects when memory is full. This is useful when caching in Redis. This setting can be changed later.\nLearn more at https://fly.io/docs/reference/redis/#memory-limits-and-object-eviction-policies\n\n";
        fail(NON_INTERACTIVE, printed);
      }
      // DeterminePlan: a display name or an id, else pay-as-you-go.
      if (flags.plan && !UPSTASH_PLANS[flags.plan] && !Object.values(UPSTASH_PLANS).includes(flags.plan)) fail(`plan "${flags.plan}" not found`, printed);
      if (flags["enable-auto-upgrade"]) printed += "\nNote: Auto-upgrade is only available for fixed plans, not pay-as-you-go.\n";
      if (!("enable-prodpack" in flags)) {
        printed += "\nProdPack adds enhanced features for production workloads at $200/mo.\nThis setting can be changed later.\nFor more information, see https://fly.io/docs/upstash/redis/#prod-pack-200-mo.\n\n";
        fail(NON_INTERACTIVE, printed);
      }
      // Create: prompt.MultiRegion keeps the platform's regions (less the excluded and the
      // primary) that the flag names; any other code is dropped silently. Their order is what
      // sort.Slice leaves under internal/sort RegionsByNameAndCode, whose "name < and code <" is
      // no strict order: the double keeps the list's, and ops sorts what it reads.
      if (!flags["no-replicas"] && !flags["replica-regions"]) fail("regions codes must be specified in a comma-separated when not running interactively", printed);
      const named = flags["no-replicas"] ? [] : flags["replica-regions"].split(",");
      const replicas = offered.filter((code) => code !== region && named.includes(code));
      const r = { name: flags.name, org, region, replicas, password: secret() };
      state.redis.push(r);
      api("https://api.fly.io/graphql", { data: { createAddOn: { addOn: { name: r.name, publicUrl: `redis://default:${r.password}@fly-${r.name}.upstash.io:6379`, password: r.password } } } });
      // create.go Create; its colours are off without a terminal (iostreams ColorScheme).
      return printed + [
        "", `Your database ${r.name} is ready. Apps in the ${org} org can connect to Redis at redis://default:${r.password}@fly-${r.name}.upstash.io:6379`,
        "", "If you have redis-cli installed, use fly redis connect to get a Redis console.",
        "", "Your database is billed at $0.20 per 100K commands. If you're using Sidekiq or BullMQ, which poll Redis frequently, consider switching to a fixed-price plan. See https://fly.io/docs/reference/redis/#pricing", "",
      ].join("\n");
    },
  },
  // internal/command/redis/status.go: a table whose "Private URL" row is the URL with its password.
  "redis status": {
    args: [1, 1],
    flags: {},
    run(args) {
      const r = addOn(args[0]);
      api("https://api.fly.io/graphql", { data: { addOn: { name: r.name, publicUrl: `redis://default:${r.password}@fly-${r.name}.upstash.io:6379`, password: r.password } } });
      // status.go: render.VerticalTable, "None" when there are no read regions.
      return render.verticalTable(
        "Redis",
        [[r.id ?? `${r.name}-id`, r.name, "Pay-as-you-go", r.region, r.replicas.length ? r.replicas.join(",") : "None", "Disabled", "Disabled", "Disabled", `redis://default:${r.password}@fly-${r.name}.upstash.io:6379`]],
        ["ID", "Name", "Plan", "Primary Region", "Read Regions", "Eviction", "Auto-Upgrade", "ProdPack", "Private URL"],
      );
    },
  },
  "redis destroy": {
    args: [1, 1],
    flags: { ...yes },
    run(args, flags) {
      if (!flags.yes) {
        // redis/destroy.go: the warning, then the prompt that cannot run; the add-on is looked up after.
        process.stderr.write("Destroying a Redis instance is not reversible.\n");
        fail("yes flag must be specified when not running interactively");
      }
      addOn(args[0]);
      state.redis = state.redis.filter((x) => x.name !== args[0]);
      return `Your Redis database ${args[0]} was destroyed\n`;
    },
  },
  // internal/command/secrets/list.go: JSON [{name, digest, status}].
  "secrets list": {
    flags: { ...app, ...json },
    run(_args, flags) {
      const secrets = readSecrets(flags.app);
      const list = Object.entries(secrets).map(([name, value]) => ({ name, digest: crypto.createHash("sha256").update(value).digest("hex").slice(0, 16), status: "Staged" }));
      if (flags.json) return jsonOut(list);
      // list.go: "* " before a staged secret's name, then a summary of the staged ones.
      const staged = list.filter((s) => s.status === "Staged").length;
      const summary = staged === 0 ? "" : `There ${staged === 1 ? "is" : "are"} ${staged} ${staged === 1 ? "secret" : "secrets"} not deployed. Deploy with \`fly secrets deploy\` to make them available.\n`;
      return render.table(list.map((s) => [`${s.status === "Staged" ? "* " : ""}${s.name}`, s.digest, s.status]), ["Name", "Digest", "Status"]) + summary;
    },
  },
  // internal/command/secrets/import.go and parser.go: NAME=VALUE lines on stdin, quotes stripped.
  "secrets import": {
    flags: { ...secretsShared },
    run(_args, flags, stdin) {
      appOf(flags.app);
      const values = parseSecrets(stdin);
      if (Object.keys(values).length === 0) fail("requires at least one SECRET=VALUE pair");
      updateSecrets(flags.app, values);
      api(`https://api.machines.dev/v1/apps/${flags.app}/secrets`, { version: 1 }, { values });
      return flags.stage ? "Secrets have been staged, but not set on VMs. Deploy or update machines in this app for the secrets to take effect.\n" : "";
    },
  },
  // internal/command/secrets/unset.go: cobra.MinimumNArgs(1).
  "secrets unset": {
    args: [1, Infinity],
    flags: { ...secretsShared },
    run(args, flags) {
      appOf(flags.app);
      updateSecrets(flags.app, {}, args);
      return flags.stage ? "Secrets have been staged, but not set on VMs. Deploy or update machines in this app for the secrets to take effect.\n" : "";
    },
  },
};

/** cobra's parsing: the longest command path, then flags (--name value, --name=value, -x value, bools). */
function parse(argv) {
  const words = [];
  for (const a of argv) {
    if (a.startsWith("-")) break;
    words.push(a);
  }
  let path;
  for (let n = Math.min(words.length, 3); n > 0 && !path; n--) if (COMMANDS[words.slice(0, n).join(" ")]) path = words.slice(0, n).join(" ");
  if (!path) throw new NotModelled(words.join(" "));
  const spec = { ...GLOBAL, ...COMMANDS[path].flags };
  const byShort = Object.fromEntries(Object.entries(spec).filter(([, f]) => f.short).map(([name, f]) => [f.short, name]));
  const byAlias = Object.fromEntries(Object.entries(spec).filter(([, f]) => f.alias).map(([name, f]) => [f.alias, name]));
  const flags = {};
  const args = [];
  const rest = argv.slice(path.split(" ").length);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith("-")) {
      args.push(a);
      continue;
    }
    const long = a.startsWith("--");
    const [rawName, inline] = a.replace(/^--?/, "").split(/=(.*)/s);
    const name = long ? byAlias[rawName] ?? rawName : byShort[rawName];
    if (!name || !spec[name]) fail(long ? `unknown flag: --${rawName}` : `unknown shorthand flag: '${rawName}' in ${a}`);
    const type = spec[name].type;
    if (type === bool) flags[name] = inline === undefined ? true : inline === "true";
    else {
      const value = inline ?? rest[++i] ?? fail(`flag needs an argument: ${a}`);
      flags[name] = type === int ? Number(value) : value;
      if (type === int && !Number.isInteger(flags[name])) fail(`invalid argument "${value}" for "${a}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
    }
  }
  // cobra validates the arguments before RunE, where flyctl's preparers run (cobra args.go:
  // MaximumNArgs, ExactArgs; the counts each command sets, internal/command/mpg/*.go, redis/*.go).
  const [least, most] = COMMANDS[path].args ?? [0, Infinity];
  if (least === most && args.length !== most) fail(`accepts ${most} arg(s), received ${args.length}`);
  if (args.length > most) fail(`accepts at most ${most} arg(s), received ${args.length}`);
  if (args.length < least) fail(`requires at least ${least} arg(s), only received ${args.length}`);
  return { path, args, flags };
}

const argv = process.argv.slice(2);
const stdin = argv[0] === "secrets" && argv[1] === "import" ? fs.readFileSync(0, "utf8") : "";
// Each call with what tests check of flyctl's log: where it went, the config dir's mode, LOG_LEVEL.
const call = { argv, stdin, configDir: process.env.FLY_CONFIG_DIR, logLevel: process.env.LOG_LEVEL };
if (call.configDir && fs.existsSync(call.configDir)) {
  call.configDirMode = (fs.statSync(call.configDir).mode & 0o777).toString(8);
  // What flyctl finds where it keeps its logs: a file there means no log at all (logfile/fs.go:22-24).
  const logs = path.join(call.configDir, "logs");
  call.logsFound = !fs.existsSync(logs) ? "nothing" : fs.statSync(logs).isDirectory() ? "a directory" : "a file";
}
state.calls.push(call);
/** What flyctl does on its way out, failed or not (internal/cli/cli.go:50-55: the log is closed in a defer). */
const finish = () => {
  if (String(process.env.LOG_LEVEL).toLowerCase() === "debug") process.stderr.write(debugLines.join(""));
  call.log = writeLog();
  save();
};
try {
  const { path: commandPath, args, flags } = parse(argv);
  // The session, before the command runs (its preparers): the token is FLY_ACCESS_TOKEN, else
  // FLY_API_TOKEN (internal/config/config.go applyEnv); none is refused without a terminal
  // (command.go RequireSession, handleReLogin: fly.ErrNoAuthToken), and `mpg` refuses one with no
  // macaroon (mpg.go requireMacaroonToken; fly-go tokens.Parse: "FlyV1 " then fm1r_, fm1a_, fm2_).
  const token = process.env.FLY_ACCESS_TOKEN || process.env.FLY_API_TOKEN;
  if (!token) fail("No access token available. Please login with 'flyctl auth login'");
  const macaroon = token.replace(/^FlyV1 /, "").split(",").some((t) => /^(fm1r|fm1a|fm2)_/.test(t.trim()));
  if (commandPath.startsWith("mpg ") && !macaroon) {
    fail("MPG commands require updated tokens but found older-style tokens.\n\nPlease upgrade your authentication by running:\n  flyctl auth logout\n  flyctl auth login\n");
  }
  // FAKE_FLY_UNREACHABLE_AFTER="<command path>": no call after that command's reaches the API (a network gone mid-run).
  if (state.unreachable) fail(`failed to ${commandPath}: Something went wrong`);
  if (process.env.FAKE_FLY_UNREACHABLE_AFTER === commandPath) state.unreachable = true;
  if (process.env.FAKE_FLY_FAIL === commandPath && !state.failed.includes(commandPath)) {
    state.failed.push(commandPath);
    fail(`failed to ${commandPath}: Something went wrong`);
  }
  const out = COMMANDS[commandPath].run(args, flags, stdin);
  finish();
  process.stdout.write(out);
} catch (error) {
  finish();
  if (error instanceof NotModelled) {
    process.stderr.write(`flyctl double: \`${error.message}\` is not modelled (test/support/flyctl-double.cjs): what flyctl answers is not known here\n`);
    process.exit(2);
  }
  if (!(error instanceof FlyError)) throw error;
  process.stdout.write(error.printed);
  process.stderr.write(`Error: ${error.message}\n`);
  process.exit(1);
}
