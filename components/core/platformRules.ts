import type { z } from "zod";
import type { GaiaConfig } from "./config";

/**
 * Days a platform lets a stack choose: a range; "platform" where the platform keeps them on
 * its own terms and offers no setting (Fly Managed Postgres); null where it has none.
 */
export type DayRange = { min: number; max: number } | "platform" | null;

/** What validation needs to know of a platform, before any resource is touched. */
export interface PlatformCapabilities {
  regions: readonly string[];
  postgresVersions: readonly number[];
  /** Allowed point-in-time-recovery window in days; null where the platform has none. */
  pitrDays: DayRange;
  /** Allowed backup retention in days; null where the platform keeps no backups. */
  retentionDays: DayRange;
  maxReplicas: number;
  highAvailability: boolean;
  /** Whether gaia:redis.memoryMb sizes Redis here; false where the platform's Redis has no size to set (Upstash on Fly, an existing server). */
  redisSizing: boolean;
  minStorageGb: number;
  /** Whether grants follow the access policy table by table; false where each user gets a role kind over every table (Fly's reader and writer). */
  perTableGrants: boolean;
  /** Whether the component can turn on pgaudit and connection logging here (components/alerts.ts, the platforms' parameters). */
  auditLogging: boolean;
  /** What `gaia:alerts.notify` names here and the form it takes, where the component makes alerts; null where it makes none. */
  alerts: {
    target: string;
    pattern: RegExp;
    /** The region the target lives in, where the platform's alarms may notify only a target of their own region. */
    regionOf?: (target: string) => string;
    /** When the storage alarm fires, in words, from how the platform grows storage. */
    storage: (config: GaiaConfig) => string;
  } | null;
}

/** What the platform says of its own block of stack config, once the rest is resolved. */
export type SettingsCheck =
  /** The block parsed: the platform's own problems with it (validate). */
  | { parsed: true; problems: string[] }
  /** The block did not parse: zod's issues, which the core words as it words its own. */
  | { parsed: false; issues: readonly z.core.$ZodIssue[] };

/**
 * All the config core knows of a platform (components/core/resolve.ts): what it offers, what it
 * cannot rotate and why, and checks of its own settings and cloud contracts. The platforms
 * implement it (components/platforms/plugin.ts); the core imports none of them.
 */
export interface PlatformRules {
  name: string;
  capabilities: PlatformCapabilities;
  /** Credentials (`admin`, `redis`, `adminApiKey`, or `roles` for every policy role's login) this platform cannot rotate, each with why (components/rotation.ts). */
  cannotRotate: Readonly<Record<string, string>>;
  checkSettings(block: unknown, config: GaiaConfig): SettingsCheck;
  /** The keys of the platform's own block (`gaia:<name>`), for a misplaced or misspelt one's suggestion; none known where absent. */
  settingKeys?: readonly string[];
  /** The platform's cloud contracts the stack breaks, each as a sentence; the settings when they parsed. */
  contractProblems(config: GaiaConfig, block: unknown): string[];
}
