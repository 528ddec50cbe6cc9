/**
 * Safety rules every plan must pass, whatever the code or the stack file says: the last line
 * of defence against an unsafe change. They run in the tests over every stack's plan, and
 * under the Pulumi CLI as a policy pack (policy-pack/index.ts):
 *
 *   pulumi preview -s production --policy-pack policy-pack
 *
 * Production is recognised by the `preset` tag or label every resource carries (components/
 * platforms/aws/, gcp/), not by the stack's name, and must keep what the production preset
 * gives it (stacks/presets.ts: the one place those figures live).
 */
import { PRESETS } from "../stacks/presets";

export interface ResourceView {
  type: string;
  name: string;
  props: Record<string, any>;
  protect: boolean;
}

export interface SafetyRule {
  name: string;
  description: string;
  types: readonly string[];
  /** A violation as a sentence that names the fix, or undefined. */
  check(resource: ResourceView): string | undefined;
}

/** A rule over the whole stack (what no single resource shows: how many replicas it has). */
export interface StackRule {
  name: string;
  description: string;
  check(resources: readonly ResourceView[]): string[];
}

const RDS = "aws:rds/instance:Instance";
const CLOUD_SQL = "gcp:sql/databaseInstance:DatabaseInstance";
const ELASTICACHE = "aws:elasticache/replicationGroup:ReplicationGroup";
const MEMORYSTORE = "gcp:redis/instance:Instance";
const PRODUCTION = PRESETS.production;

function presetOf(props: Record<string, any>): string | undefined {
  return props.tags?.preset ?? props.labels?.preset ?? props.settings?.userLabels?.preset;
}

const isProduction = (r: ResourceView) => presetOf(r.props) === "production";
/** A tag or label the component sets: `released-for` on the instance a restore let go, `restored-to` on the restored one (components/core/restore.ts). */
const labelOf = (r: ResourceView, key: string): string | undefined => r.props.tags?.[key] ?? r.props.labels?.[key] ?? r.props.settings?.userLabels?.[key];
const isReplica = (r: ResourceView) => Boolean(r.props.replicateSourceDb ?? r.props.masterInstanceName);
const first = (...problems: (string | false | undefined)[]) => problems.find((p): p is string => Boolean(p));

