/**
 * Fly.io through flyctl, for the `fly` platform's command resources: Fly Managed Postgres
 * (`fly mpg`, flyctl internal/command/mpg/) and Upstash Redis (`fly redis`). Every action is
 * idempotent: apply finds what exists by name and adds what is missing; delete of something
 * already gone succeeds. No credential is ever printed or put on a command line: Fly makes the
 * database passwords, `fly mpg attach` hands each application its own, and the Redis URL
 * reaches applications through `fly secrets import` on stdin.
 *
 *   postgres-apply | postgres-delete   the cluster, its database and its users
 *   attach         | detach            one application's credential (its own user)
 *   migrate                            the Gaia schema, as the cluster's schema_admin
 *   redis-apply    | redis-delete      the environment's Upstash Redis
 *   redis-share    | redis-unshare     the Redis URL as a secret of each application
 *
 * The last line of postgres-apply and redis-apply is JSON the program reads; it holds no secret.
 */
import { OpsError, optionalEnv, requireEnv, runMain } from "./lib/env";
import { flyList, flyctl, flyJson, readRegions } from "./lib/flyctl";
import { bootstrapAdmin, migrateDatabase } from "./lib/migrations";

/** `fly mpg list --json` (flyctl internal/uiex/mpg/v1/client.go ManagedCluster). */
interface ClusterSummary {
  id: string;
  name: string;
  region: string;
  status: string;
  plan: string;
  attached_apps?: { name: string }[] | null;
}
/** `fly mpg status <id> --json` (flyctl internal/uiex/mpg/v2/client.go GetClusterResponse). */
interface ClusterStatus {
  data: { id: string; name: string; status: string; plan: string; region: string; disk: number; attached_apps?: { name: string }[] | null };
  credentials: { status: string; user: string; password: string; dbname: string; pgbouncer_uri: string };
}

/**
 * Whether this resource made what it manages, carried from run to run in its last output line
 * (PULUMI_COMMAND_STDOUT: pulumi-command hands the previous stdout to the next run,
 * provider/pkg/provider/local/commandOutputs.go). A delete destroys only what its resource
 * created; what it adopted stays.
 */
function previouslyCreated(): boolean {
  return previousOutput().created === true;
}

/** The last line of the previous run's output (PULUMI_COMMAND_STDOUT), as the JSON it printed there; {} before the first run. */
function previousOutput(): { created?: boolean; keepers?: Record<string, number>; apps?: string[] } {
  const last = (process.env.PULUMI_COMMAND_STDOUT ?? "").trim().split("\n").at(-1) ?? "";
  try {
    return (JSON.parse(last) as object | null) ?? {};
  } catch {
    return {};
  }
}

const env = {
  org: () => requireEnv("GAIA_FLY_ORG", "the Fly organization slug"),
  cluster: () => requireEnv("GAIA_FLY_CLUSTER", "the Managed Postgres cluster's name"),
  clusterId: () => requireEnv("GAIA_FLY_CLUSTER_ID", "the Managed Postgres cluster's id"),
  database: () => requireEnv("GAIA_FLY_DATABASE", "the environment's database name"),
};

function findCluster(org: string, name: string): ClusterSummary | undefined {
  return flyList<ClusterSummary>(["mpg", "list", "--org", org]).find((c) => c.name === name);
}

function clusterStatus(id: string): ClusterStatus {
  return flyJson<ClusterStatus>(["mpg", "status", id]);
}

/** Where applications and the schema command reach the cluster: the direct host (docs mpg/client-configuration.html.md). */
function directEndpoint(status: ClusterStatus): { host: string; port: number } {
  const pooled = new URL(status.credentials.pgbouncer_uri);
  return { host: pooled.hostname.replace(/^pgbouncer\./, "direct."), port: Number(pooled.port || 5432) };
}

