import type { GaiaConfig } from "../../core/config";
import { HOURS_PER_MONTH, costOf, noPriceTable, rate, type CostLine, type MonthlyCost, type Price } from "../shared/cost";
import { cloudSqlRetainedBackups, cloudSqlTier, parseCloudSqlTier } from "./contracts";

/**
 * Google Cloud prices, per region, for what the component creates: Cloud SQL for PostgreSQL
 * Enterprise edition (vCPU and memory per hour), its SSD storage and backups, Memorystore for
 * Redis. Only figures read at a source are here (docs/costs.md); what has none is reported as not
 * priced. A region without a table is not priced at all.
 */
export interface GcpPrices {
  /** The date the figures were checked at their sources. */
  checked: string;
  /** Cloud SQL Enterprise edition, zonal, per vCPU-hour and per GB of memory per hour. */
  vcpuHour: Price;
  memoryGbHour: Price;
  /** SSD storage per GB-month (zonal); undefined where no source gave it. */
  ssd?: Price;
  /** Backup storage per GB-month; undefined where no source gave it. */
  backup?: Price;
  /** Memorystore for Redis per GB-hour, by tier (BASIC, STANDARD_HA) and capacity; empty where no source gave it. */
  memorystoreGbHour: Readonly<Record<string, Price>>;
}

/** https://www.usage.ai/blogs/gcp/cloud-sql/pricing/: "All rates are for us-central1 (Iowa), May 2026". */
const USAGE_AI_CLOUD_SQL = "https://www.usage.ai/blogs/gcp/cloud-sql/pricing/ (\"All rates are for us-central1 (Iowa), May 2026\", from https://cloud.google.com/sql/pricing)";

export const GCP_PRICES: Readonly<Record<string, GcpPrices>> = {
  "us-central1": {
    checked: "2026-12-05",
    vcpuHour: { usd: 0.0413, per: "vCPU-hour", source: USAGE_AI_CLOUD_SQL, asOf: "2026-05" },
    memoryGbHour: { usd: 0.007, per: "GB-hour", source: USAGE_AI_CLOUD_SQL, asOf: "2026-05" },
    // SSD storage, backups and Memorystore: no page in reach gave the figures (docs/costs.md, "Not verified, so not in the tables").
    memorystoreGbHour: {},
  },
};

/**
 * A regional (HA) instance is billed as two: its standby in another zone is the same machine
 * ("High availability configurations effectively double the base pricing by provisioning a
 * standby instance in a separate zone": docs/costs.md names the page; Cloud SQL's pricing page
 * lists the regional rates at twice the zonal ones).
 */
const HA_COPIES = 2;

/** The month of an environment on Google Cloud, from the region's table. */
export function gcpMonthlyCost(config: GaiaConfig): MonthlyCost {
  const prices = GCP_PRICES[config.region];
  if (!prices) return noPriceTable("gcp", config.region, Object.keys(GCP_PRICES));
  const lines: CostLine[] = [];
  const unpriced: string[] = [];
  const notes: string[] = [];
  const tier = cloudSqlTier(config);
  const size = parseCloudSqlTier(tier);
  const copies = config.highAvailability ? HA_COPIES : 1;
  const storageGb = config.instance.storageGb;
  // Cloud SQL prices memory per GB; a custom tier names it in MB (1 GB = 1024 MB).
  const perHour = size && size.vcpus * prices.vcpuHour.usd + (size.memoryMb / 1024) * prices.memoryGbHour.usd;
  const machine = size && `${size.vcpus} vCPU at ${rate(prices.vcpuHour)} + ${size.memoryMb / 1024} GB at ${rate(prices.memoryGbHour)}`;

  if (perHour !== undefined) {
    lines.push({
      what: "instance",
      usd: copies * perHour * HOURS_PER_MONTH,
      how: `${tier}${config.highAvailability ? " regional (HA)" : ""}: ${copies > 1 ? `${copies} × ` : ""}(${machine}) × ${HOURS_PER_MONTH} h`,
    });
  } else {
    // Shared-core and predefined tiers are priced per tier, which the table does not hold.
    unpriced.push(tier);
  }
  if (prices.ssd) {
    lines.push({ what: "storage", usd: copies * storageGb * prices.ssd.usd, how: `${copies > 1 ? `${copies} × ` : ""}${storageGb} GB SSD at ${rate(prices.ssd)}` });
  } else {
    unpriced.push("storage");
  }
  if (config.replicas > 0) {
    // Each replica: a zonal instance of the primary's tier, with an SSD disk of its own.
    if (perHour !== undefined) {
      lines.push({
        what: `${config.replicas} replica(s)`,
        usd: config.replicas * (perHour * HOURS_PER_MONTH + (prices.ssd ? storageGb * prices.ssd.usd : 0)),
        how: `${config.replicas} × (${machine}) × ${HOURS_PER_MONTH} h${prices.ssd ? ` + ${storageGb} GB SSD at ${rate(prices.ssd)}` : ", their SSD storage not priced"}`,
      });
    } else {
      unpriced.push(tier);
    }
  }

  const redisTier = config.redis.highAvailability ? "STANDARD_HA" : "BASIC";
  const redisGb = Math.max(1, Math.ceil(config.redis.memoryMb / 1024));
  const redis = prices.memorystoreGbHour[redisTier];
  if (redis) {
    lines.push({ what: "Redis", usd: redisGb * redis.usd * HOURS_PER_MONTH, how: `Memorystore ${redisTier} ${redisGb} GB at ${rate(redis)} × ${HOURS_PER_MONTH} h` });
  } else {
    unpriced.push("Memorystore");
  }

  if (config.backups.enabled) {
    if (prices.backup) {
      // Backups are incremental after the first; the first, a full copy of the data, is what the
      // allocation bounds. The changes the later ones keep depend on use.
      lines.push({ what: "backups", usd: storageGb * prices.backup.usd, how: `a full copy of up to ${storageGb} GB at ${rate(prices.backup)}; the ${cloudSqlRetainedBackups(config) - 1} incremental backup(s) after it depend on use` });
    } else {
      unpriced.push("backups");
    }
  } else {
    notes.push("backups: none kept");
  }
  return costOf({ lines, unpriced, notes, checked: prices.checked });
}