export const RULES: readonly SafetyRule[] = [
  {
    name: "postgres-private-and-encrypted",
    description: "PostgreSQL instances are private and encrypted at rest.",
    types: [RDS, CLOUD_SQL],
    check: ({ type, props }) =>
      type === RDS
        ? first(!props.storageEncrypted && "set storageEncrypted: true", props.publiclyAccessible && "set publiclyAccessible: false")
        : first(props.settings?.ipConfiguration?.ipv4Enabled !== false && "set settings.ipConfiguration.ipv4Enabled: false (private IP only)"),
  },
  {
    name: "postgres-tls-required",
    description: "Connections to PostgreSQL must use TLS.",
    types: ["aws:rds/parameterGroup:ParameterGroup", CLOUD_SQL],
    check: ({ type, props }) =>
      type === CLOUD_SQL
        ? first(props.settings?.ipConfiguration?.sslMode !== "ENCRYPTED_ONLY" && "set settings.ipConfiguration.sslMode: ENCRYPTED_ONLY")
        : first(!(props.parameters ?? []).some((p: any) => p.name === "rds.force_ssl" && String(p.value) === "1") && "set the parameter rds.force_ssl to 1"),
  },
  {
    name: "redis-encrypted-and-authenticated",
    description: "Redis requires a credential and encrypts traffic.",
    types: [ELASTICACHE, MEMORYSTORE],
    check: ({ type, props }) =>
      type === MEMORYSTORE
        ? first(!props.authEnabled && "set authEnabled: true", props.transitEncryptionMode !== "SERVER_AUTHENTICATION" && "set transitEncryptionMode: SERVER_AUTHENTICATION")
        : first(
            !props.transitEncryptionEnabled && "set transitEncryptionEnabled: true",
            !props.atRestEncryptionEnabled && "set atRestEncryptionEnabled: true",
            !props.authToken && "set an authToken",
          ),
  },
  {
    name: "production-database-protected",
    description: `A production primary keeps deletion protection, a final snapshot, a standby, ${PRODUCTION.backups.pitrDays} days of recovery and \`protect\`.`,
    types: [RDS, CLOUD_SQL],
    check: (r) => {
      if (!isProduction(r) || isReplica(r)) return undefined;
      const p = r.props;
      const backup = p.settings?.backupConfiguration;
      const days = Math.max(PRODUCTION.backups.retentionDays, PRODUCTION.backups.pitrDays);
      // The instance a restore let go (gaia:restore.previous: release) may be deleted; its final snapshot is still taken.
      const released = labelOf(r, "released-for") !== undefined;
      return first(
        !released && !r.protect && "production databases are `protect`ed: keep gaia:protect",
        !released && r.type === RDS && !p.deletionProtection && "set deletionProtection: true",
        r.type === RDS && p.skipFinalSnapshot !== false && "take a final snapshot (skipFinalSnapshot: false)",
        r.type === RDS && !p.multiAz && "run Multi-AZ (multiAz: true)",
        r.type === RDS && !(p.backupRetentionPeriod >= days) && `keep at least ${days} days of backups (backupRetentionPeriod)`,
        !released && r.type === CLOUD_SQL && !(p.deletionProtection && p.settings?.deletionProtectionEnabled) && "set both deletionProtection and settings.deletionProtectionEnabled",
        r.type === CLOUD_SQL && p.settings?.availabilityType !== "REGIONAL" && "run REGIONAL (settings.availabilityType)",
        r.type === CLOUD_SQL && !backup?.pointInTimeRecoveryEnabled && "enable point-in-time recovery",
        r.type === CLOUD_SQL && !(backup?.transactionLogRetentionDays >= PRODUCTION.backups.pitrDays) && `keep ${PRODUCTION.backups.pitrDays} days of transaction logs (settings.backupConfiguration.transactionLogRetentionDays)`,
        r.type === CLOUD_SQL && !(p.settings?.retainBackupsOnDelete && p.settings?.finalBackupConfig?.enabled) && "keep a final backup and the backups on delete (settings.finalBackupConfig, settings.retainBackupsOnDelete)",
      );
    },
  },
  {
    name: "production-stateful-protected",
    description: "Production's replicas and Redis are `protect`ed: replacing or deleting one takes `pulumi up --ignore-protect`.",
    types: [RDS, CLOUD_SQL, ELASTICACHE, MEMORYSTORE],
    check: (r) => {
      if (!isProduction(r) || ((r.type === RDS || r.type === CLOUD_SQL) && !isReplica(r))) return undefined;
      return first(!r.protect && labelOf(r, "released-for") === undefined && "production's replicas and Redis are `protect`ed: keep gaia:protect");
    },
  },
  {
    name: "production-redis-highly-available",
    description: "Production's Redis keeps a replica in another zone and fails over to it.",
    types: [ELASTICACHE, MEMORYSTORE],
    check: (r) => {
      if (!isProduction(r)) return undefined;
      return r.type === MEMORYSTORE
        ? first(r.props.tier !== "STANDARD_HA" && "run tier STANDARD_HA")
        : first(!(r.props.automaticFailoverEnabled && r.props.multiAzEnabled && r.props.numCacheClusters >= 2) && "run 2 or more nodes with automaticFailoverEnabled and multiAzEnabled");
    },
  },
  {
    name: "production-secrets-recoverable",
    description: "A deleted production secret can be recovered for at least 7 days.",
    types: ["aws:secretsmanager/secret:Secret"],
    check: (r) =>
      isProduction(r) && !(r.props.recoveryWindowInDays >= 7) ? "set recoveryWindowInDays to 7 or more" : undefined,
  },
];

export const STACK_RULES: readonly StackRule[] = [
  {
    name: "production-release-after-restore",
    description: "A production instance is let go (released) only while another primary of the stack, not let go, serves: the other side of a point-in-time restore.",
    check: (resources) => {
      const primaries = resources.filter((r) => (r.type === RDS || r.type === CLOUD_SQL) && isProduction(r) && !isReplica(r));
      const serving = primaries.filter((r) => labelOf(r, "released-for") === undefined);
      return primaries
        .filter((r) => labelOf(r, "released-for") !== undefined && serving.length === 0)
        .map((r) => `${r.name} is released for restore ${labelOf(r, "released-for")}, but no other primary serves: keep it (gaia:restore.previous: keep, serve: restored) until one does`);
    },
  },
  {
    name: "production-read-replicas",
    description: `A production stack on AWS or Google Cloud keeps ${PRODUCTION.replicas} read replicas or more.`,
    check: (resources) => {
      const primaries = resources.filter((r) => (r.type === RDS || r.type === CLOUD_SQL) && isProduction(r) && !isReplica(r));
      const replicas = resources.filter((r) => (r.type === RDS || r.type === CLOUD_SQL) && isProduction(r) && isReplica(r));
      return primaries.length && replicas.length < PRODUCTION.replicas
        ? [`production has ${replicas.length} read replica(s): keep ${PRODUCTION.replicas} or more (gaia:replicas)`]
        : [];
    },
  },
];

/** Every violation in a set of resources, as `rule: type name: fix` (or `rule: fix` for the stack's). */
export function violations(resources: readonly ResourceView[]): string[] {
  return [
    ...resources.flatMap((r) =>
      RULES.filter((rule) => rule.types.includes(r.type)).flatMap((rule) => {
        const problem = rule.check(r);
        return problem ? [`${rule.name}: ${r.type} ${r.name}: ${problem}`] : [];
      }),
    ),
    ...STACK_RULES.flatMap((rule) => rule.check(resources).map((problem) => `${rule.name}: ${problem}`)),
  ];
}