function postgresApply() {
  const org = env.org();
  const name = env.cluster();
  const plan = requireEnv("GAIA_FLY_PLAN", "the Managed Postgres plan");
  let cluster = findCluster(org, name);
  let created = previouslyCreated();
  const restoreFrom = optionalEnv("GAIA_FLY_RESTORE_FROM");
  if (cluster) {
    // A cluster of a restore's name is that restore's, made by a run that ended before it was ready.
    created ||= restoreFrom !== undefined;
    process.stdout.write(`${created ? "found" : "adopting"} Managed Postgres cluster ${name} (${cluster.id})\n`);
  } else if (restoreFrom) {
    created = true;
    cluster = restoreCluster(org, name, restoreFrom, requireEnv("GAIA_FLY_RESTORE_AT", "the point in time to restore to"));
  } else {
    created = true;
    // Blocks until the cluster is ready (v2/run_create.go). Its output ends with the
    // connection string and password: captured here, never printed.
    try {
      flyctl([
        "mpg", "create",
        "--name", name,
        "--org", org,
        "--region", requireEnv("GAIA_FLY_REGION", "the region"),
        "--plan", plan,
        "--volume-size", requireEnv("GAIA_FLY_VOLUME_GB", "the volume size in GB"),
        "--pg-major-version", requireEnv("GAIA_FLY_POSTGRES_VERSION", "the major version"),
      ]);
    } catch (error) {
      // A create that failed after the API accepted it ("cluster creation failed", a wait cut
      // short) leaves a cluster: said below in the terms of its status. None: flyctl's error.
      // A look-up that fails too (the network gone) says both, the create's first: alone, its
      // error would hide that a create was tried, and may have made a cluster.
      try {
        cluster = findCluster(org, name);
      } catch (lookup) {
        throw new OpsError(`${(error as Error).message}; whether the API made Managed Postgres cluster ${name} before that could not be checked (${(lookup as Error).message}): see \`fly mpg list --org ${org}\` before running \`pulumi up\` again.`);
      }
      if (!cluster) throw error;
    }
    cluster ??= findCluster(org, name);
    if (!cluster) throw new OpsError(`flyctl created Managed Postgres cluster ${name}, but \`fly mpg list --org ${org}\` does not show it: run \`pulumi up\` again.`);
    process.stdout.write(`created Managed Postgres cluster ${name} (${cluster.id})\n`);
  }

  const status = clusterStatus(cluster.id);
  // A creation that failed stays failed ("cluster creation failed": v2/run_create.go polls for
  // "ready" and stops at "error"): adopting it would wait for ever.
  if (status.data.status === "error") {
    throw new OpsError(`Managed Postgres cluster ${name} (${cluster.id}) failed to be created (status error) and will not become ready: destroy it with \`fly mpg destroy ${cluster.id}\`, then run \`pulumi up\` again.`);
  }
  // One Fly is deleting (a destroy by hand, or one that outlasted postgres-delete's wait: the API
  // takes it at once and deletes it later, flyctl 1d97feff9) is not ready either, ever; what its
  // status reads meanwhile is in no source: any status naming a deletion.
  if (/delet|destroy/i.test(status.data.status)) {
    throw new OpsError(`Managed Postgres cluster ${name} (${cluster.id}) is being deleted (status ${status.data.status}) and will not become ready: wait until \`fly mpg list --org ${org}\` no longer shows it, then run \`pulumi up\` again, which makes it anew.`);
  }
  if (status.data.status !== "ready") {
    throw new OpsError(`Managed Postgres cluster ${name} is ${status.data.status}, not ready: run \`pulumi up\` again once \`fly mpg status ${cluster.id}\` says ready.`);
  }
  const notes = planNotes(name, status.data.plan, plan);
  // The stack's size is where the cluster starts: Fly grows its storage itself ("Storage growth
  // is monitored and managed automatically", docs mpg/index.html.md), so more than asked is
  // Fly's growth, and only less than asked is a change to make.
  const volume = Number(requireEnv("GAIA_FLY_VOLUME_GB", "the volume size in GB"));
  if (status.data.disk < volume) {
    throw new OpsError(
      `Managed Postgres cluster ${name} has ${status.data.disk} GB and the stack asks for ${volume} GB: flyctl cannot resize a cluster's storage; ` +
        `set gaia:instance.storageGb to ${status.data.disk}, or change the storage in Fly's dashboard, then run \`pulumi up\` again.`,
    );
  }

  const database = env.database();
  const databases = flyList<{ name: string }>(["mpg", "databases", "list", cluster.id]);
  if (!databases.some((d) => d.name === database)) {
    flyctl(["mpg", "databases", "create", cluster.id, "--name", database]);
    process.stdout.write(`created database ${database}\n`);
  }

  const keepers = applyUsers(cluster.id);
  process.stdout.write(`${JSON.stringify({ clusterId: cluster.id, ...directEndpoint(status), created, keepers, ...(notes.length ? { notes } : {}) })}\n`);
}

