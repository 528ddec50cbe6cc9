import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { GaiaConfig } from "../../stacks/config";

/** What validation needs to know of a platform, before any resource is touched. */
export interface PlatformCapabilities {
  regions: readonly string[];
  postgresVersions: readonly number[];
  /** Allowed point-in-time-recovery window in days; null where the platform has none. */
  pitrDays: { min: number; max: number } | null;
  /** Allowed backup retention in days; null where the platform keeps no backups. */
  retentionDays: { min: number; max: number } | null;
  maxReplicas: number;
  highAvailability: boolean;
  minStorageGb: number;
}

/** Everything a platform piece needs: the resolved config, names, and where to hang resources. */
export interface PlatformContext<Settings> {
  config: GaiaConfig;
  settings: Settings;
  /** Options for stateful resources: parent, and `protect` where the environment requires it. */
  stateful: pulumi.CustomResourceOptions;
  /** Options for everything else. */
  child: pulumi.CustomResourceOptions;
}

export interface PostgresInstance {
  /** Where applications connect (private address). */
  host: pulumi.Output<string>;
  port: pulumi.Output<number>;
  replicaHosts: pulumi.Output<string[]>;
  tls: PostgresTls;
  /** The platform's administrative role: creates databases and roles, owns nothing of Gaia's. */
  adminUsername: string;
  /** Secret. */
  adminPassword: pulumi.Output<string>;
  /** Whether the admin role is a real superuser (local) or a cloud "rds_superuser"-like role. */
  adminIsSuperuser: boolean;
  /** Resources that must exist before the management connection works. */
  readyResources: pulumi.Resource[];
}

/**
 * How every connection to PostgreSQL verifies the server: the provider, the schema command,
 * the privilege check and the URLs handed to applications all use the same mode and CA.
 */
export interface PostgresTls {
  /**
   * libpq sslmode. verify-full where the server's certificate names its host (RDS, a local
   * server with its own CA); verify-ca where it cannot (Cloud SQL's per-instance CA names
   * the instance, not its private IP, and signs no other server); disable only on `local`.
   */
  mode: "disable" | "require" | "verify-ca" | "verify-full";
  /** PEM of the CA(s) the server's certificate chains to; readable by applications. */
  ca: pulumi.Output<string> | undefined;
}

export interface RedisInstance {
  host: pulumi.Output<string>;
  port: pulumi.Output<number>;
  tls: boolean;
  /** PEM of the CA that signs the server's certificate, where it is not a public one (Memorystore). */
  ca?: pulumi.Output<string>;
  /** ACL user, where the platform has one per environment; otherwise the default user. */
  username: pulumi.Output<string> | undefined;
  /** Secret. */
  password: pulumi.Output<string>;
  /** Prefix every key of this environment must carry (local servers are shared). */
  keyPrefix: string | undefined;
}

export interface Platform<Settings = unknown> {
  name: string;
  capabilities: PlatformCapabilities;
  /** The platform's block of stack config (`gaia:<platform>`), validated with the rest. */
  settings: z.ZodType<Settings>;
  /** Problems that need the platform's settings and the resolved config together. */
  validate?(config: GaiaConfig, settings: Settings): string[];
  /** The instance class this platform uses for the configured size. */
  instanceClass(config: GaiaConfig): string;
  createPostgres(ctx: PlatformContext<Settings>): PostgresInstance;
  createRedis(ctx: PlatformContext<Settings>): RedisInstance;
  /**
   * Keeps one secret in the platform's secret store, under `name` (already environment-scoped),
   * readable by the identities of `readers` only (policy roles: a service, analytics; none for
   * operator-only credentials such as the admin's). Returns the store's reference (ARN,
   * resource name, app secret name), or undefined where the platform has no store (local: the
   * stack's encrypted state is the store).
   */
  storeSecret(ctx: PlatformContext<Settings>, secret: StoredSecret): pulumi.Output<string> | undefined;
}

export interface StoredSecret {
  name: string;
  value: pulumi.Output<string>;
  /** Policy roles whose application identity may read it; empty: operators only. */
  readers: readonly string[];
}
