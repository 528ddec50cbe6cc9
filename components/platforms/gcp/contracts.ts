import type { GaiaConfig } from "../../core/config";
import { connectionProblem, nameKeeps, replicasNeedBackups } from "../shared/contracts";
import { memoryForConnections } from "../shared/sizing";
import { MAX_CONNECTIONS, connectionsNeeded, maxConnectionsFor } from "../shared/connections";
import type { PlatformContract } from "../types";
import type { GcpSettings } from "./settings";

/**
 * Cloud SQL custom machine types: 1 or an even number of vCPUs up to 96; memory a multiple
 * of 256 MB, 0.9 to 6.5 GB per vCPU, and at least 3840 MB.
 * https://cloud.google.com/sql/docs/postgres/instance-settings (Machine types, custom).
 * Shared-core tiers (db-f1-micro, db-g1-small) are left out: no SLA, and db-f1-micro allows
 * 25 connections, fewer than one dev environment's pools.
 */
export const CLOUD_SQL_CUSTOM = { maxVcpus: 96, memoryStepMb: 256, minMemoryMb: 3840, minMbPerVcpu: 922, maxMbPerVcpu: 6656 } as const;

/**
 * The Cloud SQL tier for the configured size: a custom machine with the preset's vCPUs
 * (rounded up to an even number above 1) and memory within the rules above, raised until
 * its connection limit holds the pools. `gaia:instance.class` overrides it.
 */
export function cloudSqlTier(config: GaiaConfig): string {
  if (config.instance.class) return config.instance.class;
  const c = CLOUD_SQL_CUSTOM;
  const vcpus = config.instance.vcpus <= 1 ? 1 : Math.ceil(config.instance.vcpus / 2) * 2;
  const wanted = Math.max(memoryForConnections(config), vcpus * c.minMbPerVcpu, c.minMemoryMb);
  const memory = Math.ceil(Math.min(wanted, vcpus * c.maxMbPerVcpu) / c.memoryStepMb) * c.memoryStepMb;
  return `db-custom-${vcpus}-${memory}`;
}

/**
 * Where the pools need more memory than a custom tier of the stack's vCPUs may have (6.5 GB
 * each), raising `gaia:instance.memoryMb` changes nothing (cloudSqlTier caps it): the sentence
 * names the vCPUs that would hold the pools instead. Undefined where memory is not the cap.
 */
function cappedByVcpus(config: GaiaConfig, tier: { vcpus: number; memoryMb: number }): string | undefined {
  const needed = connectionsNeeded(config);
  if (needed > MAX_CONNECTIONS || memoryForConnections(config) <= tier.memoryMb) return undefined;
  // The fewest vCPUs whose tier (as cloudSqlTier sizes it) holds the pools.
  const holds = (vcpus: number) => {
    const sized = parseCloudSqlTier(cloudSqlTier({ ...config, instance: { ...config.instance, vcpus } }));
    return sized !== undefined && maxConnectionsFor(sized.memoryMb) >= needed;
  };
  let vcpus = Math.max(2, tier.vcpus + (tier.vcpus % 2));
  while (vcpus <= CLOUD_SQL_CUSTOM.maxVcpus && !holds(vcpus)) vcpus += 2;
  if (vcpus > CLOUD_SQL_CUSTOM.maxVcpus) return undefined;
  return `gaia:pool (${needed} connections) exceeds the ${maxConnectionsFor(tier.memoryMb)} connections of db-custom-${tier.vcpus}-${tier.memoryMb}, the most memory Cloud SQL gives ${tier.vcpus} vCPU(s) (6.5 GB each): raise gaia:instance.vcpus to ${vcpus}, or lower gaia:pool.`;
}

/** `db-custom-<vCPUs>-<MB>` parsed, or undefined when the tier is not a custom one. */
export function parseCloudSqlTier(tier: string): { vcpus: number; memoryMb: number } | undefined {
  const match = /^db-custom-(\d+)-(\d+)$/.exec(tier);
  return match ? { vcpus: Number(match[1]), memoryMb: Number(match[2]) } : undefined;
}

/** Why a custom tier is refused, or undefined when Cloud SQL accepts it. */
export function cloudSqlTierProblem(tier: string): string | undefined {
  const t = parseCloudSqlTier(tier);
  const c = CLOUD_SQL_CUSTOM;
  if (!t) return `"${tier}" is not a custom tier (db-custom-<vCPUs>-<MB>)`;
  if (t.vcpus < 1 || t.vcpus > c.maxVcpus || (t.vcpus > 1 && t.vcpus % 2 !== 0)) return `${t.vcpus} vCPUs: use 1 or an even number up to ${c.maxVcpus}`;
  if (t.memoryMb % c.memoryStepMb !== 0) return `${t.memoryMb} MB is not a multiple of ${c.memoryStepMb} MB`;
  if (t.memoryMb < c.minMemoryMb) return `${t.memoryMb} MB is below the minimum of ${c.minMemoryMb} MB`;
  if (t.memoryMb < t.vcpus * c.minMbPerVcpu || t.memoryMb > t.vcpus * c.maxMbPerVcpu) return `${t.memoryMb} MB is outside 0.9-6.5 GB per vCPU for ${t.vcpus} vCPU(s)`;
  return undefined;
}