/**
 * A new cluster restored from another at a point in time: `fly mpg restore <source id>
 * --pitr-time <RFC 3339> --name <name>` "into a new cluster, leaving the source cluster
 * unchanged", provisioned asynchronously (flyctl internal/command/mpg/restore.go; v2/run_restore.go
 * prints "Restore initiated successfully!" and the new cluster's id and name). `--pitr-time`
 * came after flyctl v0.4.87 (superfly/flyctl #5051). Waited for here until `mpg list` shows it
 * and its status is ready; a restore that ends in "error" is said with what to do.
 */
function restoreCluster(org: string, name: string, from: string, at: string): ClusterSummary {
  const source = findCluster(org, from);
  if (!source) throw new OpsError(`the cluster to restore from, ${from}, is not in \`fly mpg list --org ${org}\`: restore from a cluster that exists (its backups go with it), or remove gaia:restore.`);
  try {
    flyctl(["mpg", "restore", source.id, "--pitr-time", at, "--name", name]);
  } catch (error) {
    if (/unknown flag: --pitr-time/.test((error as Error).message)) {
      throw new OpsError("this flyctl has no `fly mpg restore --pitr-time` (added after v0.4.87, superfly/flyctl #5051): upgrade flyctl (`fly version upgrade`), then run `pulumi up` again.");
    }
    throw error;
  }
  process.stdout.write(`restoring Managed Postgres cluster ${from} (${source.id}) to ${at} as ${name}\n`);
  const deadline = Date.now() + Number(optionalEnv("GAIA_FLY_RESTORE_TIMEOUT_SECONDS") ?? 7200) * 1000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const restored = findCluster(org, name);
    const status = restored?.status;
    if (restored && status === "ready") {
      process.stdout.write(`restored Managed Postgres cluster ${name} (${restored.id})\n`);
      return restored;
    }
    if (restored && status === "error") {
      throw new OpsError(`the restore of ${from} to ${at} as ${name} (${restored.id}) failed (status error): destroy it with \`fly mpg destroy ${restored.id}\`, check the point in time against the cluster's recovery window, then run \`pulumi up\` again.`);
    }
    if (Date.now() > deadline) {
      throw new OpsError(`the restore of ${from} to ${at} as ${name} is not ready yet (${restored ? `status ${status}` : "not listed"}): run \`pulumi up\` again once \`fly mpg list --org ${org}\` shows it ready; it is adopted then.`);
    }
    Atomics.wait(pause, 0, 0, Number(optionalEnv("GAIA_FLY_POLL_SECONDS") ?? 10) * 1000);
  }
}

/**
 * The cluster's plan against the stack's. flyctl sends the plan's key (CreateClusterInput.Plan,
 * internal/uiex/mpg/v2/client.go) and never reads back what the API answers in `plan`, and its
 * own fixtures answer "development" and "production" (internal/command/mpg/mpg_test.go): the
 * answer is compared only when it names one of flyctl's plans (GAIA_FLY_PLANS, key or display
 * name, any case). Otherwise it is unverified, and said, never refused: a refusal would fail every
 * run of a cluster just made. flyctl cannot change a plan (internal/command/mpg has no update).
 */
function planNotes(name: string, reported: string, plan: string): string[] {
  // The stack's plan is one of flyctl's whether GAIA_FLY_PLANS is given or not (a run by hand).
  const known = [...new Set([...(JSON.parse(optionalEnv("GAIA_FLY_PLANS") ?? "[]") as string[]), plan].map((p) => p.toLowerCase()))];
  const answer = reported.trim().toLowerCase();
  if (!known.includes(answer)) {
    return [`Managed Postgres cluster ${name} reports its plan as "${reported}", which names none of flyctl's plans (${known.join(", ")}): the plan (${plan}) was not checked; see it in Fly's dashboard (the cluster's Settings).`];
  }
  if (answer !== plan) {
    throw new OpsError(
      `Managed Postgres cluster ${name} has the ${reported} plan and the stack asks for ${plan}: flyctl cannot change a plan; ` +
        `change it in Fly's dashboard (the cluster's Settings, then Update Configuration), then run \`pulumi up\` again.`,
    );
  }
  return [];
}

