
/**
 * What is alerted on, and at what, from the environment's size: the seeds' production
 * checklist ("Set up monitoring and alerts": CPU, storage running out, connections) and what a
 * platform engineer adds (replica lag, Redis memory, failed backups where the platform reports
 * them). The one place these figures live; each platform turns them into its own alarms.
 */
export interface AlertThresholds {
  /** Average CPU over 15 minutes, percent. */
  cpuPercent: number;
  /** Connections at once: this share of the server's `max_connections`. */
  connections: number | undefined;
  /** Seconds a replica may lag the primary. */
  replicaLagSeconds: number;
  /** Redis memory in use, percent of its maximum. */
  redisMemoryPercent: number;
}

/**
 * Storage has no share here: when it runs out depends on how the platform grows the disk, so each
 * platform derives its storage alarm from its own growth rule (aws/alarms.ts rdsStorageAlarm,
 * gcp/alerts.ts cloudSqlStorageAlert), and describes it (capabilities.alerts.storage).
 */
export const ALERT_POLICY = { cpuPercent: 80, connectionsShare: 0.8, replicaLagSeconds: 30, redisMemoryPercent: 80 } as const;

/** The thresholds for an environment whose server allows `maxConnections` (its platform's figure; undefined where unknown). */
export function alertThresholds(maxConnections: number | undefined): AlertThresholds {
  return {
    cpuPercent: ALERT_POLICY.cpuPercent,
    connections: maxConnections === undefined ? undefined : Math.floor(maxConnections * ALERT_POLICY.connectionsShare),
    replicaLagSeconds: ALERT_POLICY.replicaLagSeconds,
    redisMemoryPercent: ALERT_POLICY.redisMemoryPercent,
  };
}

/**
 * The server parameters of audit logging, as PostgreSQL names them: DDL and role statements
 * through pgaudit, which writes role statements with their password redacted (pgaudit.c
 * `stack_valid`/`log_audit_event`: "<REDACTED>" for CREATE/ALTER ROLE with a password; RDS user
 * guide, "Using pgAudit to log database activity": "If your instance is configured to log
 * statements … you can avoid the cleartext password issue by using pgAudit"). Core statement
 * logging is pinned off: `log_statement = ddl` writes `ALTER ROLE … PASSWORD '…'` verbatim
 * (src/backend/tcop/utility.c GetCommandLogLevel: CreateRole/AlterRole are LOGSTMT_DDL), and a
 * setting made by hand in the console is put back by the next `pulumi up`. Role passwords reach
 * the server only as SCRAM verifiers anyway (components/credentials.ts loginVerifier).
 * pgaudit.log_parameter stays at its default (off), so no bound parameter is logged either.
 */
export const AUDIT_LOGGING = { "pgaudit.log": "ddl,role", log_statement: "none" } as const;
