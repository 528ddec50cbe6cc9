import type { GaiaConfig } from "../../core/config";
import { HOURS_PER_MONTH, costOf, noPriceTable, rate, type CostLine, type MonthlyCost, type Price } from "../shared/cost";
import { postgresClass, smallestFitting } from "../shared/sizing";
import { ELASTICACHE_NODES, RDS_CLASSES } from "./contracts";

/**
 * AWS on-demand prices, per region, for what the component creates: RDS for PostgreSQL instances
 * (Single-AZ, per hour), gp3 storage, backup storage beyond the free allowance, ElastiCache nodes.
 * Only figures read at a source are here (docs/costs.md says how each was checked); a class the
 * table lacks is reported as not priced. A region without a table is not priced at all.
 */
export interface AwsPrices {
  /** The date the figures were checked at their sources. */
  checked: string;
  /** RDS for PostgreSQL, Single-AZ, per instance-hour. */
  rdsHour: Readonly<Record<string, Price>>;
  /** gp3 storage, per GB-month. */
  gp3: Price;
  /** Automated backup storage beyond the free allowance, per GB-month. */
  backup: Price;
  /** ElastiCache (Redis OSS) node, per node-hour. */
  elasticacheHour: Readonly<Record<string, Price>>;
}

/** https://infratally.com/articles/aws-rds-pricing-explained-2026.html, its us-east-1 table ("Single-AZ / hr"). */
const INFRATALLY = "https://infratally.com/articles/aws-rds-pricing-explained-2026.html (us-east-1 t4g table, Single-AZ / hr)";
/** https://www.usage.ai/blogs/aws/reserved-instances/rds/pricing-calculator/: "All rates: US East (N. Virginia), June 2026". */
const USAGE_AI_RDS = "https://www.usage.ai/blogs/aws/reserved-instances/rds/pricing-calculator/ (\"All rates: US East (N. Virginia), June 2026\", from https://aws.amazon.com/rds/pricing/)";

export const AWS_PRICES: Readonly<Record<string, AwsPrices>> = {
  "us-east-1": {
    checked: "2026-12-05",
    rdsHour: {
      "db.t4g.micro": { usd: 0.016, per: "hour", source: INFRATALLY, asOf: "2026" },
      "db.t4g.small": { usd: 0.032, per: "hour", source: INFRATALLY, asOf: "2026" },
      "db.t4g.medium": { usd: 0.065, per: "hour", source: INFRATALLY, asOf: "2026" },
      // db.m7g.*: no page in reach gave the figure (docs/costs.md, "Not verified, so not in the tables"), so none is here.
    },
    gp3: { usd: 0.115, per: "GB-month", source: USAGE_AI_RDS, asOf: "2026-06" },
    // The page gives it as "~$0.095/GB-month"; only the arithmetic of changes beyond the allowance would use it.
    backup: { usd: 0.095, per: "GB-month", source: USAGE_AI_RDS, asOf: "2026-06" },
    // No ElastiCache node price was found at a page in reach (docs/costs.md, "Not verified, so not in the tables").
    elasticacheHour: {},
  },
};

/**
 * What RDS bills for Multi-AZ: "Compute costs: Billed per DB instance-hour for both the primary
 * and standby instances. Storage costs: Charged per GB-month for the storage provisioned for
 * both the primary and standby" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_OnDemandDBInstances.html).
 */
const MULTI_AZ_COPIES = 2;

/** The month of an environment on AWS, from the region's table. */
export function awsMonthlyCost(config: GaiaConfig): MonthlyCost {
  const prices = AWS_PRICES[config.region];
  if (!prices) return noPriceTable("aws", config.region, Object.keys(AWS_PRICES));
  const lines: CostLine[] = [];
  const unpriced: string[] = [];
  const notes: string[] = [];
  const instanceClass = postgresClass(config, RDS_CLASSES);
  const hourly = prices.rdsHour[instanceClass];
  const copies = config.highAvailability ? MULTI_AZ_COPIES : 1;
  const multiAz = config.highAvailability ? " Multi-AZ" : "";
  const storageGb = config.instance.storageGb;

  if (hourly) {
    lines.push({
      what: "instance",
      usd: copies * hourly.usd * HOURS_PER_MONTH,
      how: `${instanceClass}${multiAz} at ${copies > 1 ? `${copies} × ` : ""}${rate(hourly)} × ${HOURS_PER_MONTH} h`,
    });
  } else {
    unpriced.push(instanceClass);
  }
  lines.push({
    what: "storage",
    usd: copies * storageGb * prices.gp3.usd,
    how: `${copies > 1 ? `${copies} × ` : ""}${storageGb} GB gp3 at ${rate(prices.gp3)} (its first allocation; autoscaling may grow it to ${config.instance.maxStorageGb} GB)`,
  });
  if (config.replicas > 0) {
    // Each replica is a Single-AZ instance of the primary's class with storage of its own: the
    // storage is priced even where the class is not.
    lines.push({
      what: `${config.replicas} replica(s)`,
      usd: config.replicas * ((hourly ? hourly.usd * HOURS_PER_MONTH : 0) + storageGb * prices.gp3.usd),
      how: `${config.replicas} × (${hourly ? `${instanceClass} at ${rate(hourly)} × ${HOURS_PER_MONTH} h + ` : ""}${storageGb} GB gp3 at ${rate(prices.gp3)})`,
    });
    if (!hourly && !unpriced.includes(instanceClass)) unpriced.push(instanceClass);
  }

  const node = smallestFitting(ELASTICACHE_NODES, { memoryMb: config.redis.memoryMb });
  const nodes = config.redis.highAvailability ? 2 : 1;
  const nodeHourly = prices.elasticacheHour[node];
  if (nodeHourly) {
    lines.push({ what: "Redis", usd: nodes * nodeHourly.usd * HOURS_PER_MONTH, how: `${nodes} × ${node} at ${rate(nodeHourly)} × ${HOURS_PER_MONTH} h` });
  } else {
    unpriced.push(config.backups.enabled ? `${node} + snapshots` : node);
  }

  if (config.backups.enabled) {
    // Free up to 100% of the region's provisioned storage: a full copy of data that fits in its
    // allocation fits in the allowance; what the recovery window adds beyond it is the data
    // changed in that window, which depends on use and is not estimated.
    const days = Math.max(config.backups.retentionDays, config.backups.pitrDays);
    lines.push({
      what: "backups",
      usd: 0,
      how: `a full copy of up to ${storageGb} GB is within the free allowance (100% of provisioned storage); the data changed over ${days} day(s) beyond it, at ${rate(prices.backup)}, depends on use`,
    });
    // ElastiCache keeps a snapshot a day for the retention period: no verified price for their storage.
    if (nodeHourly) unpriced.push(`${node} snapshots`);
  } else {
    notes.push("backups: none kept");
  }
  return costOf({ lines, unpriced, notes, checked: prices.checked });
}

