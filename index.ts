// Pulumi runs the exported function and makes what it returns the stack's outputs.
import * as pulumi from "@pulumi/pulumi";
import { gaiaStack } from "./program";
import { loadStackArgs } from "./stacks/load";
import { checkStackFile } from "./stacks/stackFile";
import type { AppliedRestore } from "./components/core/restore";

/**
 * The generations the stack's last update applied: its own `rotation` output, read through a
 * reference to itself. The engine reads a stack reference's outputs from the backend's latest
 * checkpoint of that stack (builtinProvider.readStackReference, pkg/resource/deploy/builtins.go,
 * Pulumi v3.274.1), in previews too, so a stack file that would take a credential back or jump
 * it fails the preview before any resource. None on a stack's first update.
 */
async function applied(): Promise<{ generations?: Record<string, number>; restore: AppliedRestore | null }> {
  const self = new pulumi.StackReference("gaia-applied", { name: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}` });
  const read = async (name: string) => {
    const details = await self.getOutputDetails(name);
    const value = details.value ?? details.secretValue;
    return value && typeof value === "object" ? value : undefined;
  };
  // And the restore it applied (components/core/restore.ts restoreStepProblems); none is null, a known "none".
  return { generations: (await read("rotation")) as Record<string, number> | undefined, restore: ((await read("restore")) as AppliedRestore | undefined) ?? null };
}

/**
 * The stack file first, as Pulumi read it (what it ignored or read otherwise than meant:
 * stacks/stackFile.ts), then the configuration the engine handed over (stacks/load.ts), each
 * refused before any resource, the stack reference below included.
 */
export = async () => {
  checkStackFile(pulumi.getStack(), __dirname, pulumi.getProject());
  loadStackArgs();
  const last = await applied();
  return gaiaStack(last.generations, last.restore);
};
