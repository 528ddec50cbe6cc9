import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { GaiaConfigError, resolveConfig } from "../../components/config";
import { PLATFORMS } from "../../components/platforms";
import { registered } from "../../components/platforms/plugin";
import type { Platform } from "../../components/platforms/types";

/**
 * A platform is a plug-in (README, "Extending"): one defined here, in the test, and added to a
 * registry, is resolved and refused by the config core like the project's own, with its typed
 * settings, its capabilities, its contracts and what it cannot rotate. Nothing in components/
 * knows its name.
 */
const settings = z.object({ endpoint: z.url(), tier: z.enum(["small", "large"]).default("small") }).strict();
type FakeSettings = z.infer<typeof settings>;

const seen: FakeSettings[] = [];
const fake: Platform<FakeSettings> = {
  name: "fake",
  capabilities: {
    regions: ["moon-1", "moon-2"],
    postgresVersions: [16, 17],
    pitrDays: { min: 1, max: 3 },
    retentionDays: { min: 1, max: 5 },
    maxReplicas: 0,
    highAvailability: false,
    redisSizing: true,
    minStorageGb: 5,
    perTableGrants: true,
    auditLogging: false,
    alerts: null,
  },
  settings,
  validate: (_config, s) => (s.endpoint.startsWith("https:") ? [] : [`gaia:fake.endpoint ${s.endpoint} is not https: use https://.`]),
  contracts: [
    {
      platform: "fake",
      rule: "a small tier holds at most 50 GB",
      source: "this test",
      check: (config, s) => (s?.tier === "small" && config.instance.maxStorageGb > 50 ? `gaia:instance.maxStorageGb ${config.instance.maxStorageGb} is more than fake's small tier holds: lower it or set gaia:fake.tier to large.` : undefined),
    },
  ],
  cannotRotate: { redis: "the fake keeps one Redis password" },
  instanceClass: (config) => `fake-${config.instance.vcpus}`,
  describe: (_config, s) => {
    seen.push(s);
    return { server: { maxConnections: s.tier === "large" ? 500 : 100 }, standby: "none", tls: "require", redis: "fake redis" };
  },
  createPostgres: () => ({ host: pulumi.output("db.moon"), port: pulumi.output(5432), replicaHosts: pulumi.output([]), tls: { mode: "require", ca: undefined }, admin: undefined, readyResources: [] }),
  createRedis: () => ({ host: pulumi.output("redis.moon"), port: pulumi.output(6379), tls: true, username: undefined, password: undefined, keyPrefix: undefined }),
  storeSecret: () => undefined,
};

const withFake = { ...PLATFORMS, fake: registered(fake) };
const base = { platform: "fake", region: "moon-1", adminEmail: "admin@gaia.example", backups: { enabled: false, pitr: false } };
const resolve = (raw: Record<string, unknown>) => resolveConfig("dev", raw, undefined, [], withFake);
const problems = (raw: Record<string, unknown>) => {
  try {
    resolve(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(GaiaConfigError);
    return (error as GaiaConfigError).problems;
  }
  return [];
};

describe("a platform plugged in from outside components/", () => {
  it("is resolved with its settings, which its own code reads typed", () => {
    const config = resolve({ ...base, fake: { endpoint: "https://moon.example", tier: "large" } });
    expect(config).toMatchObject({ platform: "fake", region: "moon-1", preset: "dev" });
    expect(withFake.fake.describe(config).server.maxConnections).toBe(500);
    expect(seen.at(-1)).toEqual({ endpoint: "https://moon.example", tier: "large" });
    expect(withFake.fake.instanceClass(config)).toBe("fake-1");
    // The preset's 10 GB is above the platform's 5 GB floor, so it is kept.
    expect(config.instance.storageGb).toBe(10);
  });

  it("is refused where its settings are missing or wrong, naming gaia:fake and each key", () => {
    expect(problems(base)).toContain('gaia:fake is required on fake: set its settings (docs/configuration.md, "Stacks and configuration").');
    expect(problems({ ...base, fake: { endpoint: "not a url", tier: "huge" } })).toEqual([
      "gaia:fake.endpoint: Invalid URL.",
      'gaia:fake.tier: Invalid option: expected one of "small"|"large".',
    ]);
    expect(problems({ ...base, fake: { endpoint: "http://moon.example" } })).toEqual(["gaia:fake.endpoint http://moon.example is not https: use https://."]);
  });

  it("is held to its capabilities, its contracts and what it cannot rotate, each with its own sentence", () => {
    const fakeBlock = { fake: { endpoint: "https://moon.example" } };
    expect(problems({ ...base, ...fakeBlock, region: "mars-1" })).toEqual(['gaia:region "mars-1" is not a fake region: use one of moon-1, moon-2.']);
    expect(problems({ ...base, ...fakeBlock, replicas: 1 })).toEqual(["gaia:replicas 1 is more than fake allows (0): lower it."]);
    expect(problems({ ...base, ...fakeBlock, instance: { maxStorageGb: 60 } })).toEqual([
      "gaia:instance.maxStorageGb 60 is more than fake's small tier holds: lower it or set gaia:fake.tier to large.",
    ]);
    expect(problems({ ...base, fake: { endpoint: "https://moon.example", tier: "large" }, instance: { maxStorageGb: 60 } })).toEqual([]);
    expect(problems({ ...base, ...fakeBlock, rotation: { redis: 1 } })).toEqual(["gaia:rotation.redis cannot be rotated on fake: the fake keeps one Redis password; remove it."]);
    expect(problems({ ...base, ...fakeBlock, rotation: { admin: 1 } }), "what it does not refuse").toEqual([]);
  });

  it("is unknown to a registry that does not hold it", () => {
    expect(() => resolveConfig("dev", { ...base, fake: { endpoint: "https://moon.example" } })).toThrow(/gaia:platform: Invalid option: expected one of "aws"\|"gcp"\|"fly"\|"local"/);
    expect(problems({ ...base, platform: "venus", fake: undefined })).toContainEqual(expect.stringMatching(/^gaia:platform: .*"fake".*set gaia:platform to one of aws, gcp, fly, local, fake\.$/));
  });
});