/**
 * Cloud SQL keeps `retainedBackups` daily backups and must keep more of them than days of
 * transaction log ("backup retention should be > transaction log retention":
 * terraform-google-modules/terraform-google-sql-db PR 785). The preset's retention, raised
 * past the recovery window where the two are equal.
 */
export function cloudSqlRetainedBackups(config: GaiaConfig): number {
  const { retentionDays, pitr, pitrDays } = config.backups;
  return Math.max(retentionDays, 1, pitr ? pitrDays + 1 : 0);
}

/** The contracts a stack on gcp keeps, checked in this order (../types.ts, PlatformContract). */
export const GCP_CONTRACTS: readonly PlatformContract<GcpSettings>[] = [
  {
    platform: "gcp",
    rule: "custom tiers: 1 or an even number of vCPUs, memory in 256 MB steps, 0.9-6.5 GB per vCPU, 3840 MB or more",
    source: "https://cloud.google.com/sql/docs/postgres/instance-settings (custom machine types)",
    check: ({ instance }) => {
      const problem = instance.class && cloudSqlTierProblem(instance.class);
      return problem ? `gaia:instance.class ${problem}: Cloud SQL refuses it; use a valid db-custom tier or remove the class to let the component choose.` : undefined;
    },
  },
  {
    platform: "gcp",
    rule: "the size asked fits a custom machine: at most 96 vCPUs, at most 6.5 GB per vCPU",
    source: "https://cloud.google.com/sql/docs/postgres/instance-settings (custom machine types); CLOUD_SQL_CUSTOM above",
    check: ({ instance }) => {
      if (instance.class) return undefined;
      const c = CLOUD_SQL_CUSTOM;
      if (instance.vcpus > c.maxVcpus) return `gaia:instance.vcpus ${instance.vcpus} is more than Cloud SQL's custom machines have (${c.maxVcpus}): lower it.`;
      // cloudSqlTier's vCPUs: 1, or the even number at or above.
      const vcpus = instance.vcpus <= 1 ? 1 : Math.ceil(instance.vcpus / 2) * 2;
      if (instance.memoryMb > vcpus * c.maxMbPerVcpu) {
        const needs = Math.ceil(instance.memoryMb / c.maxMbPerVcpu);
        const fix = needs <= c.maxVcpus ? `raise gaia:instance.vcpus to ${needs <= 1 ? 1 : Math.ceil(needs / 2) * 2}, or lower memoryMb` : `lower it to ${c.maxVcpus * c.maxMbPerVcpu} MB or less`;
        return `gaia:instance.memoryMb ${instance.memoryMb} is more than Cloud SQL gives ${vcpus} vCPU(s) (6.5 GB each, ${vcpus * c.maxMbPerVcpu} MB): ${fix}.`;
      }
      return undefined;
    },
  },
  {
    platform: "gcp",
    rule: "the tier's max_connections holds every service's pool at full overflow",
    source: "https://cloud.google.com/sql/docs/postgres/flags (max_connections); the limit the component sets: maxConnectionsFor",
    check: (config) => {
      const tier = parseCloudSqlTier(cloudSqlTier(config));
      const problem = connectionProblem(config, tier?.memoryMb, "gcp");
      return problem && tier && !config.instance.class ? cappedByVcpus(config, tier) ?? problem : problem;
    },
  },
  {
    platform: "gcp",
    rule: "read replicas need automated backups on the primary",
    source: "https://cloud.google.com/sql/docs/postgres/replication/create-replica (requirements: automated backups enabled)",
    check: replicasNeedBackups,
  },
  {
    platform: "gcp",
    rule: "instance names: a letter first, letters, digits, single hyphens; Memorystore at most 40 characters",
    source: "google/cloud/redis/v1/cloud_redis.proto (Instance.name); https://cloud.google.com/sql/docs/postgres/instance-settings",
    check: nameKeeps("a Memorystore id", (c) => `${c.names.resourcePrefix}-redis`, 40),
  },
  {
    platform: "gcp",
    rule: "Memorystore instances are 1-300 GB",
    source: "https://cloud.google.com/memorystore/docs/redis/redis-tiers (capacity)",
    check: ({ redis }) => (redis.memoryMb > 300 * 1024 ? `gaia:redis.memoryMb ${redis.memoryMb} is above Memorystore's 300 GB: lower it.` : undefined),
  },
];
