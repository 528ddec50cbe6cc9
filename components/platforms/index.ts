import { awsPlatform } from "./aws";
import { flyPlatform } from "./fly";
import { gcpPlatform } from "./gcp";
import { local } from "./local";
import type { Platform } from "./types";

/** Every platform a stack can choose with `gaia:platform`. A new platform is a new file and a row here. */
export const PLATFORMS = {
  aws: awsPlatform,
  gcp: gcpPlatform,
  fly: flyPlatform,
  local,
// Each platform parses its own settings type; the registry only needs the common shape.
} satisfies Record<string, Platform<any>>;

export type PlatformName = keyof typeof PLATFORMS;
export const PLATFORM_NAMES = Object.keys(PLATFORMS) as [PlatformName, ...PlatformName[]];
export type { Platform } from "./types";
