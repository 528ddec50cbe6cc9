import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { POSTGRES_TUNING } from "../../stacks/presets";
import { opsCommand } from "../commands";
import { generatePassword } from "../credentials";
import { postgresClass, type MachineSize } from "./sizing";
import type { Platform } from "./types";

/**
 * Fly.io has no maintained Pulumi or Terraform provider for Postgres, so flyctl does the work,
 * driven by `ops/fly.ts` from command resources: every create adopts what already exists,
 * every resource has a delete, and flyctl's JSON output is parsed. flyctl reads
 * FLY_API_TOKEN from the environment of whoever runs `pulumi up`; it never enters the state.
 */
const settings = z
  .object({
    org: z.string().regex(/^[a-z0-9-]+$/, "must be a Fly organization slug"),
    /** Regions for read replicas, one per replica, in order; default: the primary region. */
    replicaRegions: z.array(z.string()).default([]),
    /** Apps that receive this environment's connection secrets (`fly secrets`). */
    secretsApps: z.array(z.string().regex(/^[a-z0-9-]+$/)).default([]),
  })
  .strict();

type FlySettings = z.infer<typeof settings>;

/** Machine sizes, smallest first. */
const VM_SIZES: MachineSize[] = [
  { vcpus: 1, memoryMb: 256, name: "shared-cpu-1x" },
  { vcpus: 2, memoryMb: 512, name: "shared-cpu-2x" },
  { vcpus: 4, memoryMb: 1024, name: "shared-cpu-4x" },
  { vcpus: 2, memoryMb: 4096, name: "performance-2x" },
  { vcpus: 4, memoryMb: 8192, name: "performance-4x" },
  { vcpus: 8, memoryMb: 16384, name: "performance-8x" },
  { vcpus: 16, memoryMb: 32768, name: "performance-16x" },
];

const REGIONS = [
  "ams", "arn", "bom", "cdg", "dfw", "ewr", "fra", "gru", "iad", "jnb", "lax", "lhr", "nrt", "ord", "sin", "sjc", "syd", "yyz",
];

