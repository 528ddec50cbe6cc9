/**
 * The Redis ACL user of one environment on a shared server (platform `local`):
 *   apply   create or update the user: its password and its key prefix, nothing else
 *   delete  remove the user and the environment's keys, leaving the server as it was
 *
 *   GAIA_REDIS_ADMIN_URL   admin connection (redis://[user:password@]host:port), secret
 *   GAIA_REDIS_USER        the environment's ACL user
 *   GAIA_REDIS_PASSWORD    its current password, secret
 *   GAIA_REDIS_PREVIOUS_PASSWORD  the previous one, still accepted until the next rotation (optional), secret
 *   GAIA_REDIS_KEY_PREFIX  the prefix every key of the environment carries
 */
import { OpsError, requireEnv, runMain } from "./lib/env";
import { aclRules, connectRedis, describeRedis, keyPatternOf, keysWithPrefix } from "./lib/redis";

runMain(async () => {
  const verb = process.argv[2];
  const adminUrl = requireEnv("GAIA_REDIS_ADMIN_URL", "the Redis admin connection URL");
  const user = requireEnv("GAIA_REDIS_USER", "the environment's Redis user name");
  const prefix = requireEnv("GAIA_REDIS_KEY_PREFIX", "the environment's key prefix");
  if (verb !== "apply" && verb !== "delete") throw new OpsError(`unknown action "${verb}": use apply or delete.`);

  const admin = await connectRedis(adminUrl);
  try {
    if (verb === "apply") {
      const password = requireEnv("GAIA_REDIS_PASSWORD", "the environment user's password");
      // An existing user of that name is taken over only if it is this environment's (its key
      // pattern is the prefix): a delete later would remove it and its keys.
      const existing = await keyPatternOf(admin, user);
      if (existing !== undefined && existing !== `~${prefix}*`) {
        throw new OpsError(`Redis user ${user} exists on ${describeRedis(adminUrl)} and is not this environment's (its keys are not ${prefix}*): remove it, or choose another gaia:environment.`);
      }
      const previous = process.env.GAIA_REDIS_PREVIOUS_PASSWORD;
      await admin.sendCommand(["ACL", "SETUSER", user, ...aclRules(prefix, password, ...(previous ? [previous] : []))]);
      // Prove the credential works before Pulumi records success.
      const url = new URL(adminUrl);
      url.username = user;
      url.password = password;
      const probe = await connectRedis(url.toString());
      await probe.ping();
      await probe.quit();
      process.stdout.write(`redis user ${user} on ${describeRedis(adminUrl)} may use keys ${prefix}* only\n`);
    } else {
      const pattern = await keyPatternOf(admin, user);
      if (pattern !== `~${prefix}*`) {
        process.stdout.write(pattern === undefined ? `redis user ${user} is already gone\n` : `redis user ${user} is not this environment's (keys ${pattern}): left in place\n`);
        return;
      }
      const keys = await keysWithPrefix(admin, prefix);
      for (let i = 0; i < keys.length; i += 500) await admin.unlink(keys.slice(i, i + 500));
      await admin.sendCommand(["ACL", "DELUSER", user]);
      process.stdout.write(`redis user ${user} and ${keys.length} key(s) under ${prefix} removed\n`);
    }
  } finally {
    await admin.quit();
  }
});
