import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { GaiaConfig } from "../core/config";
import type { PlatformCapabilities } from "../core/platformRules";
import type { CannotRotate, Slot } from "../rotation";
import type { MonthlyCost } from "./shared/cost";

export type { DayRange, PlatformCapabilities } from "../core/platformRules";

/** Everything a platform piece needs: the resolved config, names, and where to hang resources. */
export interface PlatformContext<Settings> {
  config: GaiaConfig;
  settings: Settings;
  /** Options for the platform's stateful resources: parent, its provider, and `protect` where the environment requires it. */
  stateful: pulumi.CustomResourceOptions;
  /** Options for the platform's other resources: parent and its provider. */
  child: pulumi.CustomResourceOptions;
  /** Options for resources of other packages (generated passwords, commands): parent only. */
  other: pulumi.CustomResourceOptions;
}

export interface PostgresInstance {
  /** Where applications connect (private address). */
  host: pulumi.Output<string>;
  port: pulumi.Output<number>;
  replicaHosts: pulumi.Output<string[]>;
  tls: PostgresTls;
  /**
   * The platform's administrative role, which creates the database and roles and owns nothing
   * of Gaia's; undefined where the platform makes database users itself (`manageAccess`).
   */
  admin: PostgresAdmin | undefined;
  /**
   * The instance whose deletion takes the environment's database and roles with it (RDS,
   * Cloud SQL): those are not deleted one by one before it (`deletedWith`), so a destroy the
   * instance's deletion protection refuses leaves them all in place.
   */
  server?: pulumi.Resource;
  /** The platform's id of the instance, where later steps address it by id (Fly's cluster id). */
  id?: pulumi.Output<string>;
  /** Resources that must exist before the management connection works. */
  readyResources: pulumi.Resource[];
}

export interface PostgresAdmin {
  username: string;
  /** Secret. */
  password: pulumi.Output<string>;
  /** A real superuser (local), or a cloud admin like RDS's master user (CREATEROLE, CREATEDB). */
  isSuperuser: boolean;
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
  /** Secret; undefined where the platform hands the credential to applications itself (Fly). */
  password: pulumi.Output<string> | undefined;
  /** Prefix every key of this environment must carry (local servers are shared). */
  keyPrefix: string | undefined;
  /** Resources that must exist before the credential can be read or handed out. */
  readyResources?: pulumi.Resource[];
}

/**
 * A platform: everything the component knows of one, in its folder (components/platforms/<name>/),
 * generic in its settings (`gaia:<name>`), which every method that reads them gets typed. The
 * registry (./index.ts) holds each as registered by ./plugin.ts; nothing else names a platform.
 */
export interface Platform<Settings> {
  name: string;
  capabilities: PlatformCapabilities;
  /** The platform's block of stack config (`gaia:<platform>`), validated with the rest. */
  settings: z.ZodType<Settings>;
  /** Problems that need the platform's settings and the resolved config together. */
  validate?(config: GaiaConfig, settings: Settings): string[];
  /** The cloud API's constraints the component relies on here, each with its source, checked before any resource. */
  contracts: readonly PlatformContract<Settings>[];
  /** Credentials this platform cannot rotate, each with why (components/rotation.ts). */
  cannotRotate?: CannotRotate;
  /**
   * The platform's provider, configured from the stack (region, project) so no resource lands
   * where the operator's shell points; handed to every child as a `providers` entry.
   */
  provider?(config: GaiaConfig, settings: Settings, parent: pulumi.Resource): pulumi.ProviderResource;
  /** The instance class this platform uses for the configured size. */
  instanceClass(config: GaiaConfig): string;
  /** What the environment gets here, in the platform's words: the plan's summary (scripts/lib/planSummary.ts). */
  describe(config: GaiaConfig, settings: Settings): PlatformSummary;
  /** What the environment costs a month here, from the platform's dated price tables (./<name>/prices.ts, docs/costs.md). */
  monthlyCost?(config: GaiaConfig): MonthlyCost;
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
  /**
   * For platforms that make database users themselves (Fly Managed Postgres): applies the
   * schema, gives each application its own credential, and returns where each is kept. The
   * component's SQL roles, grants and secret store are then not used.
   */
  manageAccess?(ctx: PlatformContext<Settings>, access: ManagedAccess): pulumi.Output<Record<string, string>>;
}

export interface PlatformSummary {
  /** The server's size where the platform's tables know it; the connection limit the pools were checked against. */
  server: { vcpus?: number; memoryMb?: number; maxConnections?: number };
  /** What high availability is on this platform (Multi-AZ, regional, Fly's cluster). */
  standby: string;
  /** How clients verify PostgreSQL's certificate. */
  tls: string;
  /** The Redis the environment gets. */
  redis: string;
}

export interface StoredSecret {
  name: string;
  value: pulumi.Output<string>;
  /** Policy roles whose application identity may read it; empty: operators only. */
  readers: readonly string[];
  /** What the server must have applied before the store holds this value (the login whose password it carries). */
  after?: pulumi.Resource[];
  /**
   * A credential alternated by rotation (components/rotation.ts): each slot's value and which
   * is current (`value` is the current one's). A store whose replaced version drops the old
   * one (Secret Manager) keeps a version per slot, so the previous credential stays readable
   * until the next rotation; one that keeps it by itself (Secrets Manager's AWSPREVIOUS) needs only `value`.
   */
  slots?: { current: Slot; values: Record<Slot, { value: pulumi.Output<string>; after: pulumi.Resource[] }> };
}

export interface ManagedAccess {
  postgres: PostgresInstance;
  redis: RedisInstance;
  adminApiKey: pulumi.Output<string>;
}

/**
 * One constraint of a cloud's API the component relies on, with where it comes from. Config
 * validation runs every contract of the stack's platform, so a stack that breaks one fails
 * before any resource with one sentence naming the key and the fix; the tests run every
 * contract over every stack on every platform, and the platform code reads its figures
 * (identifier rules, token characters, class sizes) from the same tables, not from copies.
 */
export interface PlatformContract<Settings = unknown> {
  platform: string;
  /** The rule, in a few words. */
  rule: string;
  /** A document or a provider source path, where the rule can be checked. */
  source: string;
  /** The problem as a sentence that names the key and the fix, or undefined when kept; `settings` where they parsed. */
  check(config: GaiaConfig, settings?: Settings): string | undefined;
}
