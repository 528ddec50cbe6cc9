import * as pulumi from "@pulumi/pulumi";
import { NAMESPACE, decodeStackConfig, resolveConfig, type GaiaConfig } from "./config";

/**
 * Reads the running stack's `gaia:*` configuration and resolves it. Throws before any
 * resource is registered when something is wrong, listing every problem.
 */
export function loadStackConfig(): GaiaConfig {
  const all = pulumi.runtime.allConfig();
  const secretKeys = new Set(
    Object.keys(all)
      .filter((key) => key.startsWith(`${NAMESPACE}:`) && isConfigSecret(key))
      .map((key) => key.slice(NAMESPACE.length + 1)),
  );
  // Keys in the project's own namespace (`gaia-database:platform`) are gaia settings written
  // with the wrong prefix: Pulumi would hand them to no one.
  const misplaced = Object.keys(all).filter((key) => key.startsWith(`${pulumi.getProject()}:`));
  return resolveConfig(pulumi.getStack(), decodeStackConfig(all), secretKeys, misplaced);
}

/** The SDK knows which keys were set with --secret but does not type the function that says so. */
function isConfigSecret(key: string): boolean {
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
  return runtimeConfig.isConfigSecret?.(key) ?? false;
}
