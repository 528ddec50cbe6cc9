import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { settings, type AwsSettings } from "./settings";
import { POSTGRES_TUNING } from "../../../stacks/presets";
import { generatePassword, onceApplied } from "../../credentials";
import { AUDIT_LOGGING, alertThresholds } from "../../alerts";
import { describeRdsStorageAlarm, postgresAlarms, redisAlarms } from "./alarms";
import { generationKeepers, generationOf } from "../../rotation";
import { rdsRootCas } from "../../tls";
import { SUPPORTED_POSTGRES_VERSIONS, maxConnectionsFor } from "../shared/connections";
import { AWS_CONTRACTS, AWS_REGIONS, ELASTICACHE_AUTH_TOKEN, ELASTICACHE_NODES, RDS_CLASSES } from "./contracts";
import { postgresClass, smallestFitting } from "../shared/sizing";
import { restoreMarks, restoreProtection, restoredName, servingRestore, type RestoreRole } from "../../core/restore";
import { awsMonthlyCost } from "./prices";
import { missingReaders, warnWithoutIdentities } from "../shared/identities";
import { exposureProblem, warnOfExposure } from "../shared/exposure";
import type { GaiaConfig } from "../../core/config";
import type { Platform } from "../types";

export const awsPlatform: Platform<AwsSettings> = {
  name: "aws",
  capabilities: {
    regions: AWS_REGIONS,
    postgresVersions: SUPPORTED_POSTGRES_VERSIONS,
    pitrDays: { min: 1, max: 35 },
    retentionDays: { min: 1, max: 35 },
    maxReplicas: 15,
    highAvailability: true,
    redisSizing: true,
    minStorageGb: 20,
    perTableGrants: true,
    auditLogging: true,
    alerts: {
      target: "the ARN of the SNS topic alarms notify (arn:aws:sns:<region>:<account>:<topic>)",
      pattern: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
      // CloudWatch refuses an alarm action in another region ("Invalid region <r> specified. Only
      // <stack's> is supported": cds-snc/notification-terraform PR 128, "alarms require SNS topics
      // to be in the same region"); the ARN's fourth field is its region (ARN format, IAM user guide reference-arns).
      regionOf: (arn) => arn.split(":")[3]!,
      storage: describeRdsStorageAlarm,
    },
  },
  settings,
  contracts: AWS_CONTRACTS,

  validate(config, s) {
    const problems = missingReaders("gaia:aws.serviceRoles", "IAM role ARN", config, s.serviceRoles, "production");
    // A class in another platform's format (db-custom-2-3840, performance-2x) would fail at RDS.
    if (config.instance.class && !/^db\.[a-z0-9]+\.[a-z0-9]+$/.test(config.instance.class)) {
      problems.push(`gaia:instance.class "${config.instance.class}" is not an RDS instance class: use db.<family>.<size>, for example db.m7g.large, or remove it to let the component choose.`);
    }
    if (s.allowedSecurityGroupIds.length === 0 && s.allowedCidrs.length === 0) {
      problems.push("gaia:aws needs allowedSecurityGroupIds or allowedCidrs: nothing could connect to the database otherwise.");
    }
    const exposure = exposureProblem("gaia:aws.allowedCidrs", s.allowedCidrs, "PostgreSQL (5432) and Redis (6379)");
    if (exposure && config.preset === "production") problems.push(exposure);
    return problems;
  },

  // Every AWS resource in the stack's region, whatever AWS_REGION the operator's shell has.
  provider: (config, _settings, parent) => new aws.Provider(`${config.names.resourcePrefix}-aws`, { region: config.region as aws.Region }, { parent }),

  instanceClass: (config) => postgresClass(config, RDS_CLASSES),

  monthlyCost: awsMonthlyCost,

  describe(config) {
    const size = RDS_CLASSES.find((c) => c.name === awsPlatform.instanceClass(config));
    const node = smallestFitting(ELASTICACHE_NODES, { memoryMb: config.redis.memoryMb });
    return {
      server: { vcpus: size?.vcpus, memoryMb: size?.memoryMb, maxConnections: size && maxConnectionsFor(size.memoryMb) },
      standby: "Multi-AZ",
      tls: "verify-full against the region's RDS roots (rds.force_ssl)",
      redis: `ElastiCache ${node}${config.redis.highAvailability ? " x2, automatic failover across zones" : ""}, TLS and AUTH token`,
    };
  },

  createPostgres(ctx) {
    const { config, settings: s, child, stateful } = ctx;
    const prefix = config.names.resourcePrefix;
    const tags = awsTags(config);
    warnWithoutIdentities("gaia:aws.serviceRoles", s.serviceRoles, child.parent!);
    warnOfExposure(exposureProblem("gaia:aws.allowedCidrs", s.allowedCidrs, "PostgreSQL (5432) and Redis (6379)"), child.parent!);

    const key = new aws.kms.Key(`${prefix}-key`, {
      // ElastiCache and Secrets Manager use their AWS-managed keys.
      description: `Gaia ${config.environment}: PostgreSQL storage, snapshots and Performance Insights`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      tags,
      // The final snapshot and the kept backups are encrypted with it: a destroy must not take it.
    }, { ...stateful, retainOnDelete: config.finalSnapshot || config.deletionProtection });

    const subnets = new aws.rds.SubnetGroup(`${prefix}-postgres-subnets`, { subnetIds: s.subnetIds, tags }, child);
    const securityGroup = allowIngress(`${prefix}-postgres-sg`, 5432, s, tags, child);

    const family = `postgres${config.postgresVersion}`;
    const instanceClass = awsPlatform.instanceClass(config);
    const classMemory = RDS_CLASSES.find((c) => c.name === instanceClass)?.memoryMb;
    const parameters = new aws.rds.ParameterGroup(`${prefix}-postgres-params`, {
      family,
      description: `Gaia ${config.environment}: TLS required, pg_stat_statements, tuning`,
      parameters: [
        { name: "rds.force_ssl", value: "1" },
        // Static: a change waits for the next reboot (RDS user guide, PostgreSQL parameters).
        { name: "shared_preload_libraries", value: config.auditLogging ? "pg_stat_statements,pgaudit" : "pg_stat_statements", applyMethod: "pending-reboot" },
        // Never statement logging, audit or not: it would write role passwords (components/alerts.ts).
        { name: "log_statement", value: AUDIT_LOGGING.log_statement },
        // Audit logging (RDS user guide, "Setting up the pgAudit extension"; log_* are dynamic).
        ...(config.auditLogging
          ? [
              // Dynamic: pgaudit defines it PGC_SUSET (pgaudit.c _PG_init, DefineCustomStringVariable
              // "pgaudit.log"), so a change of the audit classes applies at once (the default, immediate).
              { name: "pgaudit.log", value: AUDIT_LOGGING["pgaudit.log"] },
              { name: "log_connections", value: "1" },
              { name: "log_disconnections", value: "1" },
            ]
          : []),
        ...Object.entries(POSTGRES_TUNING).map(([name, value]) => ({ name, value })),
        // The limit the pools were checked against (./contracts.ts).
        ...(classMemory ? [{ name: "max_connections", value: String(maxConnectionsFor(classMemory)), applyMethod: "pending-reboot" }] : []),
      ],
      tags,
    }, child);

    // Rotated by its generation: RDS changes the master password in place, with no outage
    // ("Changing this parameter doesn't result in an outage", ModifyDBInstance MasterUserPassword;
    // terraform-provider-aws instance.go waits for "available" after resetting-master-credentials),
    // and the PostgreSQL provider, which depends on the instance, is reconfigured after it.
    const adminPassword = generatePassword(`${prefix}-postgres-admin-password`, ctx.other, { keepers: generationKeepers(generationOf(config.rotation, "admin")) });
    const identifier = `${prefix}-postgres`;
    const restore = config.restore;

    /**
     * A primary and its replicas. `from`: restored from this identifier's backups to the
     * stack's point in time (RDS RestoreDBInstanceToPointInTime, into a new instance: "you can
     * restore to a new DB instance", RDS user guide USER_PIT.html). `released`: the
     * environment's previous instance, let go (gaia:restore.previous: release).
     */
    const instanceSet = (name: string, role: RestoreRole) => {
      const protection = restoreProtection(role, config.deletionProtection, stateful);
      // What the policy pack reads of a restore (policy-pack/rules.ts): the instance let go, and the one restored.
      const setTags = { ...tags, ...restoreMarks(restore, role) };
      // A new suffix whenever the instance would be replaced, so a final snapshot never collides
      // with the one its predecessor left (DBSnapshotAlreadyExists).
      const snapshotSuffix = new random.RandomId(name === identifier ? `${prefix}-final-snapshot-suffix` : `${name}-final-snapshot-suffix`, {
        byteLength: 4,
        keepers: { identifier: name, kms: key.arn, engine: family },
      }, ctx.other);
      const primary = new aws.rds.Instance(name, {
        identifier: name,
        ...(role.from && restore
          ? {
              // The master password the source had at that moment comes with the data; the
              // provider sets `password` after the restore with a ModifyDBInstance
              // (hashicorp/terraform-provider-aws PR 35589, "for PITR restores ... masterUserPassword").
              restoreToPointInTime: { sourceDbInstanceIdentifier: role.from, restoreTime: restore.at },
            }
          : {}),
        engine: "postgres",
        // Major only: RDS applies minor upgrades, and the provider treats "16" as matching "16.x".
        engineVersion: String(config.postgresVersion),
        autoMinorVersionUpgrade: true,
        // A changed gaia:postgresVersion is a decision made in review: let it upgrade in place
        // (with false, RDS refuses the change and the stack is stuck on its version).
        allowMajorVersionUpgrade: true,
        instanceClass,
        allocatedStorage: config.instance.storageGb,
        maxAllocatedStorage: config.instance.maxStorageGb,
        storageType: "gp3",
        storageEncrypted: true,
        kmsKeyId: key.arn,
        username: "gaia_admin",
        password: adminPassword,
        // A restore gets "the default security group, the default subnet group, and the default
        // DB parameter group" unless told (RestoreDBInstanceToPointInTime API reference): these
        // are sent with the restore (terraform-provider-aws instance.go, the restore branch).
        dbSubnetGroupName: subnets.name,
        vpcSecurityGroupIds: [securityGroup.id],
        parameterGroupName: parameters.name,
        publiclyAccessible: false,
        multiAz: config.highAvailability,
        backupRetentionPeriod: config.backups.enabled ? Math.max(config.backups.retentionDays, config.backups.pitr ? config.backups.pitrDays : 0) : 0,
        backupWindow: "00:00-01:00",
        maintenanceWindow: "mon:02:00-mon:03:00",
        copyTagsToSnapshot: true,
        deletionProtection: protection.deletionProtection,
        skipFinalSnapshot: !config.finalSnapshot,
        // With a final snapshot the automated backups stay too (the provider's default deletes them).
        deleteAutomatedBackups: !config.finalSnapshot,
        finalSnapshotIdentifier: config.finalSnapshot ? pulumi.interpolate`${name}-final-${snapshotSuffix.hex}` : undefined,
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: key.arn,
        performanceInsightsRetentionPeriod: 7,
        enabledCloudwatchLogsExports: ["postgresql"],
        // Changes are reviewed before `pulumi up` and applied then: with false, RDS keeps them
        // pending and every later plan shows them again (terraform-provider-aws
        // website/docs/r/db_instance.html.markdown, "Terraform may report a difference").
        applyImmediately: true,
        tags: setTags,
      }, {
        ...protection.options,
        // A restore is done once; its inputs must not force a replacement on the next `pulumi up`
        // (terraform-aws-rds: restore inputs left behind).
        ignoreChanges: ["snapshotIdentifier", "restoreToPointInTime"],
      });

      const replicas = Array.from({ length: config.replicas }, (_, i) =>
        new aws.rds.Instance(`${name}-replica-${i + 1}`, {
          identifier: `${name}-replica-${i + 1}`,
          replicateSourceDb: primary.identifier,
          instanceClass,
          // Replicas grow their storage like the primary (applied by a ModifyDBInstance after
          // creation: terraform-provider-aws internal/service/rds/instance.go, replica create path).
          maxAllocatedStorage: config.instance.maxStorageGb,
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
          // A replica holds nothing the primary lacks: no deletion protection at RDS. Where the
          // stack protects its resources (production), removing one still takes a reviewed
          // `pulumi up --ignore-protect`, as the replicas carry the read traffic.
          deletionProtection: false,
          tags: { ...setTags, role: "replica" },
        }, { ...protection.options, dependsOn: [primary] }),
      );
      return { primary, replicas };
    };

    // The environment's instance, unless a restore dropped it; the restored one serves when there is one.
    // Switching back (serve: previous), the restored one is let go instead.
    const restoredServes = servingRestore(restore) !== undefined;
    const previous = restore?.previous === "drop" ? undefined : instanceSet(identifier, { released: restoredServes && restore?.previous === "release" });
    const restored = restore ? instanceSet(restoredName(identifier, restore), { from: identifier, released: !restoredServes }) : undefined;
    const { primary, replicas } = restoredServes ? restored! : previous!;

    postgresAlarms(config, thresholds(config, ctx.settings), primary, replicas, child);

    return {
      host: primary.address,
      port: primary.port,
      replicaHosts: pulumi.all(replicas.map((r) => r.address)),
      tls: { mode: "verify-full", ca: pulumi.output(rdsRootCas(config.region).join("")) },
      admin: { username: "gaia_admin", password: adminPassword, isSuperuser: false },
      readyResources: [primary],
      server: primary,
    };
  },

  createRedis(ctx) {
    const { config, settings: s, child, stateful } = ctx;
    const prefix = config.names.resourcePrefix;
    const tags = awsTags(config);
    const authToken = generatePassword(`${prefix}-redis-auth-token`, ctx.other, {
      length: 64,
      specials: ELASTICACHE_AUTH_TOKEN.specials,
      keepers: generationKeepers(generationOf(config.rotation, "redis")),
    });
    const subnets = new aws.elasticache.SubnetGroup(`${prefix}-redis-subnets`, { subnetIds: s.subnetIds, tags }, child);
    const securityGroup = allowIngress(`${prefix}-redis-sg`, 6379, s, tags, child);
    const ha = config.redis.highAvailability;
    const replicationGroupId = `${prefix}-redis`;
    // As the RDS final snapshot's: a new suffix whenever the group would be replaced, so the
    // second destroy of a re-created environment does not fail on the first one's snapshot
    // (DeleteReplicationGroup: SnapshotAlreadyExistsFault).
    const snapshotSuffix = config.finalSnapshot
      ? new random.RandomId(`${prefix}-redis-final-snapshot-suffix`, { byteLength: 4, keepers: { replicationGroupId } }, ctx.other)
      : undefined;
    const group = new aws.elasticache.ReplicationGroup(`${prefix}-redis`, {
      replicationGroupId,
      description: `Gaia ${config.environment} cache`,
      engine: "redis",
      engineVersion: "7.1",
      nodeType: smallestFitting(ELASTICACHE_NODES, { memoryMb: config.redis.memoryMb }),
      numCacheClusters: ha ? 2 : 1,
      automaticFailoverEnabled: ha,
      multiAzEnabled: ha,
      port: 6379,
      subnetGroupName: subnets.name,
      securityGroupIds: [securityGroup.id],
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken,
      // A new token (a rotation) is added and the previous one stays valid, up to the two most
      // recent: "If this modification is performed on a server that already supports two AUTH
      // tokens, the oldest AUTH token will also be removed" (ElastiCache user guide, auth.html,
      // "Rotating the AUTH token"). So no SET afterwards: the previous token must keep working
      // until the next rotation, as every other credential's does. Sent on updates only, with
      // ApplyImmediately (terraform-provider-aws replication_group.go, "Auth token changes").
      authTokenUpdateStrategy: "ROTATE",
      snapshotRetentionLimit: config.backups.enabled ? config.backups.retentionDays : 0,
      finalSnapshotIdentifier: snapshotSuffix ? pulumi.interpolate`${replicationGroupId}-final-${snapshotSuffix.hex}` : undefined,
      applyImmediately: true,
      tags,
    }, stateful);
    redisAlarms(config, thresholds(config, ctx.settings), group, ha ? 2 : 1, child);
    return {
      host: group.primaryEndpointAddress,
      port: pulumi.output(6379),
      tls: true,
      username: undefined,
      password: onceApplied(authToken, group.arn),
      keyPrefix: undefined,
      readyResources: [group],
    };
  },

  storeSecret({ config, settings: s, child }, { name, value, readers, after }) {
    const id = name.replace(/\//g, "-");
    const secret = new aws.secretsmanager.Secret(id, {
      name,
      description: `Gaia ${config.environment}: ${name.split("/").slice(2).join("/")}`,
      // Production secrets can be recovered for 30 days; others go at once so a stack can be rebuilt.
      recoveryWindowInDays: config.preset === "production" ? 30 : 0,
      tags: awsTags(config),
      // Where the instance is protected, a refused destroy must not leave it without its credentials.
    }, { ...child, retainOnDelete: config.deletionProtection });
    // With no application role named (dev, staging) there is nothing to allow or deny, and a
    // policy without statements is not a policy.
    const policy = Object.keys(s.serviceRoles).length
      ? new aws.secretsmanager.SecretPolicy(`${id}-policy`, {
          secretArn: secret.arn,
          policy: secret.arn.apply((arn) => JSON.stringify(readerPolicy(arn, readers, s.serviceRoles))),
          blockPublicPolicy: true,
        }, child)
      : undefined;
    // The value goes in only once its policy holds: otherwise, on a first `up`, there is a moment
    // when the credential is stored and only the account's IAM policies guard it.
    new aws.secretsmanager.SecretVersion(`${id}-value`, { secretId: secret.id, secretString: value }, {
      ...child,
      dependsOn: [...(after ?? []), ...(policy ? [policy] : [])],
    });
    return secret.arn;
  },
};

/**
 * A secret's resource policy: its readers' roles may read it and do nothing else to it; every
 * other application role of the environment may do nothing to it at all, whatever its identity
 * policy allows (an explicit Deny wins:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
 * The denies cover every Secrets Manager action, not only reading: a role allowed
 * `secretsmanager:*` (AWS's managed SecretsManagerReadWrite) could otherwise delete this
 * policy (`DeleteResourcePolicy`) and then read the secret, or overwrite it (`PutSecretValue`,
 * `UpdateSecret`): each is an action of its own (Secrets Manager permissions reference,
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html).
 * Operators and `pulumi up` are not named, so their own identity policies decide.
 *
 * The denies name their roles in a condition on `aws:PrincipalArn`, under `Principal: "*"`, not
 * in `Principal`: IAM stores a role named in `Principal` as the role's unique ID, so a role
 * deleted and created again under the same name would no longer match, and would escape the
 * deny; `aws:PrincipalArn` is the role's ARN for every session of it (IAM global condition keys,
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn;
 * unique IDs: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles).
 * The allow keeps naming its roles in `Principal`, the narrowest form, rather than resting an
 * allow to everyone on a condition: a reader recreated under its name fails closed (it cannot
 * read until the policy is written again), never open.
 */
export function readerPolicy(secretArn: string, readers: readonly string[], serviceRoles: Record<string, string>) {
  const allowed = [...new Set(readers.map((r) => serviceRoles[r]).filter((arn): arn is string => Boolean(arn)))];
  const denied = [...new Set(Object.values(serviceRoles))].filter((arn) => !allowed.includes(arn));
  const roles = (arns: string[]) => ({ Principal: { AWS: "*" }, Condition: { ArnEquals: { "aws:PrincipalArn": arns } } });
  return {
    Version: "2012-10-17",
    Statement: [
      ...(allowed.length
        ? [
            { Sid: "ReadersRead", Effect: "Allow", Principal: { AWS: allowed }, Action: SECRET_READ, Resource: secretArn },
            { Sid: "ReadersOnlyRead", Effect: "Deny", ...roles(allowed), NotAction: SECRET_READ, Resource: secretArn },
          ]
        : []),
      ...(denied.length ? [{ Sid: "OtherApplicationsDenied", Effect: "Deny", ...roles(denied), Action: "secretsmanager:*", Resource: secretArn }] : []),
    ],
  };
}

/** What reading a secret takes: its value, and its metadata (which the SDKs' caches ask for). */
const SECRET_READ = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"];

/**
 * On every AWS resource: the environment, and its preset, which the policy pack keys
 * production's protections on (policy-pack/rules.ts), whatever the stack is called.
 */
function awsTags(config: GaiaConfig): Record<string, string> {
  return { environment: config.environment, preset: config.preset, "managed-by": "pulumi/gaia-database" };
}

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

/** The alerts' thresholds (components/alerts.ts) against the connection limit of the server the stack gets, as the plan's summary shows it. */
function thresholds(config: GaiaConfig, settings: AwsSettings) {
  return alertThresholds(awsPlatform.describe(config, settings).server.maxConnections);
}
