import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { z } from "zod";
import { POSTGRES_TUNING } from "../../stacks/presets";
import { generatePassword } from "../credentials";
import { postgresClass, smallestFitting, type MachineSize } from "./sizing";
import type { Platform } from "./types";

/** The VPC the environment lives in. The database and Redis get only private addresses in it. */
const settings = z
  .object({
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, "must be a VPC id (vpc-…)"),
    /** Private subnets in at least two availability zones (RDS and ElastiCache subnet groups). */
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, "must be subnet ids (subnet-…)")).min(2, "needs at least two private subnets in different zones"),
    /** Who may connect: the application's security groups and/or CIDR blocks. */
    allowedSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/)).default([]),
    allowedCidrs: z.array(z.cidrv4()).default([]),
  })
  .strict();

type AwsSettings = z.infer<typeof settings>;

/** Instance classes (Graviton), smallest first. */
const POSTGRES_CLASSES: MachineSize[] = [
  { vcpus: 2, memoryMb: 1024, name: "db.t4g.micro" },
  { vcpus: 2, memoryMb: 2048, name: "db.t4g.small" },
  { vcpus: 2, memoryMb: 8192, name: "db.m7g.large" },
  { vcpus: 4, memoryMb: 16384, name: "db.m7g.xlarge" },
  { vcpus: 8, memoryMb: 32768, name: "db.m7g.2xlarge" },
  { vcpus: 16, memoryMb: 65536, name: "db.m7g.4xlarge" },
];
const REDIS_NODES: MachineSize[] = [
  { memoryMb: 512, name: "cache.t4g.micro" },
  { memoryMb: 1400, name: "cache.t4g.small" },
  { memoryMb: 3090, name: "cache.t4g.medium" },
  { memoryMb: 6380, name: "cache.m7g.large" },
  { memoryMb: 12930, name: "cache.m7g.xlarge" },
];

