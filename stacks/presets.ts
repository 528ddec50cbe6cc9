/**
 * What each environment requires, from the Gaia platform's database documents: sizes, pools,
 * backups and recovery windows, availability and protection. A stack file states only what
 * differs from its preset. This is the one place these numbers live.
 */
export const PRESET_NAMES = ["dev", "staging", "production"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface Preset {
  /** Vertical size, translated by each platform into its own instance class. */
  instance: { vcpus: number; memoryMb: number; storageGb: number; maxStorageGb: number };
  /** Application connection pool per process (SQLAlchemy-style pool size + overflow). */
  pool: { size: number; maxOverflow: number };
  backups: { enabled: boolean; retentionDays: number; pitr: boolean; pitrDays: number };
  highAvailability: boolean;
  replicas: number;
  deletionProtection: boolean;
  finalSnapshot: boolean;
  /** Pulumi `protect` on stateful resources: `pulumi destroy` refuses until it is lifted. */
  protect: boolean;
  redis: { memoryMb: number; highAvailability: boolean };
  /**
   * Query logging for audit (the seeds' production checklist): pgaudit's DDL and role
   * statements, connections and disconnections, where the platform allows it.
   */
  auditLogging: boolean;
}

export const PRESETS: Record<PresetName, Preset> = {
  dev: {
    instance: { vcpus: 1, memoryMb: 256, storageGb: 10, maxStorageGb: 20 },
    pool: { size: 5, maxOverflow: 10 },
    // Daily snapshots, no continuous WAL archive.
    backups: { enabled: true, retentionDays: 1, pitr: false, pitrDays: 0 },
    highAvailability: false,
    replicas: 0,
    deletionProtection: false,
    finalSnapshot: false,
    protect: false,
    redis: { memoryMb: 256, highAvailability: false },
    auditLogging: false,
  },
  staging: {
    instance: { vcpus: 2, memoryMb: 1024, storageGb: 50, maxStorageGb: 100 },
    pool: { size: 10, maxOverflow: 20 },
    backups: { enabled: true, retentionDays: 3, pitr: true, pitrDays: 3 },
    highAvailability: false,
    replicas: 0,
    deletionProtection: true,
    finalSnapshot: true,
    protect: false,
    redis: { memoryMb: 1024, highAvailability: false },
    auditLogging: true,
  },
  production: {
    instance: { vcpus: 8, memoryMb: 16384, storageGb: 500, maxStorageGb: 1000 },
    pool: { size: 20, maxOverflow: 40 },
    backups: { enabled: true, retentionDays: 7, pitr: true, pitrDays: 7 },
    highAvailability: true,
    replicas: 2,
    deletionProtection: true,
    finalSnapshot: true,
    protect: true,
    redis: { memoryMb: 4096, highAvailability: true },
    auditLogging: true,
  },
};

/**
 * Server settings every platform applies (parameter group, database flags, fly config), from
 * the production tuning in the seed documents. Values are PostgreSQL units as strings.
 */
export const POSTGRES_TUNING: Record<string, string> = {
  random_page_cost: "1.1",
  effective_io_concurrency: "200",
  idle_in_transaction_session_timeout: "600000",
  log_min_duration_statement: "1000",
};
