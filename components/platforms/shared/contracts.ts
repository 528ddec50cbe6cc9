import type { MachineSize } from "./sizing";
import type { GaiaConfig } from "../../core/config";
import { MAX_CONNECTIONS, RESERVED_CONNECTIONS, connectionsNeeded, maxConnectionsFor } from "./connections";

/** Rules of the cloud contracts (../types.ts, PlatformContract) that several platforms share. */

/**
 * Identifier rules: RDS DB instance identifiers 1-63 characters, ElastiCache replication
 * groups 1-40, Memorystore instances 1-40 (2-40 in terraform-provider-google), Cloud SQL
 * instances up to 98: a letter first, letters, digits and single hyphens, no hyphen at the end.
 * CreateDBInstance DBInstanceIdentifier; CreateReplicationGroup ReplicationGroupId;
 * google/cloud/redis/v1/cloud_redis.proto Instance.name; https://cloud.google.com/sql/docs/postgres/instance-settings.
 */
export function identifierProblem(name: string, maxLength: number): string | undefined {
  if (name.length > maxLength) return `"${name}" is ${name.length} characters, more than ${maxLength}`;
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) return `"${name}" must be lowercase letters, digits and single hyphens, a letter first and no hyphen at the end`;
  return undefined;
}

/** The environment's name makes a cloud name that keeps its identifier rules. */
export const nameKeeps = (what: string, name: (config: GaiaConfig) => string, maxLength: number) => (config: GaiaConfig) => {
  const problem = identifierProblem(name(config), maxLength);
  return problem && `environment "${config.environment}" makes ${what} that ${problem}: choose a shorter gaia:environment.`;
};

export const replicasNeedBackups = ({ replicas, backups }: GaiaConfig) =>
  replicas > 0 && !backups.enabled ? `gaia:replicas ${replicas} needs backups on the primary: set gaia:backups.enabled to true, or gaia:replicas to 0.` : undefined;

/** The pools against the connection limit of a server with this much memory (undefined: a class the tables do not know). */
export function connectionProblem(config: GaiaConfig, memoryMb: number | undefined, platform: string): string | undefined {
  const needed = connectionsNeeded(config);
  const pools = `gaia:pool (${config.pool.size} + ${config.pool.maxOverflow} overflow for ${config.services.length} service(s), plus ${RESERVED_CONNECTIONS} reserved: ${needed} connections)`;
  // Before the class is known: no server, an unknown class or an existing one, holds more.
  if (needed > MAX_CONNECTIONS) return `${pools} exceeds the ${MAX_CONNECTIONS} connections of the largest server on ${platform}: lower gaia:pool.`;
  if (memoryMb === undefined) return undefined;
  const limit = maxConnectionsFor(memoryMb);
  if (needed <= limit) return undefined;
  return `${pools} exceeds the ${limit} connections of ${memoryMb} MB on ${platform}: raise gaia:instance.memoryMb (or the class), or lower gaia:pool.`;
}

/**
 * What a size asks beyond the largest the platform's table offers: the component would take the
 * largest silently (smallestFitting), far below what was asked. Said with the largest, its key
 * and the fix; undefined where a size fits.
 */
export function beyondLargest(sizes: readonly MachineSize[], want: { vcpus?: number; memoryMb: number }, what: string, key: string): string | undefined {
  if (sizes.some((s) => (s.vcpus ?? 0) >= (want.vcpus ?? 0) && s.memoryMb >= want.memoryMb)) return undefined;
  const largest = sizes[sizes.length - 1]!;
  const asked = [want.vcpus !== undefined ? `${want.vcpus} vCPU(s)` : undefined, `${want.memoryMb} MB`].filter(Boolean).join(" and ");
  const offers = [largest.vcpus !== undefined ? `${largest.vcpus} vCPU(s)` : undefined, `${largest.memoryMb} MB`].filter(Boolean).join(", ");
  return `${key} asks ${asked}, more than the largest ${what} the component offers, ${largest.name} (${offers}): lower ${key}${key === "gaia:instance" ? ", or name a class with gaia:instance.class" : ""}.`;
}
