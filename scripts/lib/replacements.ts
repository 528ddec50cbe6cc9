/**
 * What a change to an input does once `pulumi up` runs it, per resource type the component
 * makes: replaces the resource (the old one is deleted, its data with it, or a credential
 * rotated), is refused by the cloud (the run fails), restarts the database server, or is not
 * applied at all. The single table `npm run plan -- <stack> --diff` reads (scripts/lib/planDiff.ts);
 * each rule says where it comes from: the provider's schema or source (file and line at the
 * commit read, or the attribute where the copy read had no commit to name), the cloud's
 * documentation (URL), or this project's own code.
 *
 * Versions read: pulumi-aws 7.48.0 is terraform-provider-aws v6 (its `region` on every
 * resource); the AWS files below are the copies the code index holds (paths under
 * hashicorp/terraform-provider-aws), not necessarily the commit 7.48.0 builds. pulumi-gcp 9.37.0
 * builds terraform-provider-google-beta (pulumi/pulumi-gcp .gitmodules); the GCP lines are
 * hashicorp/terraform-provider-google@e03b7622 (2026-08-21), whose schemas for these resources
 * the beta shares. PostgreSQL: cyrilgdn/terraform-provider-postgresql@ff936b95, the commit
 * pulumi/pulumi-postgresql's `upstream` pins. Random: hashicorp/terraform-provider-random@ad788e23.
 * Command: pulumi/pulumi-command@v1.2.1.
 *
 * A changed logical name replaces too; that the diff sees without this table. Inputs the pinned
 * SDKs have that the copies read predate (RDS dedicatedLogVolume, engineLifecycleSupport,
 * upgradeStorageConfig; Secrets Manager's `type`; a metric alarm's evaluationCriteria) are not
 * judged: the component sets none of them.
 */

export type Effect =
  /** The provider deletes and re-creates it (ForceNew / RequiresReplace / replaceOnChanges). */
  | "replaces"
  /** The cloud refuses the change: `pulumi up` fails on it, whatever the run allows. */
  | "refused"
  /** Applied in place, but the database server restarts for it (or waits for a restart to take it). */
  | "restarts"
  /** Never reaches the cloud: an ignoreChanges of the component, or the provider suppressing the diff. */
  | "not applied";

/** One input's change, as a rule sees it: the values at the rule's path, and both sides' whole inputs. */
export interface Change {
  before: unknown;
  after: unknown;
  old: Readonly<Record<string, unknown>>;
  next: Readonly<Record<string, unknown>>;
}

export interface InputRule {
  /** A dotted path into the inputs as the plan prints them; `[]` steps into each element of a list. */
  input: string;
  effect: Effect;
  /**
   * When a change of the value counts; without it, any change does. True, or what matched (said
   * in the diff: the parameter, the direction); false or "" when it does not apply.
   */
  when?: (change: Change) => boolean | string;
  /** What `when` means, for people (docs/plans.md, the tests' names). */
  condition?: string;
  /** Why, said in the diff after the input. */
  why?: string;
  /** Where this is so. */
  source: string;
  /**
   * For a rule with `when`: inputs to set on a committed plan (path -> [before, after]) so that
   * the rule applies. The tests apply every rule's example (test/graph/replacements.test.ts).
   */
  example?: Readonly<Record<string, readonly [unknown, unknown]>>;
}

export interface TypeRules {
  /** Replacing or deleting it loses what it holds (data, or the key that decrypts it). */
  stateful?: boolean;
  /**
   * Inputs the provider fills in from its own configuration when the resource leaves them
   * unset: provider input -> the resource's input. A provider change then changes that input
   * of every resource it manages (the provider itself is updated in place, see PROVIDERS).
   */
  fromProvider?: Readonly<Record<string, { input: string; source: string }>>;
  rules: readonly InputRule[];
}

// ---------------------------------------------------------------------------------------------
// Conditions the rules share.