/**
 * The users of each policy role's two rotation slots, of the role kind Managed Postgres offers
 * (`fly mpg users`: schema_admin, writer, reader); users of this environment no longer in the
 * policy are removed. Fly makes the passwords and has no command to change one
 * (internal/command/mpg/users.go@ad0172fac: list, create, set-role, delete), so a slot whose
 * keeper moved since the last run (a rotation renewing it) is deleted and created again: a new
 * password, which no client holds yet. A user with no keeper recorded (the first run with
 * rotation) is kept. Returns the keepers, recorded in the output for the next run.
 */
function applyUsers(clusterId: string): Record<string, number> {
  const wanted = JSON.parse(requireEnv("GAIA_FLY_USERS", "the users as JSON: name -> role kind")) as Record<string, string>;
  const prefix = requireEnv("GAIA_FLY_USER_PREFIX", "the prefix of this environment's user names");
  const keepers = JSON.parse(optionalEnv("GAIA_FLY_USER_KEEPERS") ?? "{}") as Record<string, number>;
  const before = previousOutput().keepers ?? {};
  const existing = new Map(flyList<{ name: string; role: string }>(["mpg", "users", "list", clusterId]).map((u) => [u.name, u.role]));
  for (const [user, role] of Object.entries(wanted)) {
    if (existing.has(user) && before[user] !== undefined && keepers[user] !== undefined && before[user] !== keepers[user]) {
      flyctl(["mpg", "users", "delete", clusterId, "--username", user, "--yes"]);
      flyctl(["mpg", "users", "create", clusterId, "--username", user, "--role", role]);
      process.stdout.write(`renewed user ${user} (${role}): a new password, for generation ${keepers[user]}\n`);
    } else if (!existing.has(user)) {
      flyctl(["mpg", "users", "create", clusterId, "--username", user, "--role", role]);
      process.stdout.write(`created user ${user} (${role})\n`);
    } else if (existing.get(user) !== role) {
      flyctl(["mpg", "users", "set-role", clusterId, "--username", user, "--role", role]);
      process.stdout.write(`user ${user} is now ${role}\n`);
    }
  }
  for (const user of [...existing.keys()].filter((u) => u.startsWith(prefix) && !(u in wanted))) {
    flyctl(["mpg", "users", "delete", clusterId, "--username", user, "--yes"]);
    process.stdout.write(`removed user ${user}\n`);
  }
  return keepers;
}



function postgresDelete() {
  const name = env.cluster();
  const cluster = findCluster(env.org(), name);
  if (!cluster) return void process.stdout.write(`Managed Postgres cluster ${name} is already gone\n`);
  if (!previouslyCreated()) return void process.stdout.write(`Managed Postgres cluster ${name} was adopted, not created, by this stack: left in place\n`);
  if (optionalEnv("GAIA_FLY_DELETION_PROTECTION") === "on") {
    throw new OpsError(`deletion protection is on for ${name}: set gaia:deletionProtection to false and run \`pulumi up\` before destroying it.`);
  }
  if (optionalEnv("GAIA_FLY_FINAL_BACKUP") === "on") {
    finalBackup(cluster.id, name);
  }
  // Asynchronous: the cluster is scheduled for deletion (v2/run_destroy.go; the API answers 202,
  // flyctl 1d97feff9). What it reads meanwhile is in no source, so the destroy is over when
  // `mpg list` no longer shows it: until then a `pulumi up` would find a cluster of this name,
  // maybe still "ready", and adopt what Fly is deleting. Past the wait it is said, not refused:
  // a second destroy would ask a cluster being deleted for another final backup.
  flyctl(["mpg", "destroy", cluster.id, "--yes"]);
  process.stdout.write(`Managed Postgres cluster ${name} scheduled for deletion\n`);
  const deadline = Date.now() + Number(optionalEnv("GAIA_FLY_DESTROY_TIMEOUT_SECONDS") ?? 1800) * 1000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const listed = flyList<ClusterSummary>(["mpg", "list", "--org", env.org()]).find((c) => c.id === cluster.id);
    if (!listed) return void process.stdout.write(`Managed Postgres cluster ${name} destroyed\n`);
    if (Date.now() > deadline) {
      return void process.stdout.write(
        `Managed Postgres cluster ${name} (${cluster.id}) is still listed (${listed.status}): Fly is deleting it; before \`pulumi up\` makes this environment again, check that \`fly mpg list --org ${env.org()}\` no longer shows it.\n`,
      );
    }
    Atomics.wait(pause, 0, 0, Number(optionalEnv("GAIA_FLY_POLL_SECONDS") ?? 10) * 1000);
  }
}

