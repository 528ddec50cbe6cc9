import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { GaiaDatabaseArgs } from "./args";
import { resolveConfig, type GaiaConfig } from "./config";
import { generatePassword } from "./credentials";
import { generationKeepers, generationOf, mapSlots } from "./rotation";
import { createDatabaseAccess, createExtensions, type Login } from "./database";
import { PLATFORMS, platformOf, type BoundPlatform, type Platforms } from "./platforms";
import type { PostgresInstance, RedisInstance, StoredSecret } from "./platforms/types";
import { endSessionsOnRemoval } from "./sessions";
import { applySchema, postgresUrl } from "./schema";

/** A value for the secret store, and what the server must have applied first. */
type StoredValue = Pick<StoredSecret, "value" | "after" | "slots">;

export type { GaiaDatabaseArgs } from "./args";

/**
 * Everything the Gaia platform's data layer needs in one environment: PostgreSQL on the
 * stack's platform (backups, point-in-time recovery, replicas as the environment requires),
 * Redis, the owner, analytics and service roles with the access policy's grants, the Gaia
 * schema, and every credential generated, secret, and kept in the platform's secret store.
 */
export class GaiaDatabase extends pulumi.ComponentResource {
  /** Private address of the primary. */
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly databaseName: string;
  readonly replicaHosts: pulumi.Output<string[]>;
  /** `postgresql://` URL per policy role (owner, analytics, services). Secret. */
  readonly connectionUrls: pulumi.Output<Record<string, string>>;
  /** `host:port` of Redis. */
  readonly redisEndpoint: pulumi.Output<string>;
  /** `redis://` or `rediss://` URL with the environment's credential. Secret. */
  readonly redisUrl: pulumi.Output<string>;
  /** Keys this environment may use carry this prefix (on shared servers; undefined on dedicated ones). */
  readonly redisKeyPrefix: string | undefined;
  /** Per-process pool settings for applications. */
  readonly pool: { size: number; maxOverflow: number };
  /** The environment's bootstrap admin API key. Secret; only its SHA-256 reaches the database. */
  readonly adminApiKey: pulumi.Output<string>;
  /**
   * PEM of the CA(s) the PostgreSQL server's certificate chains to (RDS's regional roots, the
   * Cloud SQL instance's CA), for clients' `sslrootcert`; empty where the server has no TLS.
   */
  readonly postgresCa: pulumi.Output<string>;
  /** PEM of the CA of Redis's certificate where it is a private one (Memorystore); otherwise empty. */
  readonly redisCa: pulumi.Output<string>;
  /**
   * `postgresql://` URL of the platform's admin (RDS's master user, Cloud SQL's admin user, a
   * local stack's own), for operators and `npm run rotate`'s login check; empty on Fly. Secret.
   */
  readonly adminUrl: pulumi.Output<string>;
  /** Where each credential is kept in the platform's secret store (ARN, resource name, app:variable). */
  readonly secretNames: pulumi.Output<Record<string, string>>;

  /** The environment as resolved from the args and its preset. */
  readonly config: GaiaConfig;

