import type { GaiaConfig } from "../../core/config";
import { MAX_CONNECTIONS, connectionsNeeded, maxConnectionsFor } from "./connections";

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

/**
 * Memory the server needs so that its connection limit holds the environment's pools;
 * Infinity when no memory would (more than MAX_CONNECTIONS): the classes' contracts then say
 * what the largest holds.
 */
export function memoryForConnections(config: GaiaConfig): number {
  const needed = connectionsNeeded(config);
  if (needed > MAX_CONNECTIONS) return Number.POSITIVE_INFINITY;
  let memoryMb = config.instance.memoryMb;
  while (maxConnectionsFor(memoryMb) < needed) memoryMb += 256;
  return memoryMb;
}

/** The instance class for the configured Postgres size, big enough for the pools. */
export function postgresClass(config: GaiaConfig, sizes: readonly MachineSize[]): string {
  return config.instance.class ?? smallestFitting(sizes, { vcpus: config.instance.vcpus, memoryMb: memoryForConnections(config) });
}
