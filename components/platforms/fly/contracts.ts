import type { GaiaConfig } from "../../core/config";
import { connectionsNeeded } from "../shared/connections";
import type { MachineSize } from "../shared/sizing";
import type { PlatformContract } from "../types";
import type { FlySettings } from "./settings";

/**
 * Fly Managed Postgres plans (flyctl internal/command/mpg/plans.go: CPU and memory; docs
 * mpg/client-configuration.html.md: PgBouncer's database connections and reserve per plan,
 * the cap in its default session mode, where each client holds a server connection). Every plan runs
 * a primary and a standby ("All plans include high availability", docs mpg/index.html.md).
 * `selectable: false`: flyctl cannot choose it without a terminal: plans.go keys it
 * "Performance" while create.go lowercases --plan, and a plan it cannot match silently
 * becomes Basic when no terminal is attached.
 */
export const MPG_PLANS: readonly (MachineSize & { vcpus: number; connections: number; selectable: boolean })[] = [
  { name: "basic", vcpus: 2, memoryMb: 1024, connections: 50 + 10, selectable: true },
  { name: "starter", vcpus: 2, memoryMb: 2048, connections: 50 + 10, selectable: true },
  { name: "launch", vcpus: 2, memoryMb: 8192, connections: 150 + 30, selectable: true },
  { name: "scale", vcpus: 4, memoryMb: 32768, connections: 300 + 50, selectable: true },
  { name: "performance", vcpus: 8, memoryMb: 65536, connections: 300 + 50, selectable: false },
];

/** Regions Managed Postgres runs in (docs mpg/index.html.md; the API's list is authoritative at create). */
export const MPG_REGIONS = ["ams", "fra", "gru", "iad", "lax", "lhr", "nrt", "ord", "sin", "sjc", "syd", "yyz"];

/** `fly mpg create --pg-major-version`: 16 or 17 (flyctl internal/command/mpg/create.go). */
export const MPG_POSTGRES_VERSIONS = [16, 17];

/** `--volume-size` at creation: up to 500 GB; a cluster grows to 1 TB at most (docs mpg/index.html.md, Storage). */
export const MPG_STORAGE = { maxInitialGb: 500, maxGb: 1000 } as const;

/** The plan for the configured size, big enough for the pools; `gaia:instance.class` names one directly. */
export function mpgPlan(config: GaiaConfig): (typeof MPG_PLANS)[number] | undefined {
  if (config.instance.class) return MPG_PLANS.find((p) => p.name === config.instance.class);
  const needed = connectionsNeeded(config);
  const fits = (p: (typeof MPG_PLANS)[number]) => p.vcpus >= config.instance.vcpus && p.memoryMb >= config.instance.memoryMb && p.connections >= needed;
  return MPG_PLANS.find(fits) ?? MPG_PLANS[MPG_PLANS.length - 1];
}

/** The contracts a stack on fly keeps, checked in this order (../types.ts, PlatformContract). */
export const FLY_CONTRACTS: readonly PlatformContract<FlySettings>[] = [
  {
    platform: "fly",
    rule: "the size maps onto a Managed Postgres plan flyctl can select",
    source: "flyctl internal/command/mpg/plans.go and create.go (normalizePlan, non-interactive fallback to Basic)",
    check: (config) => {
      const plan = mpgPlan(config);
      if (!plan) return `gaia:instance.class "${config.instance.class}" is not a Fly Managed Postgres plan: use one of ${MPG_PLANS.map((p) => p.name).join(", ")}, or remove it.`;
      if (plan.selectable) return undefined;
      return (
        `gaia:instance (${config.instance.vcpus} vCPUs, ${config.instance.memoryMb} MB) needs Fly's ${plan.name} plan, which flyctl cannot select without a terminal ` +
        `(it would silently create a Basic cluster): lower gaia:instance.vcpus to 4 and gaia:instance.memoryMb to 32768 or less for the Scale plan.`
      );
    },
  },
  {
    platform: "fly",
    rule: "Managed Postgres creates at most 500 GB and grows to 1 TB",
    source: "Fly docs mpg/index.html.md (Storage: initial size up to 500 GB, maximum 1 TB)",
    check: ({ instance }) =>
      instance.storageGb > MPG_STORAGE.maxInitialGb
        ? `gaia:instance.storageGb ${instance.storageGb} is more than Fly Managed Postgres creates (${MPG_STORAGE.maxInitialGb} GB): lower it.`
        : instance.maxStorageGb > MPG_STORAGE.maxGb
          ? `gaia:instance.maxStorageGb ${instance.maxStorageGb} is more than a Fly Managed Postgres cluster holds (${MPG_STORAGE.maxGb} GB): lower it.`
          : undefined,
  },
  {
    platform: "fly",
    rule: "PgBouncer's database connections (and reserve) of the plan hold every service's pool at full overflow",
    source: "Fly docs mpg/client-configuration.html.md (Max database connections and reserve pool per plan; session mode by default)",
    check: (config) => {
      const plan = mpgPlan(config);
      const needed = connectionsNeeded(config);
      return plan && needed > plan.connections
        ? `gaia:pool needs ${needed} connections, more than the ${plan.connections} database connections of Fly's ${plan.name} plan: lower gaia:pool, or name a larger plan in gaia:instance.class.`
        : undefined;
    },
  },
  {
    platform: "fly",
    rule: "Managed Postgres grants by role kind, not per table",
    source: "Fly docs mpg/cluster-configuration.html.md (Users and Roles: schema_admin, writer, reader); flyctl internal/command/mpg/users.go",
    // Without parsed settings their own problems are reported instead.
    check: (_config, settings) => {
      return !settings || settings.acceptCoarseRoles
        ? undefined
        : "gaia:fly.acceptCoarseRoles is not true: Fly Managed Postgres gives each user a role kind over every table (schema_admin, writer, reader), so services would write every table and analytics would read credential columns; set it to true to accept that, or use aws, gcp or local for the per-table policy.";
    },
  },
];