export const awsPlatform: Platform<AwsSettings> = {
  name: "aws",
  capabilities: {
    regions: [
      "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
      "eu-central-1", "eu-north-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
      "ap-south-1", "sa-east-1",
    ],
    postgresVersions: [14, 15, 16, 17],
    pitrDays: { min: 1, max: 35 },
    retentionDays: { min: 1, max: 35 },
    maxReplicas: 15,
    highAvailability: true,
    minStorageGb: 20,
  },
  settings,

  validate(config, s) {
    const problems: string[] = [];
    if (s.allowedSecurityGroupIds.length === 0 && s.allowedCidrs.length === 0) {
      problems.push("gaia:aws needs allowedSecurityGroupIds or allowedCidrs: nothing could connect to the database otherwise.");
    }
    // On RDS the PITR window is the backup retention period: one number, two names.
    if (config.backups.pitr && config.backups.pitrDays > config.backups.retentionDays) {
      problems.push(
        `gaia:backups.pitrDays ${config.backups.pitrDays} exceeds gaia:backups.retentionDays ${config.backups.retentionDays}: on RDS the recovery window is the retention period; raise retentionDays.`,
      );
    }
    return problems;
  },

  instanceClass: (config) => postgresClass(config, POSTGRES_CLASSES),

  createPostgres(ctx) {
    const { config, settings: s, child, stateful } = ctx;
    const prefix = config.names.resourcePrefix;
    const tags = { environment: config.environment, "managed-by": "pulumi/gaia-database" };

    const key = new aws.kms.Key(`${prefix}-key`, {
      description: `Gaia ${config.environment}: PostgreSQL, Redis and secrets`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      tags,
    }, stateful);

    const subnets = new aws.rds.SubnetGroup(`${prefix}-postgres-subnets`, { subnetIds: s.subnetIds, tags }, child);
    const securityGroup = allowIngress(`${prefix}-postgres-sg`, 5432, s, tags, child);

    const family = `postgres${config.postgresVersion}`;
    const parameters = new aws.rds.ParameterGroup(`${prefix}-postgres-params`, {
      family,
      description: `Gaia ${config.environment}: TLS required, pg_stat_statements, tuning`,
      parameters: [
        { name: "rds.force_ssl", value: "1" },
        { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
        ...Object.entries(POSTGRES_TUNING).map(([name, value]) => ({ name, value })),
      ],
      tags,
    }, child);

    const adminPassword = generatePassword(`${prefix}-postgres-admin-password`, child);
    const identifier = `${prefix}-postgres`;
    // A new suffix whenever the instance would be replaced, so a final snapshot never collides
    // with the one its predecessor left (DBSnapshotAlreadyExists).
    const snapshotSuffix = new random.RandomId(`${prefix}-final-snapshot-suffix`, {
      byteLength: 4,
      keepers: { identifier, kms: key.arn, engine: family },
    }, child);

    const primary = new aws.rds.Instance(identifier, {
      identifier,
      engine: "postgres",
      // Major only: RDS applies minor upgrades, and the provider treats "16" as matching "16.x".
      engineVersion: String(config.postgresVersion),
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
      instanceClass: awsPlatform.instanceClass(config),
      allocatedStorage: config.instance.storageGb,
      maxAllocatedStorage: config.instance.maxStorageGb,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: key.arn,
      username: "gaia_admin",
      password: adminPassword,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [securityGroup.id],
      parameterGroupName: parameters.name,
      publiclyAccessible: false,
      multiAz: config.highAvailability,
      backupRetentionPeriod: config.backups.enabled ? Math.max(config.backups.retentionDays, config.backups.pitrDays) : 0,
      backupWindow: "00:00-01:00",
      maintenanceWindow: "mon:02:00-mon:03:00",
      copyTagsToSnapshot: true,
      deletionProtection: config.deletionProtection,
      skipFinalSnapshot: !config.finalSnapshot,
      finalSnapshotIdentifier: config.finalSnapshot ? pulumi.interpolate`${identifier}-final-${snapshotSuffix.hex}` : undefined,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: key.arn,
      performanceInsightsRetentionPeriod: 7,
      enabledCloudwatchLogsExports: ["postgresql"],
      applyImmediately: config.preset !== "production",
      tags,
    }, {
      ...stateful,
      // A restore is done once, by hand or by a drill; its inputs must not force a replacement
      // on the next `pulumi up` (terraform-aws-rds: restore inputs left behind).
      ignoreChanges: ["snapshotIdentifier", "restoreToPointInTime"],
    });

    const replicas = Array.from({ length: config.replicas }, (_, i) =>
      new aws.rds.Instance(`${identifier}-replica-${i + 1}`, {
        identifier: `${identifier}-replica-${i + 1}`,
        replicateSourceDb: primary.identifier,
        instanceClass: awsPlatform.instanceClass(config),
        storageEncrypted: true,
        kmsKeyId: key.arn,
        vpcSecurityGroupIds: [securityGroup.id],
        parameterGroupName: parameters.name,
        publiclyAccessible: false,
        autoMinorVersionUpgrade: true,
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: key.arn,
        // Replicas hold no backups of their own; the primary's are the recovery path.
        backupRetentionPeriod: 0,
        skipFinalSnapshot: true,
        deletionProtection: config.deletionProtection,
        tags: { ...tags, role: "replica" },
      }, stateful),
    );

    return {
      host: primary.address,
      port: primary.port,
      replicaHosts: pulumi.all(replicas.map((r) => r.address)),
      sslMode: "require",
      adminUsername: "gaia_admin",
      adminPassword,
      adminIsSuperuser: false,
      readyResources: [primary],
    };
  },

  createRedis(ctx) {
    const { config, settings: s, child, stateful } = ctx;
    const prefix = config.names.resourcePrefix;
    const tags = { environment: config.environment, "managed-by": "pulumi/gaia-database" };
    const authToken = generatePassword(`${prefix}-redis-auth-token`, child, undefined, 64);
    const subnets = new aws.elasticache.SubnetGroup(`${prefix}-redis-subnets`, { subnetIds: s.subnetIds, tags }, child);
    const securityGroup = allowIngress(`${prefix}-redis-sg`, 6379, s, tags, child);
    const ha = config.redis.highAvailability;
    const group = new aws.elasticache.ReplicationGroup(`${prefix}-redis`, {
      replicationGroupId: `${prefix}-redis`,
      description: `Gaia ${config.environment} cache`,
      engine: "redis",
      engineVersion: "7.1",
      nodeType: smallestFitting(REDIS_NODES, { memoryMb: config.redis.memoryMb }),
      numCacheClusters: ha ? 2 : 1,
      automaticFailoverEnabled: ha,
      multiAzEnabled: ha,
      port: 6379,
      subnetGroupName: subnets.name,
      securityGroupIds: [securityGroup.id],
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken,
      // ROTATE keeps the old token valid while clients move to the new one.
      authTokenUpdateStrategy: "ROTATE",
      snapshotRetentionLimit: config.backups.enabled ? config.backups.retentionDays : 0,
      applyImmediately: config.preset !== "production",
      tags,
    }, stateful);
    return {
      host: group.primaryEndpointAddress,
      port: pulumi.output(6379),
      tls: true,
      username: undefined,
      password: authToken,
      keyPrefix: undefined,
    };
  },

  storeSecret({ config, child }, name, value) {
    const secret = new aws.secretsmanager.Secret(name.replace(/\//g, "-"), {
      name,
      description: `Gaia ${config.environment}: ${name.split("/").slice(2).join("/")}`,
      // Production secrets can be recovered for 30 days; others go at once so a stack can be rebuilt.
      recoveryWindowInDays: config.preset === "production" ? 30 : 0,
      tags: { environment: config.environment },
    }, child);
    new aws.secretsmanager.SecretVersion(`${name.replace(/\//g, "-")}-value`, { secretId: secret.id, secretString: value }, child);
    return secret.arn;
  },
};

function allowIngress(
  name: string,
  port: number,
  s: AwsSettings,
  tags: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): aws.ec2.SecurityGroup {
  return new aws.ec2.SecurityGroup(name, {
    vpcId: s.vpcId,
    description: `Gaia: port ${port} from the application only`,
    ingress: [
      ...(s.allowedSecurityGroupIds.length
        ? [{ protocol: "tcp", fromPort: port, toPort: port, securityGroups: s.allowedSecurityGroupIds }]
        : []),
      ...(s.allowedCidrs.length ? [{ protocol: "tcp", fromPort: port, toPort: port, cidrBlocks: s.allowedCidrs }] : []),
    ],
    egress: [],
    tags,
  }, opts);
}
