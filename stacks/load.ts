import * as pulumi from "@pulumi/pulumi";
import type { GaiaDatabaseArgs } from "../components/args";
import { NAMESPACE, decodeStackConfig, resolveConfig, type GaiaConfig } from "../components/config";

/**
 * The running stack's `gaia:*` configuration as the component's args. Checks what only a stack
 * file can get wrong (a credential set without --secret, a key in the project's namespace) with
 * everything else, and throws before any resource is registered, listing every problem.
 */
export function loadStackArgs(): { args: GaiaDatabaseArgs; config: GaiaConfig } {
  const all = pulumi.runtime.allConfig();
  const secretKeys = new Set(
    Object.keys(all)
      .filter((key) => key.startsWith(`${NAMESPACE}:`) && isConfigSecret(key))
      .map((key) => key.slice(NAMESPACE.length + 1)),
  );
  // Keys in the project's own namespace (`gaia-database:platform`) are gaia settings written
  // with the wrong prefix: Pulumi would hand them to no one.
  const misplaced = Object.keys(all).filter((key) => key.startsWith(`${pulumi.getProject()}:`));
  const raw = decodeStackConfig(all);
  const config = resolveConfig(pulumi.getStack(), raw, secretKeys, misplaced);
  return { args: raw as unknown as GaiaDatabaseArgs, config };
}

/** The SDK knows which keys were set with --secret but does not type the function that says so. */
function isConfigSecret(key: string): boolean {
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
  return runtimeConfig.isConfigSecret?.(key) ?? false;
}
