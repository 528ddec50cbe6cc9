import { describe, expect, it } from "vitest";
import { resolveConfig, type GaiaConfig } from "../../components/config";
import { describeCost, monthlyCost } from "../../components/platforms/cost";
import { AWS_PRICES } from "../../components/platforms/aws/prices";
import { GCP_PRICES } from "../../components/platforms/gcp/prices";
import { FLY_PRICES } from "../../components/platforms/fly/prices";
import type { Price } from "../../components/platforms/shared/cost";
import { KNOWN_SERVICES, knownServicesOnly } from "../support/services";
import { PLATFORM_FIXTURES, type CloudPlatform } from "../support/stacks";

/**
 * A stack's preset on a platform, with the pools of the services the figures were written for
 * (the class depends on them: test/unit/sizing.test.ts), in the region the price tables cover
 * unless `region` says another.
 */
function configOf(stack: string, platform: CloudPlatform, more: Record<string, unknown> = {}): GaiaConfig {
  const fixture = PLATFORM_FIXTURES[platform] as { region: string; alerts?: unknown };
  return resolveConfig(stack, {
    platform,
    region: fixture.region,
    adminEmail: "a@gaia.example",
    services: [...KNOWN_SERVICES],
    [platform]: knownServicesOnly(platform),
    alerts: fixture.alerts,
    ...more,
  });
}

const line = (config: GaiaConfig, what: string) => monthlyCost(config).lines.find((l) => l.what === what)?.usd;

describe("monthly cost, from the price tables, against figures computed by hand", () => {
  it("aws: staging in us-east-1 is db.t4g.small and 50 GB of gp3, its Redis node not priced", () => {
    const config = configOf("staging", "aws");
    const cost = monthlyCost(config);
    // db.t4g.small, Single-AZ, at $0.032/h × 730 h = $23.36.
    expect(line(config, "instance")).toBeCloseTo(23.36, 10);
    // 50 GB gp3 at $0.115/GB-month = $5.75.
    expect(line(config, "storage")).toBeCloseTo(5.75, 10);
    // A full copy of the data is within the free allowance (100% of provisioned storage).
    expect(line(config, "backups")).toBe(0);
    // $23.36 + $5.75 + $0 = $29.11, a floor: ElastiCache has no verified price.
    expect(cost.total).toBeCloseTo(29.11, 10);
    expect(cost.unpriced).toEqual(["cache.t4g.small + snapshots"]);
    expect(describeCost(cost)).toBe("at least $29/month (instance $23, storage $6; unpriced: cache.t4g.small + snapshots; prices 2026-12-05, docs/costs.md)");
  });

  it("aws: Multi-AZ doubles the instance and its storage, and each read replica is a Single-AZ instance with storage of its own", () => {
    const config = configOf("dev", "aws", { highAvailability: true, replicas: 2 });
    expect(config.instance.storageGb).toBe(20);
    // db.t4g.micro Multi-AZ at 2 × $0.016/h × 730 h = $23.36.
    expect(line(config, "instance")).toBeCloseTo(23.36, 10);
    // 2 × 20 GB gp3 at $0.115/GB-month = $4.60.
    expect(line(config, "storage")).toBeCloseTo(4.6, 10);
    // 2 × ($0.016/h × 730 h + 20 GB × $0.115) = 2 × ($11.68 + $2.30) = $27.96.
    expect(line(config, "2 replica(s)")).toBeCloseTo(27.96, 10);
    // $23.36 + $4.60 + $27.96 = $55.92.
    expect(monthlyCost(config).total).toBeCloseTo(55.92, 10);
  });

  it("aws: production's db.m7g.2xlarge has no verified price, so its instance and replicas' instances are named, not guessed; their storage is priced", () => {
    const config = configOf("production", "aws");
    const cost = monthlyCost(config);
    expect(cost.lines.map((l) => l.what)).toEqual(["storage", "2 replica(s)", "backups"]);
    // Multi-AZ: 2 × 500 GB gp3 at $0.115/GB-month = $115.00.
    expect(line(config, "storage")).toBeCloseTo(115, 10);
    // Two Single-AZ replicas, each 500 GB gp3: 2 × 500 × $0.115 = $115.00; their instances not priced.
    expect(line(config, "2 replica(s)")).toBeCloseTo(115, 10);
    expect(cost.total).toBeCloseTo(230, 10);
    expect(cost.unpriced).toEqual(["db.m7g.2xlarge", "cache.m7g.large + snapshots"]);
  });

  it("gcp: production in us-central1 is db-custom-8-16384, regional, and two zonal replicas of it", () => {
    const config = configOf("production", "gcp");
    // Regional: 2 × (8 vCPU × $0.0413 + 16 GB × $0.007) × 730 h = 2 × ($0.3304 + $0.112) × 730 = 2 × $322.952 = $645.904.
    expect(line(config, "instance")).toBeCloseTo(645.904, 10);
    // 2 × ($0.4424/h × 730 h) = $645.904, their disks not priced.
    expect(line(config, "2 replica(s)")).toBeCloseTo(645.904, 10);
    const cost = monthlyCost(config);
    // $645.904 + $645.904 = $1,291.808.
    expect(cost.total).toBeCloseTo(1291.808, 10);
    expect(cost.unpriced).toEqual(["storage", "Memorystore", "backups"]);
  });

  it("fly: staging in iad is the Launch plan and 50 GB on each of its two nodes; Upstash is billed by use", () => {
    const config = configOf("staging", "fly");
    // flyctl's Launch plan: $282/month, primary and standby.
    expect(line(config, "instance")).toBe(282);
    // 2 nodes × 50 GB × $0.30 per GB for 30 days (720 h), over a 730 h month: $30 × 730 / 720 = $30.4166…
    expect(line(config, "storage")).toBeCloseTo((30 * 730) / 720, 10);
    const cost = monthlyCost(config);
    // $282 + $30.4166… = $312.4166…
    expect(cost.total).toBeCloseTo(312.41666666, 6);
    expect(cost.unpriced).toEqual([]);
    expect(cost.byUse).toEqual(["Upstash Redis, $0.20 per 100K requests"]);
    expect(describeCost(cost)).toBe("at least $312/month (instance $282, storage $30; by use: Upstash Redis, $0.20 per 100K requests; prices 2026-12-05, docs/costs.md)");
  });

  it("local: an existing server costs the stack nothing", () => {
    const config = resolveConfig("dev", { platform: "local", adminEmail: "a@gaia.example", services: [...KNOWN_SERVICES], backups: { enabled: false } });
    const cost = monthlyCost(config);
    expect(cost.total).toBe(0);
    expect(describeCost(cost)).toBe("$0/month (an existing PostgreSQL and Redis: the stack bills nothing; docs/costs.md)");
  });

  it("refuses to price a region without a table rather than borrow another region's figures", () => {
    const config = configOf("staging", "aws", { region: "us-west-2", alerts: { notify: "arn:aws:sns:us-west-2:123456789012:gaia-alerts" } });
    const cost = monthlyCost(config);
    expect(cost.lines).toEqual([]);
    expect(cost.total).toBe(0);
    expect(describeCost(cost)).toBe("no price table for us-west-2, only for us-east-1 on aws (docs/costs.md)");
  });
});