/**
 * A full backup, waited for: `fly mpg backup create` only queues it (v2/run_backup.go), and the
 * cluster is destroyed right after. `fly mpg backup list --all --json` lists
 * [{id, status, type, start, stop}] (internal/uiex/mpg/v2/client.go ClusterBackup); flyctl's own
 * fixtures know the statuses "completed" and "in_progress" (internal/command/mpg/mpg_test.go).
 * Only a new backup of type "full" counts: a scheduled incremental one that finishes meanwhile is
 * not the final backup. It is taken once it is "completed"; finished (a stop time, or a status
 * naming a failure) in any other status, it failed, and the cluster is left in place. Whether Fly keeps a destroyed cluster's
 * backups is not documented (docs/platforms.md): unverified, so the backup is all this promises.
 */
/** Statuses that end a backup without it, as backup services spell them: failed, error(ed), cancel(l)ed, aborted. */
const FAILED_BACKUP = /fail|error|cancel|abort/i;

function finalBackup(clusterId: string, name: string) {
  type Backup = { id: string; status?: string; type?: string; stop?: string };
  const list = () => flyList<Backup>(["mpg", "backup", "list", clusterId, "--all"]);
  const before = new Set(list().map((b) => b.id));
  flyctl(["mpg", "backup", "create", clusterId, "--type", "full"]);
  const deadline = Date.now() + Number(optionalEnv("GAIA_FLY_BACKUP_TIMEOUT_SECONDS") ?? 3600) * 1000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const ours = list().filter((b) => !before.has(b.id) && b.type === "full");
    const done = ours.find((b) => b.status === "completed");
    if (done) return void process.stdout.write(`final full backup ${done.id} of ${name} taken\n`);
    // Finished otherwise: a stop time, or a status that says so whether Fly sets a stop time on
    // a failure or not (unknown: flyctl's fixtures have only "completed" and "in_progress").
    const failed = ours.find((b) => b.status !== "completed" && (b.stop || FAILED_BACKUP.test(b.status ?? "")));
    if (failed) {
      throw new OpsError(`the final backup ${failed.id} of ${name} ended "${failed.status ?? "without a status"}", not "completed": the cluster was left in place; check \`fly mpg backup list ${clusterId} --all\`, then run the destroy again.`);
    }
    if (Date.now() > deadline) {
      throw new OpsError(`the final backup of ${name} did not finish in time: the cluster was left in place; check \`fly mpg backup list ${clusterId} --all\`, then run the destroy again.`);
    }
    Atomics.wait(pause, 0, 0, Number(optionalEnv("GAIA_FLY_POLL_SECONDS") ?? 10) * 1000);
  }
}

/**
 * Fly sets the application's secret itself (`fly mpg attach`, v2/run_attach.go) with the
 * user's own credential, so it never passes through Pulumi. attach refuses to overwrite a
 * secret, and sets it before it records the attachment: a run cut between the two, or a record
 * that failed (a warning, and exit 0), leaves the secret with no attachment anywhere. That
 * secret is this stack's half-done attach, taken off and attached again; one that another
 * cluster of the org has attached is that cluster's, and refused. "No attachment anywhere" is
 * known only when every cluster of the org lists its attached apps: a cluster whose answer has
 * none (attached_apps null: render.JSON prints a nil slice so, and whether the API always gives
 * the field is in no source) may hold the secret, which is then left in place and said.
 */
