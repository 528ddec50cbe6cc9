import type { GaiaConfig } from "../../core/config";

/**
 * PostgreSQL majors the cloud platforms take. 14 is left out: it reached end of life on
 * 2026-11-12 (https://www.postgresql.org/support/versioning/), and there schema `public`
 * belongs to the platform's bootstrap superuser, so the cloud admin cannot take CREATE on it
 * from PUBLIC (from 15 on it belongs to the database owner: PostgreSQL 15 release notes).
 */
export const SUPPORTED_POSTGRES_VERSIONS = [15, 16, 17];

/**
 * The connection limit of a PostgreSQL server with this much memory: RDS's default
 * `LEAST({DBInstanceClassMemory/9531392}, 5000)`
 * (https://docs.aws.amazon.com/prescriptive-guidance/latest/tuning-postgresql-parameters/max-connections.html).
 * AWS and GCP set `max_connections` to it explicitly, so the limit is this figure and not a
 * default that varies with what the OS reserves (Cloud SQL's own defaults are lower: 25 on db-f1-micro).
 */
export function maxConnectionsFor(memoryMb: number): number {
  return Math.min(Math.floor((memoryMb * 1024 * 1024) / 9531392), 5000);
}

/**
 * Connections the environment's applications may open at once: every service's pool at full
 * overflow, plus a reserve for the admin provider, the schema command, analytics and the
 * platform's own reserved slots (superuser_reserved_connections is 3 by default).
 */
export const RESERVED_CONNECTIONS = 10;
export function connectionsNeeded(config: GaiaConfig): number {
  return config.services.length * (config.pool.size + config.pool.maxOverflow) + RESERVED_CONNECTIONS;
}
