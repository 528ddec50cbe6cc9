import type { GaiaConfig } from "../../core/config";
import { HOURS_PER_MONTH, costOf, noPriceTable, type CostLine, type MonthlyCost, type Price } from "../shared/cost";
import { mpgPlan } from "./contracts";

/**
 * Fly.io prices for what the component creates: a Managed Postgres cluster (its plan, a monthly
 * price that includes the primary and its standby, and its storage on every node) and an Upstash
 * Redis database on the pay-as-you-go plan, billed by requests. flyctl prints one price per plan
 * whatever the region, but Fly's docs say the price depends on the region too: the table is kept
 * for the region the stacks use, and others are not priced (docs/costs.md).
 */
export interface FlyPrices {
  /** The date the figures were checked at their sources. */
  checked: string;
  /** Managed Postgres plans, per month (primary and standby). */
  plans: Readonly<Record<string, Price>>;
  /** Managed Postgres storage, per GB for a 30-day month, on each node. */
  storage: Price;
  /** Upstash Redis pay-as-you-go, per 100K requests. */
  upstashRequests: Price;
}

/** flyctl's table of plans, at the commit of the mirror read (the file last changed in 7b1f841, 2025-10-14). */
const FLYCTL_PLANS = "superfly/flyctl internal/command/mpg/plans.go (MPGPlans, PricePerMo) at ad0172face303b77584eea95b46fa3ddc61d5ddd";
const MPG_OVERVIEW = "superfly/docs mpg/overview.html.md, Pricing (\"$0.30 per GB for a 30-day month, with each node (primary + replica) incurring its own cost\") at 01a85f1";
const UPSTASH_ON_FLY = "superfly/docs upstash/redis.html.md, Pricing (\"pay-as-you-go plan at $0.20 per 100k requests\") at 0b6be61";

const plan = (usd: number): Price => ({ usd, per: "month", source: FLYCTL_PLANS, asOf: "2025-10-14" });

export const FLY_PRICES: Readonly<Record<string, FlyPrices>> = {
  iad: {
    checked: "2026-12-05",
    plans: { basic: plan(38), starter: plan(72), launch: plan(282), scale: plan(962), performance: plan(1922) },
    storage: { usd: 0.3, per: "GB per 30-day month", source: MPG_OVERVIEW, asOf: "2026-12-05" },
    upstashRequests: { usd: 0.2, per: "100K requests", source: UPSTASH_ON_FLY, asOf: "2026-12-05" },
  },
};

/** Every plan runs a primary and a standby ("All plans include high availability", Fly docs mpg/index.html.md), each with its storage. */
const NODES = 2;
/** Hours in the 30-day month Fly prices storage by. */
const STORAGE_MONTH_HOURS = 30 * 24;

/** The month of an environment on Fly.io, from the region's table. */
export function flyMonthlyCost(config: GaiaConfig): MonthlyCost {
  const prices = FLY_PRICES[config.region];
  if (!prices) return noPriceTable("fly", config.region, Object.keys(FLY_PRICES));
  const lines: CostLine[] = [];
  const unpriced: string[] = [];
  const name = mpgPlan(config)?.name ?? String(config.instance.class);
  const price = prices.plans[name];
  if (price) {
    lines.push({ what: "instance", usd: price.usd, how: `Managed Postgres ${name} plan (primary and standby) at $${price.usd}/month` });
  } else {
    unpriced.push(name);
  }
  const storageGb = config.instance.storageGb;
  lines.push({
    what: "storage",
    usd: (NODES * storageGb * prices.storage.usd * HOURS_PER_MONTH) / STORAGE_MONTH_HOURS,
    how: `${NODES} nodes × ${storageGb} GB at $${prices.storage.usd} per GB for 30 days, × ${HOURS_PER_MONTH} h / ${STORAGE_MONTH_HOURS} h`,
  });
  return costOf({
    lines,
    unpriced,
    byUse: [`Upstash Redis, $${prices.upstashRequests.usd.toFixed(2)} per 100K requests`],
    notes: [
      "replicas: Managed Postgres has none",
      "backups: Managed Postgres takes them and Fly's docs name no separate price",
    ],
    checked: prices.checked,
  });
}
