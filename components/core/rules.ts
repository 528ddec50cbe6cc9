import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { PRESETS, PRESET_NAMES, type Preset } from "../../stacks/presets";
import { NAMESPACE, type GaiaConfig, shown } from "./config";
import type { PlatformCapabilities } from "./platformRules";

/**
 * The rules every stack keeps whatever its platform, written against a platform's capabilities
 * alone: what it offers (regions, versions, replicas, backups), the access policy, what
 * production keeps, and alerts and audit logging only where the component can make them.
 */

export function raisedToFloor(instance: Preset["instance"], minStorageGb: number): Preset["instance"] {
  if (instance.storageGb >= minStorageGb) return instance;
  const growth = instance.maxStorageGb / instance.storageGb;
  return { ...instance, storageGb: minStorageGb, maxStorageGb: Math.ceil(minStorageGb * growth) };
}

export function checkAgainstPlatform(config: GaiaConfig, caps: PlatformCapabilities, regionDefaulted: boolean): string[] {
  const p = config.platform;
  const problems: string[] = [];
  if (!regionDefaulted && !caps.regions.includes(config.region)) {
    problems.push(`gaia:region ${shown(config.region)} is not a ${p} region: use one of ${caps.regions.join(", ")}.`);
  }
  if (!caps.postgresVersions.includes(config.postgresVersion)) {
    problems.push(`gaia:postgresVersion ${config.postgresVersion} is not offered on ${p}: use one of ${caps.postgresVersions.join(", ")} (major version only).`);
  }
  if (config.replicas > caps.maxReplicas) {
    problems.push(`gaia:replicas ${config.replicas} is more than ${p} allows (${caps.maxReplicas}): lower it.`);
  }
  if (config.highAvailability && !caps.highAvailability) {
    problems.push(`gaia:highAvailability is not available on ${p}: set it to false.`);
  }
  if (config.redis.highAvailability && !caps.highAvailability) {
    problems.push(`gaia:redis.highAvailability is not available on ${p}: set it to false.`);
  }
  const { backups } = config;
  if (backups.enabled) {
    const range = caps.retentionDays;
    if (!range) problems.push(`gaia:backups.enabled: ${p} keeps no backups of its own; set gaia:backups.enabled to false.`);
    else if (range !== "platform" && (backups.retentionDays < range.min || backups.retentionDays > range.max)) {
      problems.push(`gaia:backups.retentionDays ${backups.retentionDays} is outside ${p}'s range ${range.min}-${range.max}: choose a value in it.`);
    }
  }
  if (backups.pitr) {
    const range = caps.pitrDays;
    if (!range) problems.push(`gaia:backups.pitr: ${p} has no point-in-time recovery; set gaia:backups.pitr to false.`);
    else if (range !== "platform" && (backups.pitrDays < range.min || backups.pitrDays > range.max)) {
      problems.push(`gaia:backups.pitrDays ${backups.pitrDays} is outside ${p}'s point-in-time-recovery window ${range.min}-${range.max}: choose a value in it.`);
    }
    if (!backups.enabled) problems.push(`gaia:backups.pitr needs backups: set gaia:backups.enabled to true.`);
  }
  // Sizes are in MB: a handful is a size written in GB.
  for (const [key, mb] of [["instance.memoryMb", config.instance.memoryMb], ["redis.memoryMb", config.redis.memoryMb]] as const) {
    if (mb < 128) problems.push(`gaia:${key} ${mb} is in MB, not GB: write ${mb * 1024} for ${mb} GB.`);
  }
  if (config.instance.storageGb < caps.minStorageGb) {
    problems.push(`gaia:instance.storageGb ${config.instance.storageGb} is below ${p}'s minimum of ${caps.minStorageGb} GB: raise it.`);
  }
  if (config.instance.maxStorageGb < config.instance.storageGb) {
    problems.push(`gaia:instance.maxStorageGb ${config.instance.maxStorageGb} is below gaia:instance.storageGb ${config.instance.storageGb}: storage only grows; raise maxStorageGb.`);
  }
  return problems;
}

/** Rules no stack may break, whatever it overrides. */
export function checkPolicy(config: GaiaConfig, caps: PlatformCapabilities): string[] {
  const problems: string[] = [];
  for (const service of config.services) {
    if (!(SERVICE_ROLE_NAMES as string[]).includes(service)) {
      problems.push(`gaia:services lists "${service}", which the access policy does not define: use ${SERVICE_ROLE_NAMES.join(", ")}, or add it to policy/access.ts.`);
    }
  }
  if (new Set(config.services).size !== config.services.length) problems.push("gaia:services lists a service twice: list each once.");
  // A stack named after a preset is that environment: it cannot wear another's protections.
  const namedAs = (PRESET_NAMES as readonly string[]).find((p) => p === config.environment);
  if (namedAs && namedAs !== config.preset) {
    problems.push(`gaia:preset is ${config.preset} on the ${namedAs} environment: an environment named ${namedAs} uses the ${namedAs} preset; remove gaia:preset.`);
  }
  if (config.preset === "production") problems.push(...productionProblems(config, caps));
  return problems;
}

