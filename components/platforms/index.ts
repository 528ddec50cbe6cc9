import type { GaiaConfig } from "../core/config";
import { awsPlatform } from "./aws";
import { flyPlatform } from "./fly";
import { gcpPlatform } from "./gcp";
import { local } from "./local";
import { registered, type RegisteredPlatform } from "./plugin";

/**
 * Every platform a stack can choose with `gaia:platform`: a platform is a folder beside this
 * file implementing `Platform<S>` (./types.ts) and one line here (README, "Extending").
 */
export const PLATFORMS = {
  aws: registered(awsPlatform),
  gcp: registered(gcpPlatform),
  fly: registered(flyPlatform),
  local: registered(local),
} satisfies Record<string, RegisteredPlatform>;

export type PlatformName = keyof typeof PLATFORMS;
export const PLATFORM_NAMES = Object.keys(PLATFORMS) as [PlatformName, ...PlatformName[]];

/** Platforms by name: the registry's, or another set (a test's plug-in beside them). */
export type Platforms = Readonly<Record<string, RegisteredPlatform>>;

/** The platform of that name, if the registry (or `platforms`) has one. */
export function platformNamed(name: string, platforms: Platforms = PLATFORMS): RegisteredPlatform | undefined {
  return Object.hasOwn(platforms, name) ? platforms[name] : undefined;
}

/** The platform a resolved environment runs on. */
export function platformOf(config: Pick<GaiaConfig, "platform">, platforms: Platforms = PLATFORMS): RegisteredPlatform {
  const platform = platformNamed(config.platform, platforms);
  if (!platform) throw new Error(`gaia:platform "${config.platform}" is not one of ${Object.keys(platforms).join(", ")}`);
  return platform;
}

/** Every platform's cloud contracts, each naming its platform (../types.ts, PlatformContract). */
export const CONTRACTS = Object.values(PLATFORMS).flatMap((p) => p.contracts);

export type { BoundPlatform, RegisteredPlatform } from "./plugin";
export type { Platform } from "./types";