export const flyPlatform: Platform<FlySettings> = {
  name: "fly",
  capabilities: {
    regions: REGIONS,
    postgresVersions: [15, 16, 17],
    // Barman's recovery window (`fly postgres backup config update --recovery-window`).
    pitrDays: { min: 1, max: 30 },
    retentionDays: { min: 1, max: 30 },
    maxReplicas: 8,
    highAvailability: true,
    minStorageGb: 1,
  },
  settings,

  validate(config, s) {
    const problems: string[] = [];
    for (const region of s.replicaRegions.filter((r) => !REGIONS.includes(r))) {
      problems.push(`gaia:fly.replicaRegions has "${region}", not a Fly region: use ${REGIONS.join(", ")}.`);
    }
    if (s.replicaRegions.length > 0 && s.replicaRegions.length !== config.replicas) {
      problems.push(`gaia:fly.replicaRegions lists ${s.replicaRegions.length} region(s) for ${config.replicas} replica(s): give one region per replica.`);
    }
    return problems;
  },

  instanceClass: (config) => postgresClass(config, VM_SIZES),

  createPostgres(ctx) {
    const { config, settings: s, stateful, child } = ctx;
    const app = `${config.names.resourcePrefix}-db`;
    const adminPassword = generatePassword(`${app}-admin-password`, child);
    // HA on Fly is a three-member cluster in the primary region; replicas are added elsewhere.
    const clusterSize = config.highAvailability ? 3 : 1;
    const cluster = opsCommand(`${app}-cluster`, {
      script: "fly",
      create: "postgres-apply",
      update: "postgres-apply",
      delete: "postgres-delete",
      environment: {
        GAIA_FLY_APP: app,
        GAIA_FLY_ORG: s.org,
        GAIA_FLY_REGION: config.region,
        GAIA_FLY_VM_SIZE: flyPlatform.instanceClass(config),
        GAIA_FLY_VOLUME_GB: String(config.instance.storageGb),
        GAIA_FLY_CLUSTER_SIZE: String(clusterSize),
        GAIA_FLY_REPLICA_REGIONS: JSON.stringify(
          s.replicaRegions.length ? s.replicaRegions : Array.from({ length: config.replicas }, () => config.region),
        ),
        GAIA_FLY_POSTGRES_VERSION: String(config.postgresVersion),
        GAIA_FLY_BACKUPS: config.backups.enabled ? "on" : "off",
        GAIA_FLY_RECOVERY_WINDOW_DAYS: String(config.backups.pitr ? config.backups.pitrDays : config.backups.retentionDays),
        GAIA_FLY_TUNING: JSON.stringify(POSTGRES_TUNING),
        GAIA_FLY_DELETION_PROTECTION: config.deletionProtection ? "on" : "off",
        GAIA_FLY_FINAL_SNAPSHOT: config.finalSnapshot ? "on" : "off",
        GAIA_FLY_ADMIN_PASSWORD: adminPassword,
      },
    }, stateful);
    const endpoint = cluster.stdout.apply((out) => JSON.parse(lastLine(out)) as { host: string; port: number; replicaHosts: string[] });
    return {
      host: endpoint.apply((e) => e.host),
      port: endpoint.apply((e) => e.port),
      replicaHosts: endpoint.apply((e) => e.replicaHosts),
      tls: { mode: "require", ca: undefined },
      adminUsername: "postgres",
      adminPassword,
      adminIsSuperuser: true,
      readyResources: [cluster],
    };
  },

  createRedis(ctx) {
    const { config, settings: s, stateful } = ctx;
    const name = `${config.names.resourcePrefix}-redis`;
    const redis = opsCommand(`${name}`, {
      script: "fly",
      create: "redis-apply",
      update: "redis-apply",
      delete: "redis-delete",
      environment: {
        GAIA_FLY_REDIS: name,
        GAIA_FLY_ORG: s.org,
        GAIA_FLY_REGION: config.region,
        GAIA_FLY_REDIS_REPLICAS: config.redis.highAvailability ? JSON.stringify(s.replicaRegions.slice(0, 1)) : "[]",
        GAIA_FLY_DELETION_PROTECTION: config.deletionProtection ? "on" : "off",
      },
    }, stateful);
    // The script prints the private URL's parts as its last line; stdout is secret in state.
    const endpoint = redis.stdout.apply((out) => JSON.parse(lastLine(out)) as { host: string; port: number; password: string });
    return {
      host: endpoint.apply((e) => e.host),
      port: endpoint.apply((e) => e.port),
      tls: false,
      username: pulumi.output("default"),
      password: pulumi.secret(endpoint.apply((e) => e.password)),
      keyPrefix: undefined,
    };
  },

  storeSecret({ config, settings: s, child }, { name, value }) {
    if (s.secretsApps.length === 0) return undefined;
    const variable = secretVariable(name, config.names.secretPrefix);
    const path = name.slice(config.names.secretPrefix.length + 1).replace(/\//g, "-");
    opsCommand(`${config.names.resourcePrefix}-fly-secret-${path}`, {
      script: "fly",
      create: "secret-set",
      update: "secret-set",
      delete: "secret-unset",
      environment: {
        GAIA_FLY_APPS: JSON.stringify(s.secretsApps),
        GAIA_FLY_SECRET_NAME: variable,
        GAIA_FLY_SECRET_VALUE: value,
      },
    }, child);
    return pulumi.output(`${s.secretsApps.join(",")}:${variable}`);
  },
};

/** `gaia/dev/postgres/chat` -> `GAIA_POSTGRES_CHAT`: the app's environment variable. */
export function secretVariable(name: string, prefix: string): string {
  return `GAIA_${name.slice(prefix.length + 1).replace(/[^a-zA-Z0-9]+/g, "_").toUpperCase()}`;
}

function lastLine(output: string): string {
  const lines = output.trim().split("\n");
  return lines[lines.length - 1] ?? "{}";
}