function attach() {
  const clusterId = env.clusterId();
  const app = requireEnv("GAIA_FLY_APP", "the application");
  const variable = requireEnv("GAIA_FLY_VARIABLE", "the secret's variable name");
  // `fly secrets list --json`: [{name, digest, status}] (internal/command/secrets/list.go).
  const secrets = flyJson<{ name: string }[]>(["secrets", "list", "--app", app]);
  if (secrets.some((s) => s.name === variable)) {
    const clusters = flyList<ClusterSummary>(["mpg", "list", "--org", env.org()]);
    const holders = clusters.filter((c) => c.attached_apps?.some((a) => a.name === app));
    if (holders.some((c) => c.id === clusterId)) return void process.stdout.write(`${app} already has ${variable}\n`);
    if (holders.length > 0) {
      throw new OpsError(`${app} has a ${variable} from Managed Postgres cluster ${holders.map((c) => `${c.name} (${c.id})`).join(", ")}, not from ${env.cluster()}: detach it with \`fly mpg detach ${holders[0]!.id} -a ${app}\` and \`fly secrets unset ${variable} -a ${app}\`, then run \`pulumi up\` again.`);
    }
    const silent = clusters.filter((c) => !Array.isArray(c.attached_apps));
    if (silent.length > 0) {
      throw new OpsError(
        `${app} has a ${variable} that no cluster is known to have attached, and \`fly mpg list --org ${env.org()}\` does not say which apps ${silent.map((c) => `${c.name} (${c.id})`).join(", ")} ${silent.length === 1 ? "has" : "have"} attached: ` +
          `it may be ${silent.length === 1 ? "that cluster's" : "one of theirs"}, so it is left in place; if it is not, take it off with \`fly secrets unset ${variable} -a ${app}\`, then run \`pulumi up\` again.`,
      );
    }
    flyctl(["secrets", "unset", variable, "--app", app, "--stage"]);
    process.stdout.write(`${app} had a ${variable} no cluster has attached (an attach cut short): taken off, attached again\n`);
  }
  flyctl([
    "mpg", "attach", clusterId,
    "--app", app,
    "--username", requireEnv("GAIA_FLY_USER", "the database user"),
    "--database", env.database(),
    "--variable-name", variable,
  ]);
  const attached = clusterStatus(clusterId).data.attached_apps;
  const recorded = !Array.isArray(attached) ? " (Fly's answer lists no attached apps: whether it recorded the attachment is unknown; the credential works)" : attached.some((a) => a.name === app) ? "" : " (Fly recorded no attachment: `fly mpg status` will not list the app; the credential works)";
  process.stdout.write(`${app} has its credential in ${variable}${recorded}\n`);
}

/**
 * An app Fly no longer has (destroyed outside Pulumi: `fly apps destroy`) took its secrets with it:
 * flyctl looks the app up first (GetAppCompact in secrets/unset.go, GetAppBasic in mpg/detach.go)
 * and fails with the API's "Could not find App", the text flyctl itself matches
 * (internal/command/deploy/deploy.go:311, machine/run.go:369). Taking a secret back from it is done.
 */
function appGone(app: string, error: unknown): boolean {
  if (!/Could not find App/.test((error as Error).message)) return false;
  process.stdout.write(`${app} no longer exists (Fly: Could not find App): nothing to take back\n`);
  return true;
}

function detach() {
  const app = requireEnv("GAIA_FLY_APP", "the application");
  const variable = requireEnv("GAIA_FLY_VARIABLE", "the secret's variable name");
  const clusterId = env.clusterId();
  // A cluster already destroyed has no attachment left to remove; nor has one of this name made
  // since (a cluster lost outside Pulumi, and made again): `mpg status <old id>` would fail
  // (internal/command/mpg/mpg.go ClusterFromArgOrSelect), so it is asked only of this cluster.
  const cluster = findCluster(env.org(), env.cluster());
  try {
    if (cluster?.id === clusterId && clusterStatus(clusterId).data.attached_apps?.some((a) => a.name === app)) flyctl(["mpg", "detach", clusterId, "--app", app]);
    // detach keeps the secret (v2/run_detach.go): remove it too.
    flyctl(["secrets", "unset", variable, "--app", app, "--stage"]);
  } catch (error) {
    if (appGone(app, error)) return;
    throw error;
  }
  process.stdout.write(`${app} no longer has ${variable}\n`);
}

