import * as pulumi from "@pulumi/pulumi";
import { settings, type FlySettings } from "./settings";
import { policyRoles } from "../../../policy/grants";
import { migrationsDigest } from "../../../sql";
import { sha256Hex } from "../../../ops/lib/hash";
import { opsCommand } from "../../commands";
import { FLY_CONTRACTS, MPG_PLANS, MPG_POSTGRES_VERSIONS, MPG_REGIONS, mpgPlan } from "./contracts";
import { flyMonthlyCost } from "./prices";
import { missingReaders } from "../shared/identities";
import { SLOTS, currentSlot, generationOf, slotGeneration } from "../../rotation";
import type { Platform } from "../types";
import type { GaiaConfig } from "../../core/config";
import { restoredName, servingRestore, type RestoreRole } from "../../core/restore";

/** The cluster serving the environment: its own, or the one a restore made (components/core/restore.ts). */
const flyClusterName = (config: GaiaConfig) => (servingRestore(config.restore) ? restoredName(`${config.names.resourcePrefix}-db`, config.restore) : `${config.names.resourcePrefix}-db`);

/** Upstash's pay-as-you-go plan, passed explicitly (flyctl internal/command/redis/create.go redisPlanPayAsYouGo). */
const UPSTASH_PAY_AS_YOU_GO = "ekQ85Yjkw155ohQ5ALYq0M";

/** The role kind of each policy role's Managed Postgres user (docs mpg/cluster-configuration.html.md). */
const ROLE_KIND = (role: string) => (role === "analytics" ? "reader" : "writer");
const DATABASE_URL = "GAIA_DATABASE_URL";
const REDIS_URL = "GAIA_REDIS_URL";

