import type { GaiaConfig } from "../../stacks/config";

/** One machine size a platform offers. */
export interface MachineSize {
  name: string;
  vcpus?: number;
  memoryMb: number;
}

/**
 * The smallest size (sizes listed smallest first) with at least the requested vCPUs and memory;
 * the largest where none is big enough. `gaia:instance.class` overrides the choice.
 */
export function smallestFitting(sizes: readonly MachineSize[], want: { vcpus?: number; memoryMb: number }): string {
  const fits = (s: MachineSize) => (s.vcpus ?? 0) >= (want.vcpus ?? 0) && s.memoryMb >= want.memoryMb;
  return (sizes.find(fits) ?? sizes[sizes.length - 1]!).name;
}

/** The instance class for the configured Postgres size. */
export function postgresClass(config: GaiaConfig, sizes: readonly MachineSize[]): string {
  return config.instance.class ?? smallestFitting(sizes, config.instance);
}
