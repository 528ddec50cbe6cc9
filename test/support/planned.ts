import { runPlannedCommand, type CommandRun } from "../../scripts/lib/applyLocal";
import { unwrap } from "../../scripts/lib/cloudMocks";
import type { PlannedResource, StackPlan } from "../../scripts/lib/offline";
import { recordOutput } from "./canary";

export { createPlannedRoles, dropPlannedRoles, type CommandRun } from "../../scripts/lib/applyLocal";

/** The stdout each resource's last successful create or update left in the state. */
const stateStdout = new Map<string, string>();

/**
 * Runs a planned command resource's `create`, `update` or `delete` exactly as
 * pulumi-command would: `/bin/sh -c <command>` in the program's directory, with the
 * resource's environment added to the inherited one, and, where the resource asks for it
 * (`addPreviousOutputInEnv`), the stdout its state holds as PULUMI_COMMAND_STDOUT
 * (provider/pkg/provider/local/commandOutputs.go).
 */
export function runPlanned(resource: PlannedResource, verb: "create" | "update" | "delete", override: Record<string, string> = {}): CommandRun {
  const previous: Record<string, string> = resource.inputs.addPreviousOutputInEnv === true && stateStdout.has(resource.name) ? { PULUMI_COMMAND_STDOUT: stateStdout.get(resource.name)! } : {};
  const result = runPlannedCommand(resource, verb, { ...previous, ...override });
  recordOutput(`${resource.name}-${verb}`, result.stdout, result.stderr);
  if (result.status === 0 && verb !== "delete") stateStdout.set(resource.name, result.stdout);
  if (result.status === 0 && verb === "delete") stateStdout.delete(resource.name);
  return result;
}

/** Every generated secret in a plan: the values the providers would hand out. */
export function generatedSecrets(plan: StackPlan): string[] {
  const found = new Set<string>();
  const walk = (value: unknown) => {
    const plain = unwrap(value);
    if (typeof plain === "string") for (const match of plain.match(/mock-[0-9a-f]{24}/g) ?? []) found.add(match);
    else if (plain && typeof plain === "object") Object.values(plain).forEach(walk);
  };
  plan.resources.forEach((r) => walk(r.inputs));
  Object.values(plan.outputs).forEach((o) => walk(o.value));
  return [...found];
}
