import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../components/platforms";
import { smallestFitting } from "../../components/platforms/shared/sizing";
import { resolveConfig } from "../../components/config";
import { KNOWN_SERVICES, knownServicesOnly } from "../support/services";
import { PLATFORM_FIXTURES } from "../support/stacks";

const settings = Object.fromEntries(Object.entries(PLATFORM_FIXTURES).map(([platform, fixture]) => [platform, fixture.settings])) as Record<keyof typeof PLATFORM_FIXTURES, unknown>;

describe("instance sizes", () => {
  it("picks the smallest size with enough vCPUs and memory, the largest when none is", () => {
    const sizes = [{ name: "s", vcpus: 1, memoryMb: 512 }, { name: "m", vcpus: 2, memoryMb: 2048 }, { name: "l", vcpus: 4, memoryMb: 8192 }];
    expect(smallestFitting(sizes, { vcpus: 1, memoryMb: 256 })).toBe("s");
    expect(smallestFitting(sizes, { vcpus: 1, memoryMb: 1024 })).toBe("m");
    expect(smallestFitting(sizes, { vcpus: 64, memoryMb: 1 })).toBe("l");
  });

  it.each([
    ["aws", "dev", "db.t4g.micro"],
    ["aws", "production", "db.m7g.2xlarge"],
    // Custom machines start at 3840 MB (shared-core tiers hold 25 connections, fewer than dev's pools).
    ["gcp", "dev", "db-custom-1-3840"],
    ["gcp", "staging", "db-custom-2-3840"],
    ["gcp", "production", "db-custom-8-16384"],
    // Managed Postgres plans: the smallest with the vCPUs and memory.
    ["fly", "dev", "basic"],
    // staging's pools need 100 connections: Launch's PgBouncer holds 180, Basic's 60.
    ["fly", "staging", "launch"],
  ] as const)("on %s, %s gets %s", (platform, stack, expected) => {
    // The sizes for the pools of chat, assets and auth. A service added to the access policy adds
    // its pool: test/unit/contracts.test.ts checks that every stack's class holds every service's.
    const fixture = PLATFORM_FIXTURES[platform] as { alerts?: unknown };
    const config = resolveConfig(stack, { platform, adminEmail: "a@gaia.example", services: [...KNOWN_SERVICES], [platform]: knownServicesOnly(platform), alerts: fixture.alerts });
    expect(PLATFORMS[platform].instanceClass(config)).toBe(expected);
  });

  it("lets gaia:instance.class override the choice", () => {
    const config = resolveConfig("dev", { platform: "aws", adminEmail: "a@gaia.example", aws: settings.aws, instance: { class: "db.r7g.large" } });
    expect(PLATFORMS.aws.instanceClass(config)).toBe("db.r7g.large");
  });
});
