import type { GaiaConfig } from "../../core/config";

/**
 * PostgreSQL majors the cloud platforms take. 14 is left out: it reached end of life on
 * 2026-11-12 (https://www.postgresql.org/support/versioning/), and there schema `public`
 * belongs to the platform's bootstrap superuser, so the cloud admin cannot take CREATE on it
 * from PUBLIC (from 15 on it belongs to the database owner: PostgreSQL 15 release notes).
 */
export const SUPPORTED_POSTGRES_VERSIONS = [15, 16, 17];

/**
 * What a class leaves PostgreSQL of its nominal memory: RDS's formula works on
 * `DBInstanceClassMemory`, "the memory available to the DB instance" once the OS and RDS's own
 * processes have theirs, which AWS does not publish; observed defaults put it below the nominal
 * figure (review-2-cloud.md m2: db.t2.medium, 4 GiB, gets 413 connections by default, so about
 * 3,754 MiB: 8% less). Unverified at AWS, so taken on the safe side of what was observed: 10% and
 * 256 MiB more held back, on Cloud SQL too, which publishes no figure either.
 */
export function usableMemoryMb(memoryMb: number): number {
  return Math.floor(memoryMb * 0.9) - 256;
}

/** The most connections any server gets: RDS's formula's cap. */
export const MAX_CONNECTIONS = 5000;

/**
 * The connection limit of a PostgreSQL server with this much (nominal) memory: RDS's default
 * `LEAST({DBInstanceClassMemory/9531392}, 5000)`
 * (https://docs.aws.amazon.com/prescriptive-guidance/latest/tuning-postgresql-parameters/max-connections.html)
 * on the memory the class leaves PostgreSQL (usableMemoryMb), so the limit never promises
 * connections the memory cannot hold. AWS and GCP set `max_connections` to it explicitly, so the
 * limit is this figure (Cloud SQL's own defaults are lower: 25 on db-f1-micro).
 */
export function maxConnectionsFor(memoryMb: number): number {
  return Math.max(0, Math.min(Math.floor((usableMemoryMb(memoryMb) * 1024 * 1024) / 9531392), MAX_CONNECTIONS));
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
