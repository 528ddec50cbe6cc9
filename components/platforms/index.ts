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

/** The platform of that name, if the registry has one. */
export function platformNamed(name: string): RegisteredPlatform | undefined {
  const byName: Readonly<Record<string, RegisteredPlatform>> = PLATFORMS;
  return Object.hasOwn(byName, name) ? byName[name] : undefined;
}

/** The platform a resolved environment runs on. */
export function platformOf(config: Pick<GaiaConfig, "platform">): RegisteredPlatform {
  const platform = platformNamed(config.platform);
  if (!platform) throw new Error(`gaia:platform "${config.platform}" is not one of ${PLATFORM_NAMES.join(", ")}`);
  return platform;
}

/** Every platform's cloud contracts, each naming its platform (../types.ts, PlatformContract). */
export const CONTRACTS = Object.values(PLATFORMS).flatMap((p) => p.contracts);

export type { BoundPlatform, RegisteredPlatform } from "./plugin";
export type { Platform } from "./types";
