/**
 * Fly.io through flyctl, for the `fly` platform's command resources. Every action is
 * idempotent: apply adopts what exists and adds what is missing; delete of something already
 * gone succeeds. flyctl's --json output is parsed, never scraped. flyctl reads FLY_API_TOKEN
 * from the environment of whoever runs `pulumi up`; set FLYCTL to use another binary.
 *
 *   postgres-apply | postgres-delete   the cluster (app), its replicas, backups and settings
 *   redis-apply    | redis-delete      the environment's Upstash Redis
 *   secret-set     | secret-unset      one secret on each application in GAIA_FLY_APPS
 *
 * The last line of postgres-apply and redis-apply is JSON the program reads (stdout is
 * secret in the state; nothing printed here contains a password except redis-apply's
 * private URL parts, which the program needs).
 */
import { execFileSync } from "node:child_process";
import { OpsError, optionalEnv, requireEnv, runMain } from "./lib/env";

interface FlyApp {
  Name: string;
}
interface FlyMachine {
  id: string;
  region: string;
  state?: string;
}

const flyctlBinary = () => optionalEnv("FLYCTL") ?? "flyctl";

/** Runs flyctl with arguments (never through a shell) and returns its stdout. */
function flyctl(args: string[], options: { stdin?: string } = {}): string {
  try {
    return execFileSync(flyctlBinary(), args, { encoding: "utf8", input: options.stdin, stdio: ["pipe", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { code?: string; stderr?: string; status?: number };
    if (e.code === "ENOENT") throw new OpsError(`flyctl not found: install flyctl (see README, "Fly.io") or set FLYCTL to its path.`);
    throw new OpsError(`flyctl ${args.slice(0, 2).join(" ")} failed (exit ${e.status}): ${(e.stderr ?? "").trim().split("\n").slice(-3).join(" ")}`);
  }
}

function flyJson<T>(args: string[]): T {
  const out = flyctl([...args, "--json"]);
  try {
    return JSON.parse(out) as T;
  } catch {
    throw new OpsError(`flyctl ${args.slice(0, 2).join(" ")} --json printed something that is not JSON; check the flyctl version (README, "Fly.io").`);
  }
}

function appExists(app: string, org: string): boolean {
  return flyJson<FlyApp[]>(["apps", "list", "--org", org]).some((a) => a.Name === app);
}

function postgresApply() {
  const app = requireEnv("GAIA_FLY_APP", "the Postgres app name");
  const org = requireEnv("GAIA_FLY_ORG", "the Fly organization");
  const region = requireEnv("GAIA_FLY_REGION", "the primary region");
  const replicaRegions = JSON.parse(requireEnv("GAIA_FLY_REPLICA_REGIONS", "the replica regions as JSON")) as string[];
  const backups = requireEnv("GAIA_FLY_BACKUPS", "on or off") === "on";
  const clusterSize = requireEnv("GAIA_FLY_CLUSTER_SIZE", "the cluster size");

  if (appExists(app, org)) {
    process.stdout.write(`adopting existing Postgres app ${app}\n`);
  } else {
    flyctl([
      "postgres", "create",
      "--name", app,
      "--org", org,
      "--region", region,
      "--vm-size", requireEnv("GAIA_FLY_VM_SIZE", "the VM size"),
      "--volume-size", requireEnv("GAIA_FLY_VOLUME_GB", "the volume size in GB"),
      "--initial-cluster-size", clusterSize,
      "--image-ref", `flyio/postgres-flex:${requireEnv("GAIA_FLY_POSTGRES_VERSION", "the major version")}`,
      // flyctl takes the superuser password only as a flag: it reaches flyctl's argv, never a shell or a log.
      "--password", requireEnv("GAIA_FLY_ADMIN_PASSWORD", "the superuser password"),
      ...(backups ? ["--enable-backups"] : []),
    ]);
    process.stdout.write(`created Postgres app ${app} in ${region}\n`);
  }

  // Replicas: one machine per listed region outside the primary's members. Extra machines are
  // reported, never destroyed: removing a member is a decision, not a reconciliation.
  const machines = flyJson<FlyMachine[]>(["machines", "list", "-a", app]);
  const primary = machines.find((m) => m.region === region);
  if (!primary) throw new OpsError(`app ${app} has no machine in its primary region ${region}: inspect it with \`flyctl status -a ${app}\`.`);
  const have = new Map<string, number>();
  for (const m of machines.filter((m) => m !== primary)) have.set(m.region, (have.get(m.region) ?? 0) + 1);
  const want = new Map<string, number>();
  for (const r of replicaRegions) want.set(r, (want.get(r) ?? 0) + 1);
  const clusterExtra = Number(clusterSize) - 1;
  want.set(region, (want.get(region) ?? 0) + clusterExtra);
  for (const [r, count] of want) {
    for (let i = have.get(r) ?? 0; i < count; i++) {
      flyctl(["machine", "clone", primary.id, "--region", r, "-a", app]);
      process.stdout.write(`added a replica in ${r}\n`);
    }
  }
  for (const [r, count] of have) {
    if (count > (want.get(r) ?? 0)) process.stdout.write(`note: ${count - (want.get(r) ?? 0)} machine(s) in ${r} beyond the configuration were left in place\n`);
  }

  if (backups) {
    flyctl(["postgres", "backup", "config", "update", "-a", app, "--recovery-window", `${requireEnv("GAIA_FLY_RECOVERY_WINDOW_DAYS", "days")}d`]);
  }
  const tuning = JSON.parse(optionalEnv("GAIA_FLY_TUNING") ?? "{}") as Record<string, string>;
  flyctl([
    "postgres", "config", "update", "-a", app, "--auto-confirm",
    "--shared-preload-libraries", "pg_stat_statements",
    ...(tuning.log_min_duration_statement ? ["--log-min-duration-statement", tuning.log_min_duration_statement] : []),
  ]);

  process.stdout.write(
    `${JSON.stringify({ host: `${app}.flycast`, port: 5432, replicaHosts: replicaRegions.map((r) => `${r}.${app}.internal`) })}\n`,
  );
}

function postgresDelete() {
  const app = requireEnv("GAIA_FLY_APP", "the Postgres app name");
  const org = requireEnv("GAIA_FLY_ORG", "the Fly organization");
  if (!appExists(app, org)) return void process.stdout.write(`Postgres app ${app} is already gone\n`);
  if (optionalEnv("GAIA_FLY_DELETION_PROTECTION") === "on") {
    throw new OpsError(
      `deletion protection is on for ${app}: set gaia:deletionProtection to false and run \`pulumi up\` before destroying it.`,
    );
  }
  if (optionalEnv("GAIA_FLY_FINAL_SNAPSHOT") === "on") {
    const name = `final-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    flyctl(["postgres", "backup", "create", "-a", app, "--name", name, "--immediate-checkpoint"]);
    process.stdout.write(`final backup ${name} taken\n`);
  }
  flyctl(["apps", "destroy", app, "--yes"]);
  process.stdout.write(`Postgres app ${app} destroyed\n`);
}

interface FlyRedis {
  name?: string;
  Name?: string;
  privateUrl?: string;
  PrivateUrl?: string;
}

function redisExists(name: string, org: string): boolean {
  return flyJson<FlyRedis[]>(["redis", "list", "--org", org]).some((r) => (r.name ?? r.Name) === name);
}

function redisApply() {
  const name = requireEnv("GAIA_FLY_REDIS", "the Redis database name");
  const org = requireEnv("GAIA_FLY_ORG", "the Fly organization");
  if (!redisExists(name, org)) {
    const replicas = JSON.parse(optionalEnv("GAIA_FLY_REDIS_REPLICAS") ?? "[]") as string[];
    flyctl([
      "redis", "create",
      "--name", name,
      "--org", org,
      "--region", requireEnv("GAIA_FLY_REGION", "the primary region"),
      ...(replicas.length ? ["--replica-regions", replicas.join(",")] : ["--no-replicas"]),
      "--disable-eviction",
    ]);
  }
  const status = flyJson<FlyRedis>(["redis", "status", name]);
  const url = new URL(status.privateUrl ?? status.PrivateUrl ?? "");
  process.stdout.write(`${JSON.stringify({ host: url.hostname, port: Number(url.port || 6379), password: decodeURIComponent(url.password) })}\n`);
}

function redisDelete() {
  const name = requireEnv("GAIA_FLY_REDIS", "the Redis database name");
  const org = requireEnv("GAIA_FLY_ORG", "the Fly organization");
  if (!redisExists(name, org)) return;
  if (optionalEnv("GAIA_FLY_DELETION_PROTECTION") === "on") {
    throw new OpsError(`deletion protection is on for Redis ${name}: set gaia:deletionProtection to false and run \`pulumi up\` first.`);
  }
  flyctl(["redis", "destroy", name, "--yes"]);
}

function secretSet(unset: boolean) {
  const apps = JSON.parse(requireEnv("GAIA_FLY_APPS", "the apps as JSON")) as string[];
  const variable = requireEnv("GAIA_FLY_SECRET_NAME", "the secret's variable name");
  for (const app of apps) {
    if (unset) flyctl(["secrets", "unset", variable, "-a", app, "--stage"]);
    // The value goes through stdin: never on a command line.
    else flyctl(["secrets", "import", "-a", app, "--stage"], { stdin: `${variable}=${requireEnv("GAIA_FLY_SECRET_VALUE", "the secret")}\n` });
    process.stdout.write(`${unset ? "removed" : "set"} ${variable} on ${app} (staged for its next deploy)\n`);
  }
}

const ACTIONS: Record<string, () => void> = {
  "postgres-apply": postgresApply,
  "postgres-delete": postgresDelete,
  "redis-apply": redisApply,
  "redis-delete": redisDelete,
  "secret-set": () => secretSet(false),
  "secret-unset": () => secretSet(true),
};

runMain(async () => {
  const action = ACTIONS[process.argv[2] ?? ""];
  if (!action) throw new OpsError(`unknown action "${process.argv[2]}": use ${Object.keys(ACTIONS).join(", ")}.`);
  action();
});