/** Alerts and audit logging asked for where the component cannot give them, and a notification target in the platform's form. */
export function observabilityProblems(config: GaiaConfig, caps: PlatformCapabilities, auditLoggingSet: boolean | undefined): string[] {
  const problems: string[] = [];
  if (auditLoggingSet && !caps.auditLogging) {
    problems.push(`gaia:auditLogging cannot be turned on on ${config.platform}: the component sets no server parameters there (docs/alerts.md, "Alerts and audit logging"); remove it.`);
  }
  const notify = config.alerts.notify;
  if (notify && !caps.alerts) problems.push(`gaia:alerts.notify: the component makes no alerts on ${config.platform} (docs/alerts.md, "Alerts and audit logging"); remove it.`);
  if (notify && caps.alerts && !caps.alerts.pattern.test(notify)) problems.push(`gaia:alerts.notify "${notify}" is not ${caps.alerts.target}.`);
  // (A region the platform lacks is a problem of its own, said once.)
  else if (notify && caps.alerts?.regionOf && caps.regions.includes(config.region) && caps.alerts.regionOf(notify) !== config.region) {
    problems.push(`gaia:alerts.notify "${notify}" is in ${caps.alerts.regionOf(notify)}, but the stack's alarms are in ${config.region} (gaia:region), and they notify only a topic of their own region: use a topic in ${config.region}.`);
  }
  return problems;
}

/**
 * What production keeps, whatever the stack is called or overrides: the production preset's
 * protections, as far as the platform has them (Fly keeps its own backups and has no read replicas).
 */
function productionProblems(config: GaiaConfig, caps: PlatformCapabilities): string[] {
  const floor = PRESETS.production;
  const { backups } = config;
  const problems: string[] = [];
  // Lifted only by a decommission, which says so in the stack file for the review to see.
  if (!config.deletionProtection && !config.decommission) problems.push("gaia:deletionProtection is false on a production stack: production databases keep deletion protection; remove the override (to take it down on purpose, set gaia:decommission: true).");
  if (!backups.enabled || !backups.pitr) problems.push("gaia:backups: production needs backups with point-in-time recovery; remove the override that turns them off.");
  if (!config.finalSnapshot) problems.push("gaia:finalSnapshot is false on a production stack: production keeps a final snapshot; remove the override.");
  if (!config.protect && !config.decommission) problems.push("gaia:protect is false on a production stack: production resources stay protected; remove the override (to take it down on purpose, set gaia:decommission: true).");
  if (caps.highAvailability && !config.highAvailability) problems.push("gaia:highAvailability is false on a production stack: production runs with a standby; remove the override.");
  if (backups.enabled && caps.retentionDays !== "platform" && backups.retentionDays < floor.backups.retentionDays) {
    problems.push(`gaia:backups.retentionDays ${backups.retentionDays} is below production's ${floor.backups.retentionDays}: keep ${floor.backups.retentionDays} or more.`);
  }
  if (backups.pitr && caps.pitrDays !== "platform" && backups.pitrDays < floor.backups.pitrDays) {
    problems.push(`gaia:backups.pitrDays ${backups.pitrDays} is below production's recovery window of ${floor.backups.pitrDays} days: keep ${floor.backups.pitrDays} or more.`);
  }
  const replicas = Math.min(floor.replicas, caps.maxReplicas);
  if (config.replicas < replicas) problems.push(`gaia:replicas ${config.replicas} is below production's ${replicas}: keep ${replicas} or more.`);
  if (caps.highAvailability && !config.redis.highAvailability) problems.push("gaia:redis.highAvailability is false on a production stack: production's Redis keeps a replica to fail over to; remove the override.");
  if (caps.auditLogging && !config.auditLogging) problems.push("gaia:auditLogging is false on a production stack: production logs DDL, role changes and connections for audit; remove the override.");
  if (caps.alerts && !config.alerts.notify) problems.push(`gaia:alerts.notify is required on production: ${caps.alerts.target}, so that an alarm reaches someone.`);
  return problems;
}

/** A setting whose name says it holds a credential: a URL (with its password), a token, a password. */
export const CREDENTIAL_NAME = /(url|token|password)$/i;

/** The dotted paths under `at` of every value whose own name says it holds a credential, at any depth. */
export function credentialPaths(value: unknown, at: string): string[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) =>
    CREDENTIAL_NAME.test(key) && (typeof v !== "object" || v === null) ? [`${at}.${key}`] : credentialPaths(v, `${at}.${key}`),
  );
}

/** The sentence for a credential stored in plain text, wherever it is found (here, or per value in the stack file: stacks/stackFile.ts). */
export const plainTextCredential = (key: string) => `${key} is stored in plain text: set it with \`pulumi config set --secret --path ${key} …\`.`;

/**
 * Settings whose names say they hold credentials, at any depth of the platform's block, must be
 * set with `--secret`. The engine says only whether the whole `gaia:<platform>` key is secret,
 * which one secret value in it makes it; the stack file says it of each value, and is read for
 * that too (stacks/stackFile.ts).
 */
export function checkSecretsAreSecret(platform: string, block: unknown, secretKeys: ReadonlySet<string>): string[] {
  if (secretKeys.has(platform)) return [];
  return credentialPaths(block, `${NAMESPACE}:${platform}`).map(plainTextCredential);
}
