import * as pulumi from "@pulumi/pulumi";
import type { GaiaDatabaseArgs } from "../components/args";
import { GaiaConfigError, NAMESPACE, decodeStackConfig, resolveConfig, stackFileName, stackSettings, type GaiaConfig } from "../components/config";
import { foreignKeys } from "./configKeys";

/**
 * The running stack's `gaia:*` configuration as the component's args. Checks what only a stack
 * file can get wrong (a credential set without --secret, a key outside `gaia:`: the project's
 * namespace, a misspelt one, a provider's, stacks/configKeys.ts) with everything else, and
 * throws before any resource is registered, listing every problem, each naming the stack file.
 */
export function loadStackArgs(): { args: GaiaDatabaseArgs; config: GaiaConfig } {
  const all = pulumi.runtime.allConfig();
  const stack = pulumi.getStack();
  const secretKeys = new Set(
    Object.keys(all)
      .filter((key) => key.startsWith(`${NAMESPACE}:`) && isConfigSecret(key))
      .map((key) => key.slice(NAMESPACE.length + 1)),
  );
  const misplaced = foreignKeys(all, { project: pulumi.getProject(), settings: stackSettings(), isSecret: isConfigSecret });
  const raw = decodeStackConfig(all);
  try {
    const config = resolveConfig(stack, raw, secretKeys, misplaced);
    return { args: raw as unknown as GaiaDatabaseArgs, config };
  } catch (error) {
    throw error instanceof GaiaConfigError ? GaiaConfigError.inFile(error, stackFileName(stack)) : error;
  }
}

/** The SDK knows which keys were set with --secret but does not type the function that says so. */
function isConfigSecret(key: string): boolean {
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
  return runtimeConfig.isConfigSecret?.(key) ?? false;
}