describe("price tables", () => {
  const prices: [string, Price][] = [
    ...Object.entries(AWS_PRICES).flatMap(([region, t]) => [
      ...Object.entries(t.rdsHour).map(([c, p]) => [`aws ${region} ${c}`, p] as [string, Price]),
      ...Object.entries(t.elasticacheHour).map(([c, p]) => [`aws ${region} ${c}`, p] as [string, Price]),
      [`aws ${region} gp3`, t.gp3] as [string, Price],
      [`aws ${region} backup`, t.backup] as [string, Price],
    ]),
    ...Object.entries(GCP_PRICES).flatMap(([region, t]) => [
      [`gcp ${region} vCPU`, t.vcpuHour] as [string, Price],
      [`gcp ${region} memory`, t.memoryGbHour] as [string, Price],
      ...[t.ssd, t.backup].filter((p): p is Price => p !== undefined).map((p) => [`gcp ${region} ${p.per}`, p] as [string, Price]),
      ...Object.entries(t.memorystoreGbHour).map(([tier, p]) => [`gcp ${region} ${tier}`, p] as [string, Price]),
    ]),
    ...Object.entries(FLY_PRICES).flatMap(([region, t]) => [
      ...Object.entries(t.plans).map(([plan, p]) => [`fly ${region} ${plan}`, p] as [string, Price]),
      [`fly ${region} storage`, t.storage] as [string, Price],
      [`fly ${region} upstash`, t.upstashRequests] as [string, Price],
    ]),
  ];

  it.each(prices)("%s names its source and its date", (_name, price) => {
    expect(price.usd).toBeGreaterThan(0);
    expect(price.source).toMatch(/^(https:\/\/|superfly\/)/);
    expect(price.asOf).toMatch(/^\d{4}(-\d{2}(-\d{2})?)?$/);
  });

  it("are kept for the regions the stacks and the test fixtures use, each with the date it was checked", () => {
    for (const tables of [AWS_PRICES, GCP_PRICES, FLY_PRICES]) {
      for (const table of Object.values(tables)) expect(table.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    expect(Object.keys(AWS_PRICES)).toContain(PLATFORM_FIXTURES.aws.region);
    expect(Object.keys(GCP_PRICES)).toContain(PLATFORM_FIXTURES.gcp.region);
    expect(Object.keys(FLY_PRICES)).toContain(PLATFORM_FIXTURES.fly.region);
  });
});