export const flyPlatform: Platform<FlySettings> = {
  name: "fly",
  capabilities: {
    regions: MPG_REGIONS,
    postgresVersions: MPG_POSTGRES_VERSIONS,
    // Managed Postgres backs up every cluster and restores to a point in time ("fly mpg
    // restore --pitr-time": internal/command/mpg/restore.go), on Fly's own retention and window:
    // flyctl has no setting for either, and Fly's docs state neither (docs/platforms.md, "Fly.io").
    pitrDays: "platform",
    retentionDays: "platform",
    // Its standby serves failover only; flyctl has no read replicas (internal/command/mpg).
    maxReplicas: 0,
    highAvailability: true,
    redisSizing: false,
    minStorageGb: 1,
    perTableGrants: false,
    auditLogging: false,
    alerts: null,
  },
  settings,
  contracts: FLY_CONTRACTS,
  cannotRotate: {
    admin: "Fly Managed Postgres keeps its admin itself",
    owner: "the owner on Fly is Managed Postgres' own schema_admin (fly-user), which Fly keeps",
    redis: "Upstash's `fly redis reset` refuses the old password at once and every app must be given the new URL: do it in a maintenance window as docs/rotation.md says",
  },

  validate(config, s) {
    const problems = missingReaders("gaia:fly.apps", "Fly app", config, s.apps, "every stack");
    // Upstash's regions are Fly's less those the API excludes at the time (flyctl
    // internal/command/redis/redis.go GetExcludedRegions), not Managed Postgres' list: any Fly
    // region code passes here, and one Upstash did not take is refused after creation, when
    // `fly redis status` shows the replicas it has (ops/fly.ts checkReplicaRegions).
    for (const region of s.redisReplicaRegions.filter((r) => !/^[a-z]{3}$/.test(r) || r === config.region)) {
      problems.push(`gaia:fly.redisReplicaRegions has "${region}": use Fly region codes (three letters, e.g. ord, cdg) other than the primary ${config.region}.`);
    }
    if (config.redis.highAvailability && s.redisReplicaRegions.length === 0) {
      problems.push("gaia:redis.highAvailability on Fly needs Upstash read replicas: list their regions in gaia:fly.redisReplicaRegions, or set gaia:redis.highAvailability to false.");
    }
    return problems;
  },

  instanceClass: (config) => mpgPlan(config)?.name ?? String(config.instance.class),

  monthlyCost: flyMonthlyCost,

  describe(config) {
    const plan = mpgPlan(config);
    return {
      server: { vcpus: plan?.vcpus, memoryMb: plan?.memoryMb, maxConnections: plan?.connections },
      standby: "Fly's cluster (a primary and a standby on every plan)",
      tls: "require: encrypted; Fly documents no CA to verify against",
      redis: `Upstash on Fly${config.redis.highAvailability ? ", with read replicas" : ""}, over Fly's private network`,
    };
  },

  createPostgres(ctx) {
    const { config, settings: s, stateful } = ctx;
    const names = config.names;
    const clusterCommand = (name: string, role: RestoreRole) => opsCommand(name, {
      script: "fly",
      create: "postgres-apply",
      update: "postgres-apply",
      delete: "postgres-delete",
      environment: {
        GAIA_FLY_ORG: s.org,
        GAIA_FLY_CLUSTER: name,
        // `fly mpg restore <source> --pitr-time <at> --name <name>`, when the cluster is not there yet.
        ...(role.from && config.restore ? { GAIA_FLY_RESTORE_FROM: role.from, GAIA_FLY_RESTORE_AT: config.restore.at } : {}),
        GAIA_FLY_REGION: config.region,
        GAIA_FLY_PLAN: flyPlatform.instanceClass(config),
        // flyctl's plans, for reading what the API answers (ops/fly.ts planNotes).
        GAIA_FLY_PLANS: JSON.stringify(MPG_PLANS.map((p) => p.name)),
        GAIA_FLY_VOLUME_GB: String(config.instance.storageGb),
        GAIA_FLY_POSTGRES_VERSION: String(config.postgresVersion),
        GAIA_FLY_DATABASE: names.database,
        // Two users per role, one per rotation slot (components/rotation.ts); Fly makes their passwords, so a slot is
        // renewed by deleting and creating its user when its keeper (the generation it last became current at) moves.
        GAIA_FLY_USERS: flyUsers(config),
        GAIA_FLY_USER_KEEPERS: JSON.stringify(Object.fromEntries(applicationRoles(config.services).flatMap((r) => SLOTS.map((slot) => [names.loginRole(r, slot), slotGeneration(slot, generationOf(config.rotation, r))])))),
        GAIA_FLY_USER_PREFIX: `${names.database}_`,
        GAIA_FLY_DELETION_PROTECTION: config.deletionProtection && !role.released ? "on" : "off",
        GAIA_FLY_FINAL_BACKUP: config.finalSnapshot ? "on" : "off",
      },
      // Its output names the cluster and its host, never a credential; the delete reads it to
      // know whether this stack made the cluster or adopted it.
      secretOutput: false,
      previousOutput: true,
    }, role.released ? { ...stateful, protect: false } : stateful);

    // The environment's cluster, unless a restore dropped it; the restored one serves when there is one.
    const restore = config.restore;
    const original = `${names.resourcePrefix}-db`;
    // Switching back (serve: previous), the restored one is let go instead.
    const restoredServes = servingRestore(restore) !== undefined;
    const previous = restore?.previous === "drop" ? undefined : clusterCommand(original, { released: restoredServes && restore?.previous === "release" });
    const restored = restore ? clusterCommand(restoredName(original, restore), { from: original, released: !restoredServes }) : undefined;
    const cluster = restoredServes ? restored! : previous!;
    const endpoint = appliedCluster(cluster.stdout, cluster);
    return {
      host: endpoint.apply((e) => e.host),
      port: endpoint.apply((e) => e.port),
      replicaHosts: pulumi.output([]),
      // Fly serves TLS on every Managed Postgres connection but documents no CA to verify it
      // against (docs mpg/client-configuration.html.md): encrypted, not verified.
      tls: { mode: "require", ca: undefined },
      admin: undefined,
      readyResources: [cluster],
      id: endpoint.apply((e) => e.clusterId),
    };
  },

  createRedis(ctx) {
    const { config, settings: s, stateful } = ctx;
    const name = `${config.names.resourcePrefix}-redis`;
    const redis = opsCommand(name, {
      script: "fly",
      create: "redis-apply",
      update: "redis-apply",
      delete: "redis-delete",
      environment: {
        GAIA_FLY_REDIS: name,
        GAIA_FLY_ORG: s.org,
        GAIA_FLY_REGION: config.region,
        GAIA_FLY_REDIS_PLAN: UPSTASH_PAY_AS_YOU_GO,
        GAIA_FLY_REDIS_REPLICAS: JSON.stringify(config.redis.highAvailability ? s.redisReplicaRegions : []),
        GAIA_FLY_DELETION_PROTECTION: config.deletionProtection ? "on" : "off",
      },
      secretOutput: false,
      previousOutput: true,
    }, stateful);
    const endpoint = redis.stdout.apply((out) => JSON.parse(lastLine(out)) as { host: string; port: number });
    return {
      host: endpoint.apply((e) => e.host),
      port: endpoint.apply((e) => e.port),
      // Upstash on Fly is reached over Fly's private WireGuard network with redis:// (docs upstash/redis).
      tls: false,
      username: undefined,
      password: undefined,
      keyPrefix: undefined,
      readyResources: [redis],
    };
  },

  // Fly keeps no secret of ours: Managed Postgres and `fly secrets` hold the credentials.
  storeSecret: () => undefined,

  manageAccess(ctx, { postgres, redis, adminApiKey }) {
    const { config, settings: s, child } = ctx;
    const names = config.names;
    const clusterId = postgres.id!;
    const schema = opsCommand(`${names.resourcePrefix}-schema`, {
      script: "fly",
      create: "migrate",
      update: "migrate",
      environment: {
        GAIA_FLY_CLUSTER_ID: clusterId,
        GAIA_FLY_DATABASE: names.database,
        // Set again once migrations made tables (ops/fly.ts migrate).
        GAIA_FLY_USERS: flyUsers(config),
        ...(config.management.host ? { GAIA_FLY_MANAGEMENT_HOST: config.management.host } : {}),
        ...(config.management.port ? { GAIA_FLY_MANAGEMENT_PORT: String(config.management.port) } : {}),
        GAIA_ADMIN_EMAIL: config.adminEmail,
        GAIA_ADMIN_KEY_SHA256: pulumi.secret(adminApiKey.apply(sha256Hex)),
        GAIA_MIGRATIONS_DIGEST: migrationsDigest(),
      },
    }, { ...child, dependsOn: postgres.readyResources });

    const where: Record<string, pulumi.Output<string>> = {};
    for (const role of applicationRoles(config.services).filter((r) => s.apps[r])) {
      const app = s.apps[role]!;
      // The current slot's user: a rotation replaces this attachment (detach, then attach with the renewed user), the
      // secret staged, so the app's machines keep the previous user's URL, still valid, until its next deploy.
      const user = names.loginRole(role, currentSlot(generationOf(config.rotation, role)));
      opsCommand(`${names.resourcePrefix}-fly-access-${role}`, {
        script: "fly",
        create: "attach",
        delete: "detach",
        environment: {
          GAIA_FLY_ORG: s.org,
          GAIA_FLY_CLUSTER: flyClusterName(config),
          GAIA_FLY_CLUSTER_ID: clusterId,
          GAIA_FLY_APP: app,
          GAIA_FLY_USER: user,
          GAIA_FLY_DATABASE: names.database,
          GAIA_FLY_VARIABLE: DATABASE_URL,
        },
        // Another cluster or user: take the old credential away first, then attach anew
        // (attach refuses to overwrite a secret: flyctl v2/run_attach.go).
        triggers: [clusterId, user, names.database, app],
        secretOutput: false,
      }, { ...child, dependsOn: [schema], deleteBeforeReplace: true });
      where[`${names.secretPrefix}/postgres/${role}`] = pulumi.output(`${app}:${DATABASE_URL}`);
    }

    const serviceApps = config.services.map((service) => s.apps[service]!).filter(Boolean);
    opsCommand(`${names.resourcePrefix}-fly-redis-url`, {
      script: "fly",
      create: "redis-share",
      update: "redis-share",
      delete: "redis-unshare",
      environment: {
        GAIA_FLY_REDIS: `${names.resourcePrefix}-redis`,
        GAIA_FLY_APPS: JSON.stringify(serviceApps),
        GAIA_FLY_VARIABLE: REDIS_URL,
      },
      secretOutput: false,
      // The apps it set the URL on, for the next update to take it off those no longer listed.
      previousOutput: true,
    }, { ...child, dependsOn: redis.readyResources });
    where[`${names.secretPrefix}/redis`] = pulumi.output(`${serviceApps.join(",")}:${REDIS_URL}`);
    return pulumi.all(where);
  },
};

/** Each user of each application role's two slots, with its role kind, as JSON. */
function flyUsers(config: GaiaConfig): string {
  return JSON.stringify(Object.fromEntries(applicationRoles(config.services).flatMap((r) => SLOTS.map((slot) => [config.names.loginRole(r, slot), ROLE_KIND(r)]))));
}

/** The roles applications use: analytics and the services (the owner is Fly's own schema_admin). */
function applicationRoles(services: readonly string[]): string[] {
  return policyRoles(services).filter((r) => r !== "owner");
}

/** postgres-apply's last line, as the program reads it; what it could not verify (the plan the API reports) said where `pulumi up` shows it. */
export function appliedCluster(stdout: pulumi.Output<string>, cluster?: pulumi.Resource) {
  return stdout.apply((out) => {
    const applied = JSON.parse(lastLine(out)) as { clusterId: string; host: string; port: number; notes?: string[] };
    for (const note of applied.notes ?? []) void pulumi.log.warn(note, cluster);
    return applied;
  });
}

function lastLine(output: string): string {
  const lines = output.trim().split("\n");
  return lines[lines.length - 1] ?? "{}";
}
