import { describe, expect, it } from "vitest";
import { CONTRACTS, platformOf } from "../../components/platforms";
import { AWS_REGIONS, ELASTICACHE_AUTH_TOKEN } from "../../components/platforms/aws/contracts";
import { cloudSqlRetainedBackups, cloudSqlTier, cloudSqlTierProblem } from "../../components/platforms/gcp/contracts";
import { identifierProblem } from "../../components/platforms/shared/contracts";
import { rdsRootCas } from "../../components/tls";
import { GaiaConfigError, decodeStackConfig, resolveConfig, type GaiaConfig } from "../../components/config";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { poolConnections } from "../support/services";
import { CLOUD_PLATFORMS, byType, one, planOn, stackOn } from "../support/stacks";

const STACKS = ["dev", "staging", "production"] as const;

function configOn(stack: string, platform: (typeof CLOUD_PLATFORMS)[number], overrides: Record<string, unknown> = {}): GaiaConfig {
  return resolveConfig(stack, { ...decodeStackConfig(stackOn(stack, platform)), ...overrides });
}

function refusal(stack: string, platform: (typeof CLOUD_PLATFORMS)[number], overrides: Record<string, unknown>): string[] {
  try {
    configOn(stack, platform, overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(GaiaConfigError);
    return (error as GaiaConfigError).problems;
  }
  return [];
}

describe("platform contracts", () => {
  it("name a source for every rule", () => {
    for (const contract of CONTRACTS) expect(contract.source, contract.rule).toMatch(/\S{10,}/);
  });

  describe.each(CLOUD_PLATFORMS)("on %s", (platform) => {
    it.each(STACKS)("hold for the %s stack file, every contract checked", (stack) => {
      const config = configOn(stack, platform);
      const rows = CONTRACTS.filter((c) => c.platform === platform);
      for (const row of rows) expect(row.check(config), row.rule).toBeUndefined();
      expect(platformOf(config).contractProblems(config, config.platformSettings)).toEqual([]);
    });
  });

  const refusals: [string, string, (typeof CLOUD_PLATFORMS)[number], Record<string, unknown>, string][] = [
    [
      "RDS storage autoscaling without 10% headroom",
      "staging", "aws", { instance: { storageGb: 100, maxStorageGb: 105 } },
      "gaia:instance.maxStorageGb 105 is less than 10% above gaia:instance.storageGb 100: RDS refuses it; raise maxStorageGb to at least 110.",
    ],
    [
      "RDS storage above gp3's limit",
      "staging", "aws", { instance: { maxStorageGb: 70000 } },
      "gaia:instance.maxStorageGb 70000 is above RDS's 65536 GiB: lower it.",
    ],
    [
      "read replicas of a primary without backups",
      "staging", "aws", { replicas: 1, backups: { enabled: false, pitr: false } },
      "gaia:replicas 1 needs backups on the primary: set gaia:backups.enabled to true, or gaia:replicas to 0.",
    ],
    [
      "a recovery window beyond RDS's retention",
      "staging", "aws", { backups: { retentionDays: 2, pitrDays: 3 } },
      "gaia:backups.pitrDays 3 exceeds gaia:backups.retentionDays 2: on RDS the recovery window is the retention period; raise retentionDays.",
    ],
    [
      "pools an explicit RDS class cannot hold",
      "staging", "aws", { instance: { class: "db.t4g.micro" }, pool: { size: 20, maxOverflow: 20 } },
      // 130 connections for chat, assets and auth; 1024 MB leave PostgreSQL 665 MB (90% less 256), 73 connections.
      `gaia:pool (20 + 20 overflow for ${SERVICE_ROLE_NAMES.length} service(s), plus 10 reserved: ${poolConnections({ size: 20, maxOverflow: 20 })} connections) exceeds the 73 connections of 1024 MB on aws: raise gaia:instance.memoryMb (or the class), or lower gaia:pool.`,
    ],
    [
      "a Cloud SQL custom tier below 3840 MB",
      "staging", "gcp", { instance: { class: "db-custom-2-2048" } },
      "gaia:instance.class 2048 MB is below the minimum of 3840 MB: Cloud SQL refuses it; use a valid db-custom tier or remove the class to let the component choose.",
    ],
    [
      "a Cloud SQL custom tier with an odd vCPU count",
      "staging", "gcp", { instance: { class: "db-custom-3-7680" } },
      "gaia:instance.class 3 vCPUs: use 1 or an even number up to 96: Cloud SQL refuses it; use a valid db-custom tier or remove the class to let the component choose.",
    ],
    [
      "a shared-core Cloud SQL tier",
      "dev", "gcp", { instance: { class: "db-f1-micro" } },
      'gaia:instance.class "db-f1-micro" is not a custom tier (db-custom-<vCPUs>-<MB>): Cloud SQL refuses it; use a valid db-custom tier or remove the class to let the component choose.',
    ],
    [
      "pools a Cloud SQL tier cannot hold",
      "production", "gcp", { instance: { class: "db-custom-1-3840" }, pool: { size: 200, maxOverflow: 0 } },
      // 610 connections for chat, assets and auth; 3840 MB leave PostgreSQL 3200 MB, 352 connections.
      `gaia:pool (200 + 0 overflow for ${SERVICE_ROLE_NAMES.length} service(s), plus 10 reserved: ${poolConnections({ size: 200, maxOverflow: 0 })} connections) exceeds the 352 connections of 3840 MB on gcp: raise gaia:instance.memoryMb (or the class), or lower gaia:pool.`,
    ],
    [
      "RDS storage growing more than 5-fold, past what the storage alarm can warn of in time",
      "staging", "aws", { instance: { storageGb: 20, maxStorageGb: 1000 } },
      "gaia:instance.maxStorageGb 1000 is more than 5 times gaia:instance.storageGb 20: the storage alarm, which can tell the ceiling only by free space under 10% of the first allocation, would warn too late; raise storageGb to at least 200 or lower maxStorageGb.",
    ],
    [
      "pools more than any RDS class holds (the class search once ran for ever)",
      "staging", "aws", { pool: { size: 2000, maxOverflow: 0 } },
      `gaia:pool (2000 + 0 overflow for ${SERVICE_ROLE_NAMES.length} service(s), plus 10 reserved: ${poolConnections({ size: 2000, maxOverflow: 0 })} connections) exceeds the 5000 connections of the largest server on aws: lower gaia:pool.`,
    ],
    [
      "pools more than any Cloud SQL tier holds",
      "staging", "gcp", { pool: { size: 2000, maxOverflow: 0 } },
      `gaia:pool (2000 + 0 overflow for ${SERVICE_ROLE_NAMES.length} service(s), plus 10 reserved: ${poolConnections({ size: 2000, maxOverflow: 0 })} connections) exceeds the 5000 connections of the largest server on gcp: lower gaia:pool.`,
    ],
    [
      "pools more memory would hold than Cloud SQL gives one vCPU (raising memoryMb cannot help)",
      "dev", "gcp", { instance: { vcpus: 1, memoryMb: 20000 }, pool: { size: 100, maxOverflow: 150 } },
      // 760 connections: 6,656 MB (1 vCPU's most) holds 630; 4 vCPUs may have the ~7.3 GB needed.
      `gaia:pool (${poolConnections({ size: 100, maxOverflow: 150 })} connections) exceeds the 630 connections of db-custom-1-6656, the most memory Cloud SQL gives 1 vCPU(s) (6.5 GB each): raise gaia:instance.vcpus to 2, or lower gaia:pool.`,
    ],
    [
      "Cloud SQL replicas of a primary without backups",
      "staging", "gcp", { replicas: 1, backups: { enabled: false, pitr: false } },
      "gaia:replicas 1 needs backups on the primary: set gaia:backups.enabled to true, or gaia:replicas to 0.",
    ],
    [
      "Memorystore above 300 GB",
      "production", "gcp", { redis: { memoryMb: 400 * 1024 } },
      "gaia:redis.memoryMb 409600 is above Memorystore's 300 GB: lower it.",
    ],
  ];

  it.each(refusals)("refuse %s, with a sentence naming the key and the fix", (_label, stack, platform, overrides, message) => {
    expect(refusal(stack, platform, overrides)).toContain(message);
  });

  it("keep every cloud name within its identifier rules for the longest environment name, and would refuse a bad one", () => {
    const longest = "a".repeat(23) + "1";
    for (const platform of ["aws", "gcp"] as const) {
      const config = configOn("production", platform, { preset: "production", replicas: 10 });
      const renamed = { ...config, environment: longest, names: { ...config.names, resourcePrefix: `gaia-${longest}` } };
      for (const row of CONTRACTS.filter((c) => c.platform === platform && /identifier|names/.test(c.rule))) expect(row.check(renamed), row.rule).toBeUndefined();
    }
    expect(identifierProblem("gaia-a--b-postgres", 63)).toBe('"gaia-a--b-postgres" must be lowercase letters, digits and single hyphens, a letter first and no hyphen at the end');
    expect(identifierProblem("gaia-ab-", 63)).toMatch(/no hyphen at the end/);
    expect(identifierProblem(`gaia-${"b".repeat(40)}-redis`, 40)).toBe(`"gaia-${"b".repeat(40)}-redis" is 51 characters, more than 40`);
  });

  it("gives each AWS region its RDS root CAs, and refuses none of them", () => {
    for (const region of AWS_REGIONS) {
      const roots = rdsRootCas(region);
      expect(roots.length, region).toBe(3);
      for (const pem of roots) expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    }
    expect(rdsRootCas("mars-north-1")).toEqual([]);
  });

  it("derives valid Cloud SQL tiers and backup counts above the recovery window for every preset", () => {
    expect(STACKS.map((stack) => cloudSqlTier(configOn(stack, "gcp")))).toEqual(["db-custom-1-3840", "db-custom-2-3840", "db-custom-8-16384"]);
    for (const stack of STACKS) {
      const config = configOn(stack, "gcp");
      expect(cloudSqlTierProblem(cloudSqlTier(config))).toBeUndefined();
      if (config.backups.pitr) expect(cloudSqlRetainedBackups(config)).toBeGreaterThan(config.backups.pitrDays);
    }
    // staging keeps 3 days of backups and 3 of logs: Cloud SQL needs 4 backups.
    expect(cloudSqlRetainedBackups(configOn("staging", "gcp"))).toBe(4);
    expect(cloudSqlRetainedBackups(configOn("production", "gcp"))).toBe(8);
  });

  it.each(STACKS)("generates the ElastiCache token of %s from the characters AWS accepts, and no other credential changes generator", async (stack) => {
    const plan = await planOn(stack, "aws");
    const token = one(plan, "random:index/randomPassword:RandomPassword", `gaia-${stack}-redis-auth-token`).inputs;
    expect(token.overrideSpecial).toBe("!&#$^<>-");
    expect(Number(token.length)).toBeGreaterThanOrEqual(ELASTICACHE_AUTH_TOKEN.minLength);
    expect(Number(token.length)).toBeLessThanOrEqual(ELASTICACHE_AUTH_TOKEN.maxLength);
    // Changing overrideSpecial replaces a RandomPassword: every other generator keeps "-_".
    const others = byType(plan, "random:index/randomPassword:RandomPassword").filter((r) => r.name !== `gaia-${stack}-redis-auth-token`);
    for (const other of others) expect(other.inputs.overrideSpecial, other.name).toBe("-_");
  });
});
