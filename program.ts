import { GaiaDatabase } from "./components/gaiaDatabase";
import { loadStackArgs } from "./stacks/load";

/**
 * The stack: its configuration in, one GaiaDatabase out, and the outputs applications and
 * operators read. A function (not top-level code) so the offline plan and the tests can run
 * it once per stack in one process.
 */
export function gaiaStack() {
  const gaia = new GaiaDatabase("gaia", loadStackArgs());
  return {
    platform: gaia.config.platform,
    host: gaia.host,
    port: gaia.port,
    databaseName: gaia.databaseName,
    replicaHosts: gaia.replicaHosts,
    connectionUrls: gaia.connectionUrls,
    redisEndpoint: gaia.redisEndpoint,
    redisUrl: gaia.redisUrl,
    // Only shared servers (local) confine an environment to a key prefix.
    ...(gaia.redisKeyPrefix ? { redisKeyPrefix: gaia.redisKeyPrefix } : {}),
    pool: gaia.pool,
    adminApiKey: gaia.adminApiKey,
    adminUrl: gaia.adminUrl,
    // The CAs clients verify the servers against (public certificates, not secrets).
    postgresCa: gaia.postgresCa,
    redisCa: gaia.redisCa,
    secretNames: gaia.secretNames,
  };
}