  /**
   * Throws a `GaiaConfigError` listing every problem of `args` before any resource, itself included, exists.
   *
   * @param platforms the platforms `args.platform` may name: the registry's, or others (a plug-in's, in its test).
   */
  constructor(name: string, args: GaiaDatabaseArgs, opts?: pulumi.ComponentResourceOptions, platforms: Platforms = PLATFORMS) {
    const config = resolveConfig(args.environment ?? pulumi.getStack(), args as unknown as Record<string, unknown>, undefined, [], platforms);
    super("gaia:database:GaiaDatabase", name, {}, opts);
    this.config = config;
    const platform = platformOf(config, platforms).bind(config, this);

    const postgres = platform.createPostgres();
    const redis = platform.createRedis();
    const adminApiKey = createAdminApiKey(config, this);
    const { connectionUrls, redisUrl, adminUrl, secretNames } = platform.manageAccess
      ? { connectionUrls: {}, redisUrl: undefined, adminUrl: undefined, secretNames: platform.manageAccess({ postgres, redis, adminApiKey }) }
      : this.accessThroughSql(config, platform, postgres, redis, adminApiKey);

    this.host = postgres.host;
    this.port = postgres.port;
    this.databaseName = config.names.database;
    this.replicaHosts = postgres.replicaHosts;
    this.connectionUrls = pulumi.secret(pulumi.all(connectionUrls));
    this.redisEndpoint = pulumi.interpolate`${redis.host}:${redis.port}`;
    this.redisUrl = redisUrl ?? pulumi.secret("");
    this.adminUrl = adminUrl ?? pulumi.secret("");
    this.redisKeyPrefix = redis.keyPrefix;
    this.pool = config.pool;
    this.adminApiKey = adminApiKey;
    this.postgresCa = postgres.tls.ca ?? pulumi.output("");
    this.redisCa = redis.ca ?? pulumi.output("");
    this.secretNames = secretNames;
    this.registerOutputs({
      host: this.host,
      port: this.port,
      databaseName: this.databaseName,
      replicaHosts: this.replicaHosts,
      connectionUrls: this.connectionUrls,
      redisEndpoint: this.redisEndpoint,
      redisUrl: this.redisUrl,
      redisKeyPrefix: this.redisKeyPrefix,
      pool: this.pool,
      adminApiKey: this.adminApiKey,
      adminUrl: this.adminUrl,
      postgresCa: this.postgresCa,
      redisCa: this.redisCa,
      secretNames: this.secretNames,
    });
    guardDeletion(config, this);
  }

  /**
   * Where the component manages users itself: the database, group and login roles, the
   * schema and the access policy (one command), and every credential in the platform's secret store.
   */
  private accessThroughSql(config: GaiaConfig, platform: BoundPlatform, postgres: PostgresInstance, redis: RedisInstance, adminApiKey: pulumi.Output<string>) {
    const access = createDatabaseAccess(config, postgres, { parent: this, stateful: platform.options.stateful });
    const schema = applySchema(config, access, postgres, adminApiKey, this);
    createExtensions(config, access, schema, { parent: this, server: postgres.server, capabilities: platform.capabilities });
    endSessionsOnRemoval(config, access, postgres, this);

    const url = (login: Login) => postgresUrl(login.name, login.password, postgres.host, postgres.port, config.names.database, postgres.tls.mode);
    const connectionUrls = Object.fromEntries(Object.entries(access.logins).map(([role, login]) => [role, url(login)]));
    const redisUrl = redisConnectionUrl(redis);
    // The platform's admin credential is kept with the others, for break-glass and rotation.
    const admin = postgres.admin!;
    const adminUrl = postgresUrl(admin.username, admin.password, postgres.host, postgres.port, "postgres", postgres.tls.mode);
    // Each role's URL is stored only once the server has its login's password, both slots'
    // for stores that keep a version per slot (components/platforms/types.ts, StoredSecret).
    const roles: Record<string, StoredValue> = Object.fromEntries(
      Object.entries(access.slots).map(([role, { current, logins }]) => [role, {
        value: url(logins[current]),
        after: [logins[current].role],
        slots: { current, values: mapSlots((slot) => ({ value: url(logins[slot]), after: [logins[slot].role] })) },
      }]),
    );
    const secretNames = storeSecrets(config, (secret) => platform.storeSecret(secret), {
      roles: { ...roles, admin: { value: adminUrl, after: postgres.readyResources } },
      redis: { value: redisUrl, after: redis.readyResources },
      // Stored once the schema command has made it the admin's bootstrap key.
      adminApiKey: { value: adminApiKey, after: [schema] },
      postgresCa: postgres.tls.ca,
      redisCa: redis.ca,
    });
    return { connectionUrls, redisUrl, adminUrl, secretNames };
  }
}

