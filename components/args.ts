import type { PlatformName } from "./platforms";
import type { PresetName } from "../stacks/presets";

/**
 * What a program gives `GaiaDatabase`: the same settings as the stack keys (`gaia:<key>`), all
 * optional except where said. Whatever is left out comes from the environment's preset
 * (stacks/presets.ts). Validated, every problem at once, before any child resource exists.
 *
 * @example
 * new GaiaDatabase("gaia", {
 *   environment: "review-42",
 *   platform: "local",
 *   preset: "dev",
 *   adminEmail: "admin@example.com",
 *   backups: { enabled: false },
 *   local: { postgresUrl: "postgresql://postgres@127.0.0.1:5432/postgres" },
 * });
 */
export interface GaiaDatabaseArgs {
  /**
   * Names every database, role, secret and cloud resource; changing it rebuilds the environment.
   * @default the stack name
   * @example "staging"
   */
  environment?: string;
  /** Where PostgreSQL and Redis run. Required. */
  platform: PlatformName;
  /**
   * What the environment requires: sizes, pools, backups, recovery window, HA, replicas, protection.
   * @default the environment's name, where it is a preset's
   */
  preset?: PresetName;
  /**
   * The platform's region (`local`: "local").
   * @default the platform's first region
   * @example "eu-west-1"
   */
  region?: string;
  /** PostgreSQL major version. @default 16 */
  postgresVersion?: number;
  /** Size; `class` names the platform's own class (replaces the component's choice). */
  instance?: { vcpus?: number; memoryMb?: number; storageGb?: number; maxStorageGb?: number; class?: string };
  /** Each application process's pool (size plus overflow). */
  pool?: { size?: number; maxOverflow?: number };
  /** Backups, their retention, and point-in-time recovery with its window, in days. */
  backups?: { enabled?: boolean; retentionDays?: number; pitr?: boolean; pitrDays?: number };
  /** Multi-AZ (AWS), regional (GCP); Fly always runs a standby. */
  highAvailability?: boolean;
  /** Read replicas. */
  replicas?: number;
  /** Cloud-level deletion protection; cannot be off in production. */
  deletionProtection?: boolean;
  /** A snapshot when the instance is deleted; cannot be off in production. */
  finalSnapshot?: boolean;
  /** Pulumi `protect` on stateful resources; cannot be off in production. */
  protect?: boolean;
  /**
   * Taking the environment down on purpose: lifts deletion protection and `protect`, production's
   * too; the final snapshot stays. `pulumi up`, then `pulumi destroy`. @default false
   */
  decommission?: boolean;
  /**
   * Restore to a point in time, into new instances beside the previous ones (docs/restore.md):
   * the moment (RFC 3339 with an offset, inside the recovery window) and what becomes of the
   * instance restored from: `keep` (default), `release` (its protection lifted) or `drop`; and
   * which serves: `restored` (default) or `previous` (switching back).
   * @example { pointInTime: "2026-12-05T10:30:00Z" }
   */
  restore?: { pointInTime?: string; previous?: "keep" | "release" | "drop"; serve?: "restored" | "previous" };
  redis?: { memoryMb?: number; highAvailability?: boolean };
  /**
   * pgaudit (DDL and role statements) and connection logging; cannot be off in production.
   * @default the preset's (on for staging and production)
   */
  auditLogging?: boolean;
  /**
   * Where alarms notify: an SNS topic ARN in the stack's region (aws), a notification channel
   * (gcp). Required in production where the platform has alerts.
   * @example { notify: "arn:aws:sns:us-east-1:123456789012:gaia-alerts" }
   */
  alerts?: { notify?: string };
  /**
   * The service roles to create, from policy/access.ts.
   * @default every service of the policy
   */
  services?: string[];
  /** Where Pulumi reaches PostgreSQL when not at the instance's own address (a tunnel). */
  management?: { host?: string; port?: number };
  /** The environment's administrator account. Required. */
  adminEmail: string;
  /**
   * Credential rotation: a generation per credential (`owner`, `analytics`, a service, `redis`,
   * `admin`, `adminApiKey`, as the platform allows: components/rotation.ts) and `all`; raise one
   * (`npm run rotate`) to rotate it. Default: all 0.
   * @example { all: 3, chat: 1 }
   */
  rotation?: Record<string, number>;
  /** Required on aws: `{vpcId, subnetIds, allowedSecurityGroupIds, allowedCidrs, serviceRoles}`. */
  aws?: unknown;
  /** Required on gcp: `{project, network, serviceAccounts}`. */
  gcp?: unknown;
  /** Required on fly: `{org, apps, acceptCoarseRoles, redisReplicaRegions}`. */
  fly?: unknown;
  /** On local: `{postgresUrl, redisUrl, sslMode, sslRootCert}`. */
  local?: unknown;
}
