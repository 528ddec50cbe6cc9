import * as pulumi from "@pulumi/pulumi";
import { gaiaStack } from "../../program";
import { encryptedPaths, type GaiaConfig } from "../../components/config";
import { loadStackArgs } from "../../stacks/load";
import { cloudCall, cloudId, cloudState } from "./cloudMocks";
import { PROJECT } from "./stackFile";

export { isSecretValue } from "./cloudMocks";

/**
 * Runs the real program for one stack under Pulumi's mocked runtime: the engine and the clouds
 * are simulated (scripts/lib/cloudMocks.ts), everything else is the code `pulumi up` runs.
 */

export { PROJECT, PROJECT_ROOT } from "./stackFile";

export interface PlannedResource {
  type: string;
  name: string;
  /** `type::name` of the parent, or undefined for the stack's top-level resources. */
  parent: string | undefined;
  custom: boolean;
  protect: boolean;
  /** Left in place by `pulumi destroy` (`retainOnDelete`). */
  retainOnDelete: boolean;
  /** `type::name` of the resource whose deletion takes this one with it (`deletedWith`). */
  deletedWith: string | undefined;
  /** `type::name` of the resources whose replacement replaces this one (`replaceWith`). */
  replaceWith: string[];
  /** `type::name` of the explicit provider this resource uses, if any (`provider` or a matching `providers` entry). */
  provider: string | undefined;
  dependsOn: string[];
  /** Inputs as the engine receives them: secrets still wrapped. */
  inputs: Record<string, unknown>;
}

export interface StackPlan {
  stack: string;
  /** Stack settings encrypted in the stack file, which the offline plan could not decrypt nor check. */
  notDecrypted: string[];
  resources: PlannedResource[];
  /** Outputs, resolved; `secret` says whether each was marked secret. */
  outputs: Record<string, { value: unknown; secret: boolean }>;
  /** This project's environment as the component resolved it (for the plan's summary); undefined for other programs. */
  config?: GaiaConfig;
}

/** The mocked runtime is process-wide: plans run one at a time, in the order asked. */
let queue: Promise<unknown> = Promise.resolve();

export function planStack(
  stack: string,
  config: Record<string, string>,
  secretKeys: string[] = [],
  onRegister?: (type: string, name: string) => void,
): Promise<StackPlan> {
  return planProgram(stack, config, gaiaStack, { secretKeys, onRegister });
}

export interface ProgramOptions {
  /** The program's Pulumi project: the namespace of its own config keys. */
  project?: string;
  secretKeys?: string[];
  onRegister?: (type: string, name: string) => void;
}

/** Any Pulumi program (a function returning its outputs) under the mocked runtime: this project's or one that uses the component. */
export function planProgram(stack: string, config: Record<string, string>, program: () => Record<string, unknown>, options: ProgramOptions = {}): Promise<StackPlan> {
  const next = queue.then(() => runPlan(stack, config, options.secretKeys ?? [], program, options.onRegister, options.project ?? PROJECT));
  queue = next.catch(() => undefined);
  return next;
}

