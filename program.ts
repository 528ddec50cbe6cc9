import * as pulumi from "@pulumi/pulumi";
import { accessOutput } from "./components/access";
import { GaiaConfigError, stackFileName } from "./components/config";
import { GaiaDatabase } from "./components/gaiaDatabase";
import { platformOf } from "./components/platforms";
import { credentialGenerations, rotationStepProblems } from "./components/rotation";
import { loadStackArgs } from "./stacks/load";
import { appliedRestore as restoreApplied, restoreStepProblems, type AppliedRestore } from "./components/core/restore";

/**
 * The stack: its configuration in, one GaiaDatabase out, and the outputs applications and
 * operators read. A function (not top-level code) so the offline plan and the tests can run
 * it once per stack in one process.
 *
 * @param applied the credentials' generations the stack's last update applied (its `rotation`
 * output, read by ./index.ts); the stack file may keep each or raise it by one, never lower it
 * or raise it by more (components/rotation.ts, rotationStepProblems). Undefined: nothing known to
 * compare with (an offline plan, which has no state; a stack's first update).
 * @param appliedRestore the restore the last update applied (its `restore` output; null: none),
 * which the stack file may only move on from step by step (restoreStepProblems). Undefined: not
 * known (an offline plan).
 */
export function gaiaStack(applied?: Readonly<Record<string, number>>, appliedRestore?: AppliedRestore | null) {
  const { args, config } = loadStackArgs();
  const generations = credentialGenerations(config.rotation, config.services, platformOf(config).cannotRotate);
  const stepProblems = [...(applied ? rotationStepProblems(applied, generations) : []), ...restoreStepProblems(appliedRestore, config.restore, { pitrDays: config.backups.pitrDays, platformWindow: platformOf(config).capabilities.pitrDays }, new Date())];
  if (stepProblems.length > 0) throw GaiaConfigError.inFile(new GaiaConfigError(pulumi.getStack(), stepProblems), stackFileName(pulumi.getStack()));
  const gaia = new GaiaDatabase("gaia", args);
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
    // Who may do what, in the clear: the schema command carries the policy in an environment
    // that is secret as a whole, so a grant change shows in `pulumi preview` here.
    access: accessOutput(gaia.config),
    // What this update applied, once every credential it renews is in place (the URLs and the
    // admin key come after the roles and stores): a failed update leaves the previous value.
    rotation: pulumi.unsecret(pulumi.all([gaia.connectionUrls, gaia.redisUrl, gaia.adminUrl, gaia.adminApiKey, gaia.secretNames]).apply(() => generations)),
    // The restore this update applied (components/core/restore.ts), once the URLs follow the restored instance.
    restore: pulumi.unsecret(pulumi.all([gaia.connectionUrls, gaia.host]).apply(() => restoreApplied(config.restore))),
  };
}