/** The schema, applied as the cluster's schema_admin (Fly's `fly-user`), whose credential flyctl reads. */
async function migrate() {
  const status = clusterStatus(env.clusterId());
  const endpoint = directEndpoint(status);
  const url = new URL(`postgresql://${endpoint.host}:${endpoint.port}/${env.database()}`);
  url.hostname = optionalEnv("GAIA_FLY_MANAGEMENT_HOST") ?? endpoint.host;
  url.port = optionalEnv("GAIA_FLY_MANAGEMENT_PORT") ?? String(endpoint.port);
  url.username = status.credentials.user;
  url.password = status.credentials.password;
  // Fly serves TLS on every connection and documents no CA to verify it with (docs mpg/client-configuration.html.md).
  url.searchParams.set("sslmode", "require");
  url.searchParams.set("uselibpqcompat", "true");
  const options = { connectionString: url.toString(), ownerRole: status.credentials.user };
  const result = await migrateDatabase(options);
  await bootstrapAdmin(options, { email: requireEnv("GAIA_ADMIN_EMAIL", "the admin's email"), keySha256: requireEnv("GAIA_ADMIN_KEY_SHA256", "the admin key's SHA-256") });
  // Unverified at Fly: writer and reader give access to "all existing tables and schemas" (docs
  // mpg/cluster-configuration.html.md). Were that a grant on the tables there when the kind was
  // set, the tables these migrations made would be out of every service's reach: so each user's
  // kind is set again after migrations that made anything (setting the same kind changes nothing).
  if (result.applied.length > 0) {
    const users = JSON.parse(requireEnv("GAIA_FLY_USERS", "the users as JSON: name -> role kind")) as Record<string, string>;
    for (const [user, role] of Object.entries(users)) flyctl(["mpg", "users", "set-role", env.clusterId(), "--username", user, "--role", role]);
    process.stdout.write(`role kinds set again for ${Object.keys(users).length} user(s) after the migrations\n`);
  }
  process.stdout.write(`schema up to date (${result.applied.length} migration(s) applied)\n`);
}

/** `fly redis list` prints a table (no --json: internal/command/redis/list.go); names are its first column. */
function redisExists(name: string, org: string): boolean {
  return flyctl(["redis", "list", "--org", org])
    .split("\n")
    .some((line) => line.trim().split(/\s+/)[0] === name);
}

/**
 * The connection URL from `fly redis status` (a table, no --json; its "Private URL" row holds
 * the URL with the password: internal/command/redis/status.go). Kept in memory only.
 */
function redisUrl(name: string): URL {
  const match = /redis(s)?:\/\/[^\s│|]+/.exec(flyctl(["redis", "status", name]));
  if (!match) throw new OpsError(`\`fly redis status ${name}\` shows no connection URL: check the flyctl version (docs/platforms.md, "Fly.io").`);
  return new URL(match[0]);
}

function redisApply() {
  const name = requireEnv("GAIA_FLY_REDIS", "the Redis database name");
  const org = env.org();
  let created = previouslyCreated();
  if (!redisExists(name, org)) {
    created = true;
    try {
      createRedis(name, org);
    } catch (error) {
      // Unverified at Fly: add-on names look global (flyctl gql/genqclient.graphql addOn(name:)
      // takes no organization), so a name free in this org may be taken in another.
      throw new OpsError(`${(error as Error).message} If the name is taken in another Fly organization (Upstash names look global), give this environment another gaia:environment.`);
    }
    process.stdout.write(`created Redis ${name}\n`);
  }
  checkReplicaRegions(name);
  const url = redisUrl(name);
  process.stdout.write(`${JSON.stringify({ host: url.hostname, port: Number(url.port || 6379), created })}\n`);
}

/**
 * Every flag a prompt would ask for (internal/command/redis/create.go): name, region, eviction,
 * ProdPack, replicas; the plan explicitly (pay-as-you-go, create.go redisPlanPayAsYouGo).
 */