const isUnset = (v: unknown) => v === undefined || v === null;
/** A block (a TF list of one object, an object here) added or removed: a ForceNew block replaces only then (terraform-plugin-sdk helper/schema/schema.go diffList: the ForceNew is the count's, "k.#"). */
const addedOrRemoved = ({ before, after }: Change) => isUnset(before) !== isUnset(after);
const num = (v: unknown) => (typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN);
const decreases = ({ before, after }: Change) => num(after) < num(before) && "a decrease";
/** "16", "16.4", "REDIS_7_2", "POSTGRES_16", "7.1" as numbers to compare, most significant first. */
export const versionParts = (v: unknown): number[] => (typeof v === "string" ? (v.match(/\d+/g) ?? []).map(Number) : typeof v === "number" ? [v] : []);
/** <0 when a is older than b (missing parts count as 0), 0 when the same, >0 when newer. */
export function compareVersions(a: unknown, b: unknown): number {
  const [x, y] = [versionParts(a), versionParts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}
const downgrades = ({ before, after }: Change) => !isUnset(before) && !isUnset(after) && compareVersions(after, before) < 0 && "a downgrade";
const upgrades = ({ before, after }: Pick<Change, "before" | "after">) => !isUnset(before) && !isUnset(after) && compareVersions(after, before) > 0;
const majorUpgrade = ({ before, after }: Change) => upgrades({ before, after }) && (versionParts(after)[0] ?? 0) > (versionParts(before)[0] ?? 0);

/** Elements of a list of `{name, value, …}` (RDS parameters, Cloud SQL flags) whose value, or presence, differs. */
function changedByName(before: unknown, after: unknown): { name: string; old?: Record<string, unknown>; next?: Record<string, unknown> }[] {
  const byName = (list: unknown) =>
    new Map((Array.isArray(list) ? list : []).filter((e): e is Record<string, unknown> => Boolean(e) && typeof e === "object").map((e) => [String(e.name), e]));
  const [o, n] = [byName(before), byName(after)];
  return [...new Set([...o.keys(), ...n.keys()])]
    .filter((name) => JSON.stringify(o.get(name)?.value) !== JSON.stringify(n.get(name)?.value))
    .map((name) => ({ name, old: o.get(name), next: n.get(name) }));
}

/** A place in a file: `:261` is a line, anything else the attribute or function named. */
const at = (file: string, where: string) => (where.startsWith(":") ? `${file}${where}` : `${file} ${where}`);

/** Rules that any change of the input replaces, from one schema file: input -> where in it. */
function forceNew(file: string, inputs: Record<string, string>, kind = "ForceNew"): InputRule[] {
  return Object.entries(inputs).map(([input, where]) => ({ input, effect: "replaces", source: `${at(file, where)}: ${kind}` }));
}
/** ForceNew blocks: they replace when added or removed; a change inside one follows its own attributes' rules. */
function forceNewBlock(file: string, inputs: Record<string, string>): InputRule[] {
  return Object.entries(inputs).map(([input, where]) => ({
    input,
    effect: "replaces",
    when: addedOrRemoved,
    condition: "added or removed",
    source: `${at(file, where)}: ForceNew (a block: its count's, terraform-plugin-sdk helper/schema/schema.go diffList)`,
    example: { [input]: [undefined, { placeholder: "set" }] },
  }));
}

// ---------------------------------------------------------------------------------------------
// Sources.

const TF_AWS = "hashicorp/terraform-provider-aws";
const TF_GOOGLE = "hashicorp/terraform-provider-google@e03b7622";
const TF_PG = "cyrilgdn/terraform-provider-postgresql@ff936b95 postgresql";
const TF_RANDOM = "hashicorp/terraform-provider-random@ad788e23 internal/provider";
const RDS_INSTANCE = `${TF_AWS} internal/service/rds/instance.go`;
const RDS_API = "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html (read at https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/rds/aws.sdk.kotlin.services.rds.model/-modify-db-instance-request/)";
const SQL_INSTANCE = `${TF_GOOGLE} google/services/sql/resource_sql_database_instance.go`;
const REDIS_INSTANCE = `${TF_GOOGLE} google/services/redis/resource_redis_instance.go`;
const IAM_MEMBER = `${TF_GOOGLE} google/tpgiamresource/resource_iam_member.go`;

/**
 * pulumi-aws v7 (terraform-provider-aws v6): every regional resource has its own `region`,
 * which Pulumi fills from the provider's before Check when the resource leaves it unset
 * (pulumi/pulumi-aws provider/region.go applyRegion), and whose change replaces the resource
 * (internal/provider/sdkv2/region.go forceNewIfRegionChanges: "Force resource replacement if the
 * value of the top-level `region` attribute changes"; website/docs/guides/enhanced-region-support.html.markdown:
 * "Changing the value of `region` will force resource replacement."). None of the types below
 * is among the guide's global (non-region-aware) ones.
 */
const AWS_REGION: InputRule = {
  input: "region",
  effect: "replaces",
  source: `${TF_AWS} internal/provider/sdkv2/region.go forceNewIfRegionChanges; website/docs/guides/enhanced-region-support.html.markdown`,
};
const AWS_FROM_PROVIDER = { region: { input: "region", source: "pulumi/pulumi-aws provider/region.go applyRegion (the provider's region, where the resource sets none)" } } as const;

/** terraform-provider-google: a resource's unset project is the provider's, in the diff (tpgresource/utils.go:946 DefaultProviderProject), for the types whose CustomizeDiff lists it. */
const gcpProject = (where: string) => ({ project: { input: "project", source: `${TF_GOOGLE} google/tpgresource/utils.go:946 DefaultProviderProject, in ${where}` } });

/** The component's own ignoreChanges: the engine keeps the old value, so the change is never sent (nor can it replace). */
const ignored = (input: string, source: string, why: string): InputRule => ({ input, effect: "not applied", why, source });

/** Cloud SQL flags the component sets whose change restarts the instance (see the databaseFlags rule's source). */
export const CLOUD_SQL_RESTART_FLAGS: readonly string[] = ["max_connections", "cloudsql.enable_pgaudit"];

// ---------------------------------------------------------------------------------------------
// The table.

export const REPLACEMENT_RULES: Readonly<Record<string, TypeRules>> = {
  "aws:rds/instance:Instance": {
    stateful: true,
    fromProvider: AWS_FROM_PROVIDER,
    // identifier (and identifierPrefix) renames in place: no ForceNew in the copy read.
    rules: [
      AWS_REGION,
      ...forceNew(RDS_INSTANCE, {
        availabilityZone: "availability_zone",
        backupTarget: "backup_target",
        characterSetName: "character_set_name",
        customIamInstanceProfile: "custom_iam_instance_profile",
        dbName: "db_name",
        engine: "engine",
        kmsKeyId: "kms_key_id",
        ncharCharacterSetName: "nchar_character_set_name",
        snapshotIdentifier: "snapshot_identifier",
        storageEncrypted: "storage_encrypted",
        timezone: "timezone",
        username: "username",
        "s3Import.bucketName": "s3_import.bucket_name",
        "s3Import.bucketPrefix": "s3_import.bucket_prefix",
        "s3Import.ingestionRole": "s3_import.ingestion_role",
        "s3Import.sourceEngine": "s3_import.source_engine",
        "s3Import.sourceEngineVersion": "s3_import.source_engine_version",
      }),
      ...forceNewBlock(RDS_INSTANCE, { restoreToPointInTime: "restore_to_point_in_time" }),
      // On the primaries only (the replicas set neither); a restore is made once (gaia:restore, docs/restore.md).
      ignored("snapshotIdentifier", "components/platforms/aws/index.ts:206 ignoreChanges", "the component ignores it (ignoreChanges): a restore's input never replaces the primary"),
      ignored("restoreToPointInTime", "components/platforms/aws/index.ts:206 ignoreChanges", "the component ignores it (ignoreChanges): a restore's input never replaces the primary"),
      {
        input: "allocatedStorage",
        effect: "not applied",
        when: (c) => decreases(c) !== false && num(c.next.maxAllocatedStorage) > num(c.after),
        condition: "a decrease while maxAllocatedStorage stays above the new size",
        why: "storage autoscaling is on (maxAllocatedStorage above it), so the provider keeps the allocated size; RDS cannot shrink storage",
        source: `${RDS_INSTANCE} allocated_storage DiffSuppressFunc ("Allocated is higher than the configuration and autoscaling is enabled")`,
        example: { allocatedStorage: [500, 400], maxAllocatedStorage: [1000, 1000] },
      },
      {
        input: "allocatedStorage",
        effect: "refused",
        when: (c) => decreases(c) !== false && !(num(c.next.maxAllocatedStorage) > num(c.after)) && "a decrease",
        condition: "a decrease without autoscaling above the new size",
        why: "RDS cannot reduce allocated storage",
        source:
          "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.ModifyingExisting.html (\"You can't reduce the amount of storage for a DB instance after storage has been allocated.\")",
        example: { allocatedStorage: [50, 40], maxAllocatedStorage: [100, 40] },
      },
      {
        input: "engineVersion",
        effect: "refused",
        when: downgrades,
        condition: "a downgrade",
        why: "RDS only upgrades an engine: its valid targets are later versions",
        source:
          `https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.PostgreSQL.MajorVersion.html (describe-db-engine-versions ValidUpgradeTarget); ${RDS_API} EngineVersion: "The version number of the database engine to upgrade to"`,
        example: { engineVersion: ["16", "15"] },
      },
      {
        input: "engineVersion",
        effect: "refused",
        when: (c) => majorUpgrade(c) && c.next.allowMajorVersionUpgrade !== true && "a major upgrade",
        condition: "a major upgrade without allowMajorVersionUpgrade",
        why: "RDS takes a major upgrade only when allowMajorVersionUpgrade is set",
        source: `${RDS_API} AllowMajorVersionUpgrade: "Major version upgrades must be allowed when specifying a value for the EngineVersion parameter that's a different major version"`,
        example: { engineVersion: ["16", "17"], allowMajorVersionUpgrade: [true, false] },
      },
      {
        input: "engineVersion",
        effect: "restarts",
        when: (c) => upgrades(c) && `an upgrade: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`,
        condition: "an upgrade",
        why: "RDS takes the instance down for an engine upgrade",
        source: `${RDS_API} EngineVersion: "Changing this parameter results in an outage"`,
        example: { engineVersion: ["16", "17"], allowMajorVersionUpgrade: [true, true] },
      },
      {
        input: "instanceClass",
        effect: "restarts",
        when: (c) =>
          c.next.multiAz === true
            ? "Multi-AZ keeps the outage short"
            : "single-AZ: nothing serves while it changes",
        why: "RDS takes the instance down while it changes class",
        source: `${RDS_API} DBInstanceClass: "If you modify the DB instance class, an outage occurs during the change."; https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ModifyInstance.Settings.html ("By using Amazon RDS features such as Multi-AZ, you can minimize downtime")`,
      },
      {
        input: "parameterGroupName",
        effect: "restarts",
        why: "another parameter group takes effect at the instance's next reboot",
        source: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_RebootInstance.html (\"When you associate a new DB parameter group with a DB instance, RDS applies the modified static and dynamic parameters only after the DB instance is rebooted\")",
      },
    ],
  },
  "aws:rds/parameterGroup:ParameterGroup": {
    fromProvider: AWS_FROM_PROVIDER,
    rules: [
      AWS_REGION,
      ...forceNew(`${TF_AWS} internal/service/rds/parameter_group.go`, { description: "description", family: "family", name: "name", namePrefix: "name_prefix" }),
      {
        input: "parameters",
        effect: "restarts",
        when: ({ before, after }) =>
          changedByName(before, after)
            .filter((p) => (p.next ?? p.old)?.applyMethod === "pending-reboot")
            .map((p) => `${p.name}, static: pending-reboot`)
            .join(", "),
        condition: "a parameter applied pending-reboot changes value, or is added or removed",
        why: "RDS applies it only at the instances' next reboot",
        source:
          "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBParameterGroup.html (\"When the application method is pending-reboot, changes to dynamic and static parameters are applied after a reboot\"); pulumi/pulumi-aws provider/pkg/rds/parameter_group.go (a change of applyMethod alone is no change)",
        example: { parameters: [[{ applyMethod: "pending-reboot", name: "max_connections", value: "100" }], [{ applyMethod: "pending-reboot", name: "max_connections", value: "200" }]] },
      },
    ],
  },
  "aws:rds/subnetGroup:SubnetGroup": {
    fromProvider: AWS_FROM_PROVIDER,
    rules: [AWS_REGION, ...forceNew(`${TF_AWS} internal/service/rds/subnet_group.go`, { name: "name", namePrefix: "name_prefix" })],
  },
  "aws:rds/eventSubscription:EventSubscription": {
    fromProvider: AWS_FROM_PROVIDER,
    rules: [AWS_REGION, ...forceNew(`${TF_AWS} internal/service/rds/event_subscription.go`, { name: "name", namePrefix: "name_prefix" })],
  },
  "aws:elasticache/replicationGroup:ReplicationGroup": {
    stateful: true,
    fromProvider: AWS_FROM_PROVIDER,
    rules: [
      AWS_REGION,
      ...forceNew(`${TF_AWS} internal/service/elasticache/replication_group.go`, {
        atRestEncryptionEnabled: "at_rest_encryption_enabled",
        dataTieringEnabled: "data_tiering_enabled",
        globalReplicationGroupId: "global_replication_group_id",
        kmsKeyId: "kms_key_id",
        networkType: "network_type",
        port: "port",
        replicationGroupId: "replication_group_id",
        securityGroupNames: "security_group_names",
        snapshotArns: "snapshot_arns",
        snapshotName: "snapshot_name",
        subnetGroupName: "subnet_group_name",
      }),
      {
        input: "engineVersion",
        effect: "replaces",
        when: downgrades,
        condition: "a downgrade",
        source: `${TF_AWS} internal/service/elasticache/engine_version.go customizeDiffEngineVersionForceNewOnDowngrade`,
        example: { engineVersion: ["7.1", "6.2"] },
      },
      {
        input: "engine",
        effect: "replaces",
        when: ({ before, after, next }) => !(before === "redis" && after === "valkey") && isUnset(next.globalReplicationGroupId),
        condition: "any change but redis -> valkey",
        source: `${TF_AWS} internal/service/elasticache/engine_version.go customizeDiffEngineForceNewOnDowngrade`,
        example: { engine: ["valkey", "redis"] },
      },
      {
        input: "transitEncryptionEnabled",
        effect: "replaces",
        when: ({ old }) => compareVersions(old.engineVersion, "7.0.5") < 0 && "below engine 7.0.5",
        condition: "below engine version 7.0.5",
        source: `${TF_AWS} internal/service/elasticache/replication_group.go CustomizeDiff ForceNewIf transit_encryption_enabled (engine_version_actual < 7.0.5; the plan has engineVersion)`,
        example: { engineVersion: ["6.2", "6.2"], transitEncryptionEnabled: [false, true] },
      },
      {
        input: "nodeGroupConfigurations",
        effect: "replaces",
        why: "(the provider replaces on a significant change, hasSignificantNodeGroupConfigChanges; taken here as any change)",
        source: `${TF_AWS} internal/service/elasticache/replication_group.go CustomizeDiff ForceNewIf node_group_configuration`,
      },
    ],
  },
  "aws:elasticache/subnetGroup:SubnetGroup": {
    fromProvider: AWS_FROM_PROVIDER,
    rules: [AWS_REGION, ...forceNew(`${TF_AWS} internal/service/elasticache/subnet_group.go`, { name: "name" })],
  },
  "aws:ec2/securityGroup:SecurityGroup": {
    fromProvider: AWS_FROM_PROVIDER,
    rules: [AWS_REGION, ...forceNew(`${TF_AWS} internal/service/ec2/vpc_security_group.go`, { description: "description", name: "name", namePrefix: "name_prefix", vpcId: "vpc_id" })],
  },
  "aws:kms/key:Key": {
    // A replaced key is a new key: what the old one encrypted (storage, snapshots, secrets) needs the old one.
    stateful: true,
    fromProvider: AWS_FROM_PROVIDER,
    rules: [
      AWS_REGION,
      ...forceNew(`${TF_AWS} internal/service/kms/key.go`, {
        customKeyStoreId: "custom_key_store_id",
        customerMasterKeySpec: "customer_master_key_spec",
        keyUsage: "key_usage",
        multiRegion: "multi_region",
        xksKeyId: "xks_key_id",
      }),
    ],
  },
  "aws:secretsmanager/secret:Secret": {
    stateful: true,
    fromProvider: AWS_FROM_PROVIDER,
    rules: [AWS_REGION, ...forceNew(`${TF_AWS} internal/service/secretsmanager/secret.go`, { name: "name", namePrefix: "name_prefix" })],
  },
  "aws:secretsmanager/secretPolicy:SecretPolicy": {
    fromProvider: AWS_FROM_PROVIDER,
    rules: [AWS_REGION, ...forceNew(`${TF_AWS} internal/service/secretsmanager/secret_policy.go`, { secretArn: "secret_arn" })],
  },
  "aws:secretsmanager/secretVersion:SecretVersion": {
    fromProvider: AWS_FROM_PROVIDER,
    rules: [
      AWS_REGION,
      ...forceNew(`${TF_AWS} internal/service/secretsmanager/secret_version.go`, { secretId: "secret_id", secretBinary: "secret_binary", secretString: "secret_string" }),
    ],
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    fromProvider: AWS_FROM_PROVIDER,
    // alarm_name is `name` in Pulumi (the SDK's MetricAlarmArgs has no alarmName).
    rules: [AWS_REGION, ...forceNew(`${TF_AWS} internal/service/cloudwatch/metric_alarm.go`, { name: "alarm_name" })],
  },

  "gcp:sql/databaseInstance:DatabaseInstance": {
    stateful: true,
    fromProvider: gcpProject(`${SQL_INSTANCE}:238`),
    rules: [
      ...forceNew(SQL_INSTANCE, {
        region: ":261",
        "settings.collation": ":542",
        encryptionKeyName: ":1160",
        name: ":1227",
        project: ":1242",
        "replicaConfiguration.caCertificate": ":1271",
        "replicaConfiguration.clientCertificate": ":1284",
        "replicaConfiguration.clientKey": ":1291",
        "replicaConfiguration.connectRetryInterval": ":1298",
        "replicaConfiguration.dumpFilePath": ":1305",
        "replicaConfiguration.failoverTarget": ":1312",
        "replicaConfiguration.masterHeartbeatPeriod": ":1319",
        "replicaConfiguration.password": ":1326",
        "replicaConfiguration.sslCipher": ":1334",
        "replicaConfiguration.username": ":1341",
        "replicaConfiguration.verifyServerCertificate": ":1348",
        // ForceNewIf unless a switchover from the old primary's side (:240-246); the plan knows no switchover.
        masterInstanceName: ":240",
        "replicaConfiguration.cascadableReplica": ":244",
      }),
      {
        input: "settings.ipConfiguration.privateNetwork",
        effect: "replaces",
        when: ({ before, after }) => !isUnset(before) && isUnset(after) && "removed",
        condition: "removed",
        source: `${SQL_INSTANCE}:1600 privateNetworkCustomizeDiff ("ForceNew if it is changing from set to nil")`,
        example: { "settings.ipConfiguration.privateNetwork": ["projects/p/global/networks/n", undefined] },
      },
      ignored(
        "settings.diskSize",
        "components/platforms/gcp/index.ts:193,232 ignoreChanges; the provider too drops a smaller size while disk_autoresize is on (resource_sql_database_instance.go:186-218 diskSizeCutomizeDiff)",
        "the component ignores it (ignoreChanges): autoresize grows the disk, and Cloud SQL cannot shrink one",
      ),
      // The clone a restore is made from (gaia:restore): read only at creation (resource_sql_database_instance.go Create).
      ignored("clone", "components/platforms/gcp/index.ts:193 ignoreChanges", "the component ignores it (ignoreChanges): a restore's clone never replaces the instance"),
      {
        input: "databaseVersion",
        effect: "refused",
        when: downgrades,
        condition: "a downgrade",
        why: "Cloud SQL changes a major version only by an in-place upgrade (pg_upgrade)",
        source: `${SQL_INSTANCE}:2685 (a database_version change is an instances.patch, no ForceNew); https://cloud.google.com/sql/docs/postgres/upgrade-major-db-version-inplace ("The Cloud SQL for the PostgreSQL in-place upgrade operation uses the pg_upgrade utility")`,
        example: { databaseVersion: ["POSTGRES_16", "POSTGRES_15"] },
      },
      {
        input: "databaseVersion",
        effect: "restarts",
        when: (c) => upgrades(c) && `an upgrade: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`,
        condition: "an upgrade",
        why: "an in-place major upgrade takes the instance down",
        source: `${SQL_INSTANCE}:2685; https://cloud.google.com/sql/docs/postgres/upgrade-major-db-version-inplace`,
        example: { databaseVersion: ["POSTGRES_16", "POSTGRES_17"] },
      },
      {
        input: "settings.tier",
        effect: "restarts",
        why: "Cloud SQL restarts the instance to change its machine type",
        source: "https://cloud.google.com/sql/docs/postgres/admin-api/rest/v1/instances/update (\"Using this operation might cause your instance to restart\"); https://cloud.google.com/sql/docs/postgres/availability",
      },
      {
        input: "settings.databaseFlags",
        effect: "restarts",
        when: ({ before, after }) =>
          changedByName(before, after)
            .filter((f) => CLOUD_SQL_RESTART_FLAGS.includes(f.name))
            .map((f) => f.name)
            .join(", "),
        condition: `a flag that restarts Cloud SQL changes (${CLOUD_SQL_RESTART_FLAGS.join(", ")})`,
        why: "Cloud SQL restarts the instance to apply it",
        source:
          "https://cloud.google.com/sql/docs/postgres/flags (\"When you set, remove, or modify a flag for a database instance, the database might be restarted\"); max_connections: https://www.postgresql.org/docs/current/runtime-config-connection.html (\"This parameter can only be set at server start\"); cloudsql.enable_pgaudit: https://docs.nais.io/persistence/postgres/how-to/enable-auditing (\"Changing this flag after first-time setup will restart the postgreSQL instance\")",
        example: { "settings.databaseFlags": [[{ name: "max_connections", value: "100" }], [{ name: "max_connections", value: "200" }]] },
      },
      {
        input: "settings.backupConfiguration.pointInTimeRecoveryEnabled",
        effect: "restarts",
        when: ({ before, after }) => after === true && before !== true,
        condition: "turned on",
        why: "Cloud SQL restarts the database to turn point-in-time recovery on",
        source: `${TF_GOOGLE} website/docs/r/sql_database_instance.html.markdown:588 ("Will restart database if enabled after instance creation")`,
        example: { "settings.backupConfiguration.pointInTimeRecoveryEnabled": [false, true] },
      },
      {
        input: "settings.insightsConfig.queryStringLength",
        effect: "restarts",
        why: "a new query string length takes a restart",
        source: `${TF_GOOGLE} website/docs/r/sql_database_instance.html.markdown:708 ("Changing the query length requires you to restart the instance")`,
      },
    ],
  },
  "gcp:sql/user:User": {
    fromProvider: gcpProject("google/services/sql/resource_sql_user.go:94"),
    rules: forceNew(`${TF_GOOGLE} google/services/sql/resource_sql_user.go`, { host: ":130", instance: ":137", name: ":144", type: ":178", project: ":255" }),
  },
  "gcp:redis/instance:Instance": {
    stateful: true,
    fromProvider: gcpProject(`${REDIS_INSTANCE}:155`),
    rules: [
      ...forceNew(REDIS_INSTANCE, {
        name: ":192",
        alternativeLocationId: ":200",
        authorizedNetwork: ":218",
        connectMode: ":227",
        customerManagedKey: ":235",
        locationId: ":257",
        region: ":454",
        reservedIpRange: ":470",
        tier: ":490",
        transitEncryptionMode: ":501",
        project: ":681",
      }),
      {
        input: "redisVersion",
        effect: "replaces",
        when: downgrades,
        condition: "a downgrade",
        source: `${REDIS_INSTANCE}:154 customdiff.ForceNewIfChange("redis_version", isRedisVersionDecreasing) (:58)`,
        example: { redisVersion: ["REDIS_7_2", "REDIS_6_X"] },
      },
    ],
  },
  "gcp:secretmanager/secret:Secret": {
    stateful: true,
    fromProvider: gcpProject("google/services/secretmanager/resource_secret_manager_secret.go:145"),
    rules: [
      ...forceNew(`${TF_GOOGLE} google/services/secretmanager/resource_secret_manager_secret.go`, {
        "replication.userManaged.replicas[].location": ":226",
        secretId: ":257",
        tags: ":339",
        project: ":432",
      }),
      ...forceNewBlock(`${TF_GOOGLE} google/services/secretmanager/resource_secret_manager_secret.go`, {
        replication: ":172",
        "replication.auto": ":181",
        "replication.userManaged": ":210",
      }),
      {
        input: "replication.userManaged.replicas",
        effect: "replaces",
        when: ({ before, after }) => (Array.isArray(before) ? before.length : 0) !== (Array.isArray(after) ? after.length : 0),
        condition: "a replica added or removed",
        source: `${TF_GOOGLE} google/services/secretmanager/resource_secret_manager_secret.go:218: ForceNew (a block: its count's)`,
        example: { "replication.userManaged.replicas": [[{ location: "us-central1" }], [{ location: "us-central1" }, { location: "us-east1" }]] },
      },
    ],
  },
  "gcp:secretmanager/secretVersion:SecretVersion": {
    rules: forceNew(`${TF_GOOGLE} google/services/secretmanager/resource_secret_manager_secret_version.go`, {
      secretData: ":163",
      secretDataWoVersion: ":179",
      secret: ":187",
      project: ":201",
      isSecretDataBase64: ":229",
    }),
  },
  "gcp:secretmanager/secretIamMember:SecretIamMember": {
    rules: [
      ...forceNew(`${TF_GOOGLE} google/services/secretmanager/iam_secret_manager_secret.go`, { project: ":76", secretId: ":81" }),
      ...forceNew(IAM_MEMBER, { role: ":67", member: ":72", "condition.expression": ":86", "condition.title": ":91", "condition.description": ":96" }),
      ...forceNewBlock(IAM_MEMBER, { condition: ":80" }),
    ],
  },
  "gcp:projects/iAMMember:IAMMember": {
    rules: [
      ...forceNew(`${TF_GOOGLE} google/services/resourcemanager/iam_project.go`, { project: ":38" }),
      ...forceNew(IAM_MEMBER, { role: ":67", member: ":72", "condition.expression": ":86", "condition.title": ":91", "condition.description": ":96" }),
      ...forceNewBlock(IAM_MEMBER, { condition: ":80" }),
    ],
  },
  "gcp:monitoring/alertPolicy:AlertPolicy": {
    fromProvider: gcpProject("google/services/monitoring/resource_monitoring_alert_policy.go:121"),
    rules: forceNew(`${TF_GOOGLE} google/services/monitoring/resource_monitoring_alert_policy.go`, { project: ":1313" }),
  },

  "postgresql:index/database:Database": {
    stateful: true,
    rules: [
      // The name renames in place (ALTER DATABASE … RENAME TO): not ForceNew.
      ...forceNew(`${TF_PG}/resource_postgresql_database.go`, { template: ":56", encoding: ":64", lcCollate: ":71", lcCtype: ":78" }),
      ignored("allowConnections", "components/database.ts:108 ignoreChanges", "the component ignores it (ignoreChanges): the schema command opens the database"),
    ],
  },
  "postgresql:index/extension:Extension": {
    rules: forceNew(`${TF_PG}/resource_postgresql_extension.go`, { name: ":39", database: ":57" }),
  },
  // postgresql_role has no ForceNew attribute (resource_postgresql_role.go): a rename is ALTER ROLE.
  "postgresql:index/role:Role": { rules: [] },

  "random:index/randomPassword:RandomPassword": {
    // Not stateful itself, but a replacement is a new password: every consumer's credential changes.
    rules: [
      ...forceNew(`${TF_RANDOM}/resource_password.go`, {
        keepers: ":576 RequiresReplaceIfValuesNotNull",
        length: ":585",
        special: ":604",
        upper: ":614",
        lower: ":624",
        number: ":637",
        numeric: ":657",
        minNumeric: ":674",
        minUpper: ":684",
        minLower: ":694",
        minSpecial: ":704",
      }, "RequiresReplace"),
      {
        input: "overrideSpecial",
        effect: "replaces",
        when: ({ before, after }) => !(before === "" && isUnset(after)),
        condition: "any change but \"\" -> unset",
        source: `${TF_RANDOM}/resource_password.go:714 RequiresReplaceIf RequiresReplaceUnlessEmptyStringToNull`,
        example: { overrideSpecial: ["!#", "!#$"] },
      },
    ],
  },
  "random:index/randomId:RandomId": {
    rules: forceNew(`${TF_RANDOM}/resource_id.go`, { keepers: ":66 RequiresReplaceIfValuesNotNull", byteLength: ":74", prefix: ":82" }, "RequiresReplace"),
  },
  "command:local:Command": {
    // Every other change runs the `update` command (or `create` again) in place.
    rules: forceNew("pulumi/pulumi-command@v1.2.1 provider/pkg/provider/common/inputs.go", { triggers: ":10" }, 'provider:"replaceOnChanges"'),
  },
  "gaia:database:GaiaDatabase": { rules: [] },
};

/**
 * The explicit providers' own configuration. The engine replaces a resource with its provider
 * only when the provider's DiffConfig reports a replacement (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go:2798-2878 providerChanged, :2919-2926); a bridged
 * provider reports one only for a config key marked ForcesProviderReplace
 * (pulumi/pulumi-terraform-bridge@59de6c66 pkg/tfbridge/provider.go:835-894 configDiffer). None of these
 * marks any: their changes update the provider in place and reach each resource through
 * `fromProvider` above.
 */
export const PROVIDERS: Readonly<Record<string, { package: string; source: string }>> = {
  "pulumi:providers:aws": {
    package: "aws",
    source:
      "pulumi-aws v7 dropped ForcesProviderReplace on region (pulumi/pulumi-aws#5652: \"the new AWS v7 … removes the cascading replace logic entirely\"; commit d273034, for terraform-provider-aws v6's per-resource region)",
  },
  "pulumi:providers:gcp": { package: "gcp", source: "pulumi/pulumi-gcp provider/resources.go:524-556 Config (project, region, zone: defaults only)" },
  "pulumi:providers:postgresql": { package: "postgresql", source: "pulumi/pulumi-postgresql: no ForcesProviderReplace anywhere in provider/" },
};

/**
 * Replacements the engine adds: a resource whose `deletedWith` target is replaced is replaced
 * with it (pulumi/pulumi#23818, merged for 3.260.0, after the v3.259.0 the mirror read last
 * tags; this project's CLI is v3.274.1, tools/pulumi-cli/go.mod).
 */
export const DELETED_WITH_SOURCE = "pulumi/pulumi@1b594989 pkg/resource/deploy/step_generator.go:2909-2917 and calculateDependentReplacements (:3268), #23818";

/** Types whose replacement or deletion loses what they hold. */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set(Object.entries(REPLACEMENT_RULES).filter(([, t]) => t.stateful).map(([type]) => type));
