import type { GaiaConfig } from "./core/config";
import type { PlatformRules } from "./core/platformRules";
import { resolveWith, settingTree, type MisplacedKey } from "./core/resolve";
import { PLATFORMS } from "./platforms";

/**
 * The stack's configuration resolved with the registry's platforms: the config core
 * (./core/, which knows no platform) composed with the registry (./platforms/index.ts).
 */
export { ENCRYPTED_PLACEHOLDER, GaiaConfigError, NAMESPACE, decodeStackConfig, encryptedPaths, stackFileName, type GaiaConfig } from "./core/config";
export type { MisplacedKey } from "./core/resolve";

/**
 * Resolves a stack's raw `gaia:*` values (already JSON-decoded) into a `GaiaConfig`, or throws
 * one `GaiaConfigError` listing every problem. Pure: no Pulumi runtime needed.
 *
 * @param secretKeys keys (without namespace) that were set with `pulumi config set --secret`.
 * @param misplacedKeys keys outside `gaia:` that stand for settings, each with its problem (stacks/configKeys.ts).
 * @param platforms the platforms a stack may name: the registry's, or others (a test's plug-in).
 */
export function resolveConfig(
  stack: string,
  given: Record<string, unknown>,
  secretKeys?: ReadonlySet<string>,
  misplacedKeys: readonly MisplacedKey[] = [],
  platforms: Readonly<Record<string, PlatformRules>> = PLATFORMS,
): GaiaConfig {
  return resolveWith(platforms, stack, given, secretKeys, misplacedKeys);
}

/** Every `gaia:*` key with the keys of its block, for the registry's platforms (or others). */
export function stackSettings(platforms: Readonly<Record<string, PlatformRules>> = PLATFORMS): Record<string, readonly string[] | null> {
  return settingTree(platforms);
}