function createRedis(name: string, org: string) {
  const replicas = JSON.parse(optionalEnv("GAIA_FLY_REDIS_REPLICAS") ?? "[]") as string[];
  flyctl([
    "redis", "create",
    "--name", name,
    "--org", org,
    "--region", requireEnv("GAIA_FLY_REGION", "the primary region"),
    "--plan", requireEnv("GAIA_FLY_REDIS_PLAN", "the Upstash plan id"),
    ...(replicas.length ? ["--replica-regions", replicas.join(",")] : ["--no-replicas"]),
    "--disable-eviction",
    "--enable-prodpack=false",
  ]);
}

/**
 * The read replicas the stack asks for, against what `fly redis status` shows: flyctl drops
 * unknown or excluded regions silently at create (internal/prompt/prompt.go MultiRegion), and
 * `fly redis update` cannot run without a terminal (internal/command/redis/update.go prompts
 * for the plan), so a difference is refused with the way to make the change.
 */
function checkReplicaRegions(name: string) {
  const wanted = (JSON.parse(optionalEnv("GAIA_FLY_REDIS_REPLICAS") ?? "[]") as string[]).slice().sort();
  const have = readRegions(flyctl(["redis", "status", name]));
  if (have.join(",") !== wanted.join(",")) {
    throw new OpsError(
      `Redis ${name} has read replicas in [${have.join(", ")}] and the stack asks for [${wanted.join(", ")}]: flyctl changes them only in a terminal; ` +
        `run \`fly redis update ${name}\` there (or use regions Upstash offers), then run \`pulumi up\` again.`,
    );
  }
}

function redisDelete() {
  const name = requireEnv("GAIA_FLY_REDIS", "the Redis database name");
  if (!redisExists(name, env.org())) return void process.stdout.write(`Redis ${name} is already gone\n`);
  if (!previouslyCreated()) return void process.stdout.write(`Redis ${name} was adopted, not created, by this stack: left in place\n`);
  if (optionalEnv("GAIA_FLY_DELETION_PROTECTION") === "on") {
    throw new OpsError(`deletion protection is on for Redis ${name}: set gaia:deletionProtection to false and run \`pulumi up\` first.`);
  }
  flyctl(["redis", "destroy", name, "--yes"]);
  process.stdout.write(`Redis ${name} destroyed\n`);
}

/**
 * The Redis URL on each service's app, or off them all. An app no longer listed (a service
 * removed, an app renamed) loses it on the next update: the apps it was set on are the last
 * line of the previous run's output (PULUMI_COMMAND_STDOUT).
 */
function redisShare(unset: boolean) {
  const apps = JSON.parse(requireEnv("GAIA_FLY_APPS", "the applications as JSON")) as string[];
  const before = previousOutput().apps ?? [];
  const variable = requireEnv("GAIA_FLY_VARIABLE", "the secret's variable name");
  const url = unset ? undefined : redisUrl(requireEnv("GAIA_FLY_REDIS", "the Redis database name"));
  const unsetOn = (app: string) => {
    try {
      flyctl(["secrets", "unset", variable, "--app", app, "--stage"]);
    } catch (error) {
      if (appGone(app, error)) return;
      throw error;
    }
    process.stdout.write(`removed ${variable} on ${app} (staged for its next deploy)\n`);
  };
  for (const app of unset ? [...new Set([...apps, ...before])] : before.filter((a) => !apps.includes(a))) unsetOn(app);
  if (url) {
    for (const app of apps) {
      // Quoted: an unquoted # would start a comment (internal/command/secrets/parser.go).
      flyctl(["secrets", "import", "--app", app, "--stage"], { stdin: `${variable}="${url.toString()}"\n` });
      process.stdout.write(`set ${variable} on ${app} (staged for its next deploy)\n`);
    }
  }
  process.stdout.write(`${JSON.stringify({ apps: unset ? [] : apps })}\n`);
}

const ACTIONS: Record<string, () => void | Promise<void>> = {
  "postgres-apply": postgresApply,
  "postgres-delete": postgresDelete,
  attach,
  detach,
  migrate,
  "redis-apply": redisApply,
  "redis-delete": redisDelete,
  "redis-share": () => redisShare(false),
  "redis-unshare": () => redisShare(true),
};

runMain(async () => {
  const action = ACTIONS[process.argv[2] ?? ""];
  if (!action) throw new OpsError(`unknown action "${process.argv[2]}": use ${Object.keys(ACTIONS).join(", ")}.`);
  await action();
});