async function runPlan(
  stack: string,
  config: Record<string, string>,
  secretKeys: string[],
  program: () => Record<string, unknown>,
  onRegister: ((type: string, name: string) => void) | undefined,
  project: string,
): Promise<StackPlan> {
  const recorded = new Map<string, PlannedResource>();
  const objects = new Map<pulumi.Resource, string>();
  const registrations: Promise<unknown>[] = [];

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        onRegister?.(args.type, args.name);
        const key = `${args.type}::${args.name}`;
        const entry = recorded.get(key);
        if (entry) entry.inputs = args.inputs as Record<string, unknown>;
        return { id: cloudId(args.type, args.name, args.inputs), state: cloudState(args.type, args.name, args.inputs) };
      },
      call: (args) => cloudCall(args.token, args.inputs),
    },
    project,
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(config, secretKeys);
  // This project's bad configuration fails here, as the program's first line fails under the
  // engine, before even the stack resource exists.
  const notDecrypted = program === gaiaStack ? encryptedPaths(loadStackArgs().args).map((p) => `gaia:${p}`) : [];
  let environment: GaiaConfig | undefined;
  let outputs: Record<string, unknown> | undefined;
  let failure: unknown;
  try {
    await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((args) => {
        const key = `${args.type}::${args.name}`;
        objects.set(args.resource, key);
        const dependsOn = args.opts.dependsOn;
        recorded.set(key, {
          type: args.type,
          name: args.name,
          parent: args.opts.parent ? objects.get(args.opts.parent) : undefined,
          custom: args.resource instanceof pulumi.CustomResource,
          protect: args.opts.protect === true,
          retainOnDelete: args.opts.retainOnDelete === true,
          deletedWith: args.opts.deletedWith ? objects.get(args.opts.deletedWith) : undefined,
          provider: explicitProvider(args.type, args.opts, objects),
          replaceWith: (args.opts.replaceWith ?? []).map((r) => objects.get(r) ?? "?"),
          dependsOn: (Array.isArray(dependsOn) ? dependsOn : dependsOn ? [dependsOn] : [])
            .filter((d): d is pulumi.Resource => pulumi.Resource.isInstance(d))
            .map((d) => objects.get(d) ?? "?"),
          inputs: {},
        });
        // The transformation runs inside the constructor, before `urn` exists.
        registrations.push(Promise.resolve().then(() => promiseOf(args.resource.urn)));
        return undefined;
      });
      // A program that throws (bad args) is reported as the engine reports it: the run fails
      // with that error; the stack itself is left to close without outputs.
      try {
        if (program === gaiaStack) {
          environment = loadStackArgs().config;
        }
        outputs = program();
      } catch (error) {
        failure = error;
        outputs = {};
      }
      return outputs;
    });
  } catch (error) {
    failure = error;
  }
  if (failure !== undefined) {
    // Let the calls the program started finish before the next plan replaces the mocked monitor.
    await waitForRPCs().catch(() => undefined);
    throw failure;
  }

  const resolved: StackPlan["outputs"] = {};
  for (const [name, value] of Object.entries(outputs!) as [string, unknown][]) {
    if (pulumi.Output.isInstance<unknown>(value)) {
      resolved[name] = { value: await promiseOf(value), secret: await pulumi.isSecret(value) };
    } else {
      resolved[name] = { value, secret: false };
    }
  }
  // Every registration, including those no output depends on (grants, secrets).
  for (let seen = 0; seen < registrations.length; seen = registrations.length) {
    await Promise.all(registrations.slice(seen));
  }
  // The stack's own outputs are registered after the program returns: let those calls finish
  // before the next plan replaces the mocked monitor (they would fail with "unknown resource").
  await waitForRPCs();
  return { stack, notDecrypted, resources: [...recorded.values()], outputs: resolved, config: environment };
}

/** The runtime's wait for its outstanding calls (exported by the SDK, marked internal, not typed). */
function waitForRPCs(): Promise<void> {
  return (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

function explicitProvider(type: string, opts: pulumi.ResourceOptions & { provider?: pulumi.ProviderResource; providers?: unknown }, objects: Map<pulumi.Resource, string>): string | undefined {
  const pkg = type.split(":")[0];
  const listed = Array.isArray(opts.providers) ? opts.providers : Object.values((opts.providers ?? {}) as Record<string, pulumi.ProviderResource>);
  // ProviderResource.getPackage exists at run time but is not in the SDK's types.
  const packageOf = (p: unknown) => (p as { getPackage(): string }).getPackage();
  const match = [opts.provider, ...listed].find((p): p is pulumi.ProviderResource => Boolean(p) && packageOf(p) === pkg);
  return match ? objects.get(match) : undefined;
}

export function promiseOf<T>(output: pulumi.Output<T> | pulumi.OutputInstance<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}
