import type { GaiaConfig } from "./core/config";
import type { PlatformRules } from "./core/platformRules";
import { resolveWith } from "./core/resolve";
import { PLATFORMS } from "./platforms";

/**
 * The stack's configuration resolved with the registry's platforms: the config core
 * (./core/, which knows no platform) composed with the registry (./platforms/index.ts).
 */
export { ENCRYPTED_PLACEHOLDER, GaiaConfigError, NAMESPACE, decodeStackConfig, encryptedPaths, type GaiaConfig } from "./core/config";

/**
 * Resolves a stack's raw `gaia:*` values (already JSON-decoded) into a `GaiaConfig`, or throws
 * one `GaiaConfigError` listing every problem. Pure: no Pulumi runtime needed.
 *
 * @param secretKeys keys (without namespace) that were set with `pulumi config set --secret`.
 * @param platforms the platforms a stack may name: the registry's, or others (a test's plug-in).
 */
export function resolveConfig(
  stack: string,
  given: Record<string, unknown>,
  secretKeys?: ReadonlySet<string>,
  misplacedKeys: readonly string[] = [],
  platforms: Readonly<Record<string, PlatformRules>> = PLATFORMS,
): GaiaConfig {
  return resolveWith(platforms, stack, given, secretKeys, misplacedKeys);
}
