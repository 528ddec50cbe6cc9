/**
 * A month of an environment in dollars, from the dated price tables each platform keeps beside
 * its code (components/platforms/<name>/prices.ts; method, sources and what is left out:
 * docs/costs.md). Every figure a table holds names where it was read and of when; a figure no
 * source gave is not in a table, and what needs it is listed as not priced, never estimated.
 */

/** Hours in the month the estimates use: 365 days × 24 h / 12, the month AWS and Google price by. */
export const HOURS_PER_MONTH = 730;

/** One figure of a price table. */
export interface Price {
  usd: number;
  /** Its unit: "hour", "GB-month", "month"… */
  per: string;
  /** Where it can be checked: a URL, or a repository's file at a commit. */
  source: string;
  /** When the source says the figure held (its own date, or the date it was read or published). */
  asOf: string;
}

/** One part of the month, with the arithmetic that gave it. */
export interface CostLine {
  what: string;
  usd: number;
  /** The arithmetic, in words: "db.t4g.small at $0.032/h × 730 h". */
  how: string;
}

/** What an environment costs a month. */
export interface MonthlyCost {
  /**
   * The sum of `lines`: the whole month only when `unpriced` and `byUse` are empty, otherwise
   * the part the tables price (a floor).
   */
  total: number;
  lines: CostLine[];
  /** What costs something the tables have no verified figure for (a class, a node type), each named once. */
  unpriced: string[];
  /** What is billed by use, which a plan cannot know: the price, in words. */
  byUse: string[];
  /** Parts counted as nothing, and why. */
  notes: string[];
  /** The date the tables' figures were checked at their sources. */
  checked?: string;
  /** Why nothing is priced at all: the stack's region has no table. */
  noTable?: string;
}

/** A cost of these parts, its total their sum. */
export function costOf(parts: { lines: CostLine[]; unpriced?: string[]; byUse?: string[]; notes?: string[]; checked?: string }): MonthlyCost {
  return {
    total: parts.lines.reduce((sum, line) => sum + line.usd, 0),
    lines: parts.lines,
    unpriced: [...new Set(parts.unpriced ?? [])],
    byUse: parts.byUse ?? [],
    notes: parts.notes ?? [],
    checked: parts.checked,
  };
}

/** Nothing priced: the region has no table, and no figure is guessed from another region's. */
export function noPriceTable(platform: string, region: string, regions: readonly string[]): MonthlyCost {
  return {
    total: 0,
    lines: [],
    unpriced: [],
    byUse: [],
    notes: [],
    noTable: `no price table for ${region}, only for ${regions.join(", ")} on ${platform}`,
  };
}

/** Dollars as the plan's summary prints them: whole, thousands separated ("$1,235"); the cents are in the lines' figures. */
export function dollars(usd: number): string {
  return `$${Math.round(usd).toLocaleString("en-US")}`;
}

/** A price as it reads in a line's arithmetic: "$0.032/h", "$0.115/GB-month". */
export function rate(price: Price): string {
  return `$${price.usd}/${price.per === "hour" ? "h" : price.per}`;
}