/**
 * Where the platform refuses to delete the instance (`gaia:deletionProtection`), a destroy must be
 * refused before anything is deleted. The engine deletes dependents first, one antichain at a
 * time, and refuses a protected resource only when its turn comes (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go ScheduleDeletes; step.go DeleteStep.Apply, "Refuse to
 * delete protected resources"), so a protected instance alone is refused after its secrets,
 * policies, roles and Redis are gone. This guard depends on every resource of the component
 * (a dependsOn on the component is every custom resource under it: @pulumi/pulumi
 * runtime/dependsOn.js getAllTransitivelyReferencedResources, the guard itself excluded), so it
 * alone is deleted first; protected, it fails, and the engine then runs no step for what it
 * depends on (deployment_executor.go: "erroredDeps"). A random id: it has no inputs that change,
 * so no update or replacement ever touches it. How to take an environment down on purpose: README.
 */
function guardDeletion(config: GaiaConfig, component: pulumi.ComponentResource): void {
  new random.RandomId(`${config.names.resourcePrefix}-deletion-guard`, { byteLength: 1 }, { parent: component, dependsOn: [component], protect: config.deletionProtection });
}

/**
 * A random key, never derived from anything guessable. Rotated by its generation: the schema
 * command then makes the new key the admin's bootstrap key and deactivates the previous one.
 */
function createAdminApiKey(config: GaiaConfig, parent: pulumi.Resource): pulumi.Output<string> {
  const keepers = generationKeepers(generationOf(config.rotation, "adminApiKey"));
  const key = generatePassword(`${config.names.resourcePrefix}-admin-api-key`, { parent }, { length: 48, keepers });
  return pulumi.secret(pulumi.interpolate`gaia_${key}`);
}

function redisConnectionUrl(redis: RedisInstance): pulumi.Output<string> {
  const scheme = redis.tls ? "rediss" : "redis";
  return pulumi.secret(
    pulumi
      .all([redis.username ?? "", redis.password ?? "", redis.host, redis.port])
      .apply(([user, password, host, port]) => `${scheme}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}`),
  );
}

/**
 * Every credential into the platform's store, each readable by the application identities
 * that need it: a service reads its own role's URL, the Redis URL and the CAs; analytics its
 * own URL and the PostgreSQL CA; the owner's and admin's URLs and the admin API key are for
 * operators only.
 */
function storeSecrets(
  config: GaiaConfig,
  store: (secret: StoredSecret) => pulumi.Output<string> | undefined,
  values: {
    /** The URL of each policy role, and the admin's. */
    roles: Record<string, StoredValue>;
    redis: StoredValue;
    adminApiKey: StoredValue;
    postgresCa: pulumi.Output<string> | undefined;
    redisCa: pulumi.Output<string> | undefined;
  },
): pulumi.Output<Record<string, string>> {
  const prefix = config.names.secretPrefix;
  const services: readonly string[] = config.services;
  const secrets: StoredSecret[] = [
    ...Object.entries(values.roles).map(([role, secret]) => ({
      name: `${prefix}/postgres/${role}`,
      ...secret,
      readers: role === "analytics" || services.includes(role) ? [role] : [],
    })),
    { name: `${prefix}/redis`, ...values.redis, readers: services },
    { name: `${prefix}/admin-api-key`, ...values.adminApiKey, readers: [] },
    ...(values.postgresCa ? [{ name: `${prefix}/postgres/ca`, value: values.postgresCa, readers: [...services, "analytics"] }] : []),
    ...(values.redisCa ? [{ name: `${prefix}/redis/ca`, value: values.redisCa, readers: services }] : []),
  ];
  const refs: Record<string, pulumi.Output<string>> = {};
  for (const secret of secrets) {
    const ref = store(secret);
    if (ref) refs[secret.name] = ref;
  }
  return pulumi.all(refs);
}
