import type { GaiaConfig } from "../core/config";
import { PLATFORMS, platformOf, type Platforms } from ".";
import { dollars, type MonthlyCost } from "./shared/cost";

export type { CostLine, MonthlyCost, Price } from "./shared/cost";

/**
 * What the environment costs a month: instance, storage, replicas, Redis and backups beyond the
 * free allowance, from its platform's dated price tables (components/platforms/<name>/prices.ts;
 * method, sources and what is not counted: docs/costs.md). A platform without tables gets a
 * cost that says so rather than a figure.
 */
export function monthlyCost(config: GaiaConfig, platforms: Platforms = PLATFORMS): MonthlyCost {
  return (
    platformOf(config, platforms).monthlyCost(config) ?? {
      total: 0,
      lines: [],
      unpriced: [],
      byUse: [],
      notes: [],
      noTable: `no price tables for platform ${config.platform}`,
    }
  );
}

/**
 * The cost in one line of the plan's summary: the total (a floor, "at least", where a part has
 * no figure), each part, what has no verified price or is billed by use, and the date of the
 * prices.
 */
export function describeCost(cost: MonthlyCost): string {
  if (cost.noTable) return `${cost.noTable} (docs/costs.md)`;
  const floor = cost.unpriced.length > 0 || cost.byUse.length > 0;
  // A line that bills nothing (backups within the free allowance) is in the arithmetic, not the summary.
  const parts = cost.lines.filter((l) => l.usd > 0).map((l) => `${l.what} ${dollars(l.usd)}`);
  const gaps = [
    ...(cost.unpriced.length ? [`unpriced: ${cost.unpriced.join(", ")}`] : []),
    ...(cost.byUse.length ? [`by use: ${cost.byUse.join(", ")}`] : []),
  ];
  // Where nothing is billed (an existing server), why.
  const why = parts.length || gaps.length ? [] : cost.notes;
  const inside = [parts.join(", "), ...gaps, ...why, `${cost.checked ? `prices ${cost.checked}, ` : ""}docs/costs.md`].filter(Boolean).join("; ");
  return `${floor ? "at least " : ""}${dollars(cost.total)}/month (${inside})`;
}
