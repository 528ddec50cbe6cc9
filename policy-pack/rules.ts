/**
 * Safety rules every plan must pass, whatever the code or the stack file says: the last line
 * of defence against an unsafe change. They run in the tests over every stack's plan, and
 * under the Pulumi CLI as a policy pack (policy-pack/index.ts):
 *
 *   pulumi preview -s production --policy-pack policy-pack
 */

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

const RDS = "aws:rds/instance:Instance";
const CLOUD_SQL = "gcp:sql/databaseInstance:DatabaseInstance";

function environmentOf(props: Record<string, any>): string | undefined {
  return props.tags?.environment ?? props.labels?.environment ?? props.settings?.userLabels?.environment;
}

const isProduction = (r: ResourceView) => environmentOf(r.props) === "production";
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
    types: ["aws:elasticache/replicationGroup:ReplicationGroup", "gcp:redis/instance:Instance"],
    check: ({ type, props }) =>
      type === "gcp:redis/instance:Instance"
        ? first(!props.authEnabled && "set authEnabled: true", props.transitEncryptionMode !== "SERVER_AUTHENTICATION" && "set transitEncryptionMode: SERVER_AUTHENTICATION")
        : first(
            !props.transitEncryptionEnabled && "set transitEncryptionEnabled: true",
            !props.atRestEncryptionEnabled && "set atRestEncryptionEnabled: true",
            !props.authToken && "set an authToken",
          ),
  },
  {
    name: "production-database-protected",
    description: "A production primary keeps deletion protection, a final snapshot, HA, 7 days of recovery and `protect`.",
    types: [RDS, CLOUD_SQL],
    check: (r) => {
      if (!isProduction(r) || isReplica(r)) return undefined;
      const p = r.props;
      return first(
        !r.protect && "production databases are `protect`ed: keep gaia:protect",
        r.type === RDS && !p.deletionProtection && "set deletionProtection: true",
        r.type === RDS && p.skipFinalSnapshot !== false && "take a final snapshot (skipFinalSnapshot: false)",
        r.type === RDS && !p.multiAz && "run Multi-AZ (multiAz: true)",
        r.type === RDS && !(p.backupRetentionPeriod >= 7) && "keep at least 7 days of backups (backupRetentionPeriod)",
        r.type === CLOUD_SQL && !(p.deletionProtection && p.settings?.deletionProtectionEnabled) && "set both deletionProtection and settings.deletionProtectionEnabled",
        r.type === CLOUD_SQL && p.settings?.availabilityType !== "REGIONAL" && "run REGIONAL (settings.availabilityType)",
        r.type === CLOUD_SQL && !p.settings?.backupConfiguration?.pointInTimeRecoveryEnabled && "enable point-in-time recovery",
      );
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

/** Every violation in a set of resources, as `rule: type name: fix`. */
export function violations(resources: readonly ResourceView[]): string[] {
  return resources.flatMap((r) =>
    RULES.filter((rule) => rule.types.includes(r.type)).flatMap((rule) => {
      const problem = rule.check(r);
      return problem ? [`${rule.name}: ${r.type} ${r.name}: ${problem}`] : [];
    }),
  );
}
