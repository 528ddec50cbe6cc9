import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import type { GaiaConfig } from "../core/config";
import type { PlatformCapabilities, PlatformRules, SettingsCheck } from "../core/platformRules";
import type { MonthlyCost } from "./shared/cost";
import type { ManagedAccess, Platform, PlatformContext, PlatformContract, PlatformSummary, PostgresInstance, RedisInstance, StoredSecret } from "./types";

/** A platform's context without its settings, which the bound platform adds itself. */
export type ContextOptions = Omit<PlatformContext<unknown>, "config" | "settings">;

/** A platform with one environment's settings bound in: what the component calls (components/gaiaDatabase.ts). */
export interface BoundPlatform {
  readonly name: string;
  readonly capabilities: PlatformCapabilities;
  readonly options: ContextOptions;
  createPostgres(): PostgresInstance;
  createRedis(): RedisInstance;
  storeSecret(secret: StoredSecret): pulumi.Output<string> | undefined;
  manageAccess: ((access: ManagedAccess) => pulumi.Output<Record<string, string>>) | undefined;
}

/** A platform as the registry holds it: the core's rules, and what reads the settings, with them parsed inside. */
export interface RegisteredPlatform extends PlatformRules {
  contracts: readonly PlatformContract[];
  instanceClass(config: GaiaConfig): string;
  describe(config: GaiaConfig): PlatformSummary;
  /** What the environment costs a month here; undefined where the platform keeps no price tables. */
  monthlyCost(config: GaiaConfig): MonthlyCost | undefined;
  /** The platform for a resolved environment, its provider made with `parent` as the component. */
  bind(config: GaiaConfig, parent: pulumi.Resource): BoundPlatform;
}

/**
 * Registers a platform. The settings are typed `S` only in here: a resolved config carries its
 * block as given (validated), and each call that needs them parses it with the platform's own
 * schema, so no settings travel untyped between the core, the registry and the platform.
 */
export function registered<S>(platform: Platform<S>): RegisteredPlatform {
  const settingsOf = (config: GaiaConfig): S => platform.settings.parse(config.platformSettings ?? {});
  return {
    name: platform.name,
    capabilities: platform.capabilities,
    cannotRotate: platform.cannotRotate ?? {},
    settingKeys: platform.settings instanceof z.ZodObject ? Object.keys(platform.settings.shape) : [],
    contracts: platform.contracts,
    checkSettings(block, config): SettingsCheck {
      const result = platform.settings.safeParse(block);
      return result.success ? { parsed: true, problems: platform.validate?.(config, result.data) ?? [] } : { parsed: false, issues: result.error.issues };
    },
    contractProblems(config, block) {
      const parsed = block === undefined ? undefined : platform.settings.safeParse(block);
      const settings = parsed?.success ? parsed.data : undefined;
      return platform.contracts.map((c) => c.check(config, settings)).filter((p): p is string => p !== undefined);
    },
    instanceClass: (config) => platform.instanceClass(config),
    describe: (config) => platform.describe(config, settingsOf(config)),
    monthlyCost: (config) => platform.monthlyCost?.(config),
    bind(config, parent) {
      const settings = settingsOf(config);
      const provider = platform.provider?.(config, settings, parent);
      const ctx: PlatformContext<S> = {
        config,
        settings,
        stateful: { parent, protect: config.protect, provider },
        child: { parent, provider },
        other: { parent },
      };
      const { manageAccess } = platform;
      return {
        name: platform.name,
        capabilities: platform.capabilities,
        options: { stateful: ctx.stateful, child: ctx.child, other: ctx.other },
        createPostgres: () => platform.createPostgres(ctx),
        createRedis: () => platform.createRedis(ctx),
        storeSecret: (secret) => platform.storeSecret(ctx, secret),
        manageAccess: manageAccess && ((access) => manageAccess.call(platform, ctx, access)),
      };
    },
  };
}
