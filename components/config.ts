import { z } from "zod";
import { SERVICE_ROLE_NAMES, type ServiceRoleName } from "../policy/access";
import { ENVIRONMENT_NAME_PATTERN, ENVIRONMENT_NAME_RULE, environmentNames, type EnvironmentNames } from "../policy/naming";
import { PLATFORMS, PLATFORM_NAMES, type PlatformName } from "./platforms";
import { contractProblems } from "./platforms/contracts";
import { rotationProblems } from "./rotation";
import { PRESETS, PRESET_NAMES, type Preset, type PresetName } from "../stacks/presets";

/**
 * What the offline plan puts where a stack file holds an encrypted value it cannot decrypt
 * (scripts/lib/offline.ts). Validation skips such values and says so; a real run gets the value.
 */
export const ENCRYPTED_PLACEHOLDER = "[encrypted]";

/** Stand-ins for required values that are encrypted, so the rest can still be checked and planned. */
const ENCRYPTED_STAND_INS: Record<string, unknown> = { adminEmail: "encrypted@example.invalid" };

/** The dotted paths (`local.postgresUrl`) of encrypted placeholders in raw config. */
export function encryptedPaths(value: unknown, at = ""): string[] {
  if (value === ENCRYPTED_PLACEHOLDER) return [at];
  if (value && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => encryptedPaths(v, at ? `${at}.${k}` : k));
  }
  return [];
}

/** Raw config without its placeholders: an encrypted optional value is left to its default, a required one gets a stand-in. */
function withoutPlaceholders(value: unknown, key?: string): unknown {
  if (value === ENCRYPTED_PLACEHOLDER) return key !== undefined ? ENCRYPTED_STAND_INS[key] : undefined;
  if (Array.isArray(value)) return value.map((v) => withoutPlaceholders(v));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .map(([k, v]) => [k, withoutPlaceholders(v, k)] as const)
        .filter(([, v]) => v !== undefined),
    );
  }
  return value;
}

/** The configuration namespace: every key is `gaia:<key>`. */
export const NAMESPACE = "gaia";

/** One environment, fully resolved: its preset with the stack's overrides, validated. */
export interface GaiaConfig extends Omit<Preset, "instance"> {
  environment: string;
  names: EnvironmentNames;
  platform: PlatformName;
  preset: PresetName;
  region: string;
  postgresVersion: number;
  instance: Preset["instance"] & { class?: string };
  services: ServiceRoleName[];
  /** Where Pulumi reaches PostgreSQL to manage roles (a tunnel or proxy), when not the instance itself. */
  management: { host?: string; port?: number };
  adminEmail: string;
  /** Rotation generations per credential and `all` (components/rotation.ts). */
  rotation: Record<string, number>;
  /** Where alerts go: an SNS topic ARN (aws), a notification channel (gcp). Required on production. */
  alerts: { notify?: string };
  /** The platform's own block (`gaia:aws`, `gaia:gcp`, `gaia:fly`, `gaia:local`), parsed by the platform. */
  platformSettings: unknown;
}

/** Every problem in a stack's configuration at once, each with its fix. */
export class GaiaConfigError extends Error {
  override name = "GaiaConfigError";
  constructor(
    readonly stackName: string,
    readonly problems: string[],
  ) {
    super(
      `Stack "${stackName}" has ${problems.length} configuration problem(s); nothing was created or changed:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
}

const positiveInt = z.number().int().positive();
const days = z.number().int().min(0);

/** The shape of `gaia:*` keys. Unknown keys are refused, so a typo never passes silently. */
const stackSchema = z
  .object({
    environment: z.string(),
    platform: z.enum(PLATFORM_NAMES),
    preset: z.enum(PRESET_NAMES),
    region: z.string().min(1),
    postgresVersion: z.number().int(),
    instance: z
      .object({ vcpus: positiveInt, memoryMb: positiveInt, storageGb: positiveInt, maxStorageGb: positiveInt, class: z.string().min(1) })
      .partial()
      .strict(),
    pool: z.object({ size: positiveInt, maxOverflow: z.number().int().min(0) }).partial().strict(),
    backups: z.object({ enabled: z.boolean(), retentionDays: days, pitr: z.boolean(), pitrDays: days }).partial().strict(),
    highAvailability: z.boolean(),
    replicas: z.number().int().min(0, { message: "must be 0 or more" }),
    deletionProtection: z.boolean(),
    finalSnapshot: z.boolean(),
    protect: z.boolean(),
    redis: z.object({ memoryMb: positiveInt, highAvailability: z.boolean() }).partial().strict(),
    services: z.array(z.string()),
    management: z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).partial().strict(),
    adminEmail: z.email(),
    rotation: z.record(z.string(), z.number().int().min(0, { message: "must be a generation, 0 or more" })),
    auditLogging: z.boolean(),
    alerts: z.object({ notify: z.string().min(1) }).partial().strict(),
    aws: z.unknown(),
    gcp: z.unknown(),
    fly: z.unknown(),
    local: z.unknown(),
  })
  .partial()
  .strict();

/** How to fix a key, for the messages. */
const HINTS: Record<string, string> = {
  platform: `set gaia:platform to one of ${PLATFORM_NAMES.join(", ")}`,
  preset: `set gaia:preset to one of ${PRESET_NAMES.join(", ")}`,
  replicas: "set gaia:replicas to a whole number, 0 for none",
  adminEmail: "set gaia:adminEmail to the environment administrator's address",
};

/**
 * Resolves a stack's raw `gaia:*` values (already JSON-decoded) into a `GaiaConfig`, or throws
 * one `GaiaConfigError` listing every problem. Pure: no Pulumi runtime needed.
 *
 * @param secretKeys keys (without namespace) that were set with `pulumi config set --secret`.
 */
export function resolveConfig(stack: string, given: Record<string, unknown>, secretKeys?: ReadonlySet<string>, misplacedKeys: readonly string[] = []): GaiaConfig {
  const raw = encryptedPaths(given).length ? (withoutPlaceholders(given) as Record<string, unknown>) : given;
  const problems: string[] = misplacedKeys.map((key) => {
    const name = key.slice(key.indexOf(":") + 1).split(".")[0];
    return `${key} is in the project's namespace, where the program does not read it: set it as ${NAMESPACE}:${name} (pulumi config rm ${key}; pulumi config set ${NAMESPACE}:${name} …).`;
  });
  // The environment's identity: pinned in the stack file, so renaming the stack changes nothing.
  const pinned = typeof raw.environment === "string" ? raw.environment : undefined;
  const environment = pinned ?? stack;
  if (!ENVIRONMENT_NAME_PATTERN.test(environment)) {
    problems.push(
      pinned === undefined
        ? `stack name "${stack}": ${ENVIRONMENT_NAME_RULE} (it names the database, the roles and every cloud resource), or set gaia:environment to such a name.`
        : `gaia:environment "${pinned}": ${ENVIRONMENT_NAME_RULE} (it names the database, the roles and every cloud resource).`,
    );
  }

  // A key with a bad value is reported and left out, so the checks below still see the rest:
  // one run lists every problem.
  const rejected = new Set<string>();
  let parsed = stackSchema.safeParse(raw);
  if (!parsed.success) {
    const rest = { ...raw };
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          const path = [...issue.path, key].join(".");
          problems.push(`gaia:${path} is not a known setting: remove it or correct its name (see README, "Stacks and configuration").`);
          if (issue.path.length === 0) delete rest[key];
        }
      } else {
        const key = issue.path.join(".");
        const got = valueAt(raw, issue.path);
        problems.push(`gaia:${key}: ${issue.message}${got === undefined ? "" : ` (got ${JSON.stringify(got)})`}${HINTS[key] ? `; ${HINTS[key]}` : ""}.`);
      }
      rejected.add(String(issue.path[0]));
      delete rest[String(issue.path[0])];
    }
    parsed = stackSchema.safeParse(rest);
    if (!parsed.success) throw new GaiaConfigError(stack, problems);
  }
  const values = parsed.data;
  // A key written in the wrong namespace is reported once, as misplaced, not also as missing.
  // A key reported above (a bad value) or written in the wrong namespace is not also reported as missing.
  const misplaced = new Set([...rejected, ...misplacedKeys.map((key) => key.slice(key.indexOf(":") + 1).split(".")[0]!)]);
  if (!values.platform && !misplaced.has("platform")) problems.push(`gaia:platform is required: ${HINTS.platform}.`);
  const presetName = values.preset ?? (PRESET_NAMES as readonly string[]).find((p) => p === environment);
  if (!presetName) problems.push(`gaia:preset is required for environment "${environment}": ${HINTS.preset}.`);
  if (!values.adminEmail && !misplaced.has("adminEmail")) problems.push(`gaia:adminEmail is required: ${HINTS.adminEmail}.`);
  // Without a platform and a preset nothing else can be checked; a missing email blocks nothing else.
  if (!values.platform || !presetName) throw new GaiaConfigError(stack, problems);

  const platform = PLATFORMS[values.platform];
  const preset = PRESETS[presetName as PresetName];
  const caps = platform.capabilities;
  const config: GaiaConfig = {
    environment,
    names: environmentNames(environment),
    platform: values.platform,
    preset: presetName as PresetName,
    region: values.region ?? caps.regions[0]!,
    postgresVersion: values.postgresVersion ?? 16,
    // A preset size below the platform's floor is raised to it, keeping the preset's room to
    // grow (dev: 10 GB growing to 20 becomes 20 growing to 40 on RDS); an explicit one is checked.
    instance: { ...raisedToFloor(preset.instance, caps.minStorageGb), ...values.instance },
    pool: { ...preset.pool, ...values.pool },
    backups: { ...preset.backups, ...values.backups },
    highAvailability: values.highAvailability ?? preset.highAvailability,
    replicas: values.replicas ?? preset.replicas,
    deletionProtection: values.deletionProtection ?? preset.deletionProtection,
    finalSnapshot: values.finalSnapshot ?? preset.finalSnapshot,
    protect: values.protect ?? preset.protect,
    redis: { ...preset.redis, ...values.redis },
    services: (values.services ?? SERVICE_ROLE_NAMES) as ServiceRoleName[],
    management: values.management ?? {},
    adminEmail: values.adminEmail ?? "",
    rotation: values.rotation ?? {},
    auditLogging: values.auditLogging ?? preset.auditLogging,
    alerts: values.alerts ?? {},
    platformSettings: undefined,
  };

  problems.push(...checkAgainstPlatform(config, values.region === undefined));
  problems.push(...checkPolicy(config));
  problems.push(...rotationProblems(config.rotation, config.services, config.platform));
  problems.push(...observabilityProblems(config, values.auditLogging));

  const settingsResult = platform.settings.safeParse(raw[config.platform] ?? {});
  if (!settingsResult.success) {
    if (raw[config.platform] === undefined) {
      problems.push(`gaia:${config.platform} is required on ${config.platform}: set its settings (README, "Stacks and configuration").`);
    }
    for (const issue of settingsResult.error.issues) {
      const key = [config.platform, ...issue.path].join(".");
      const missing = valueAt((raw[config.platform] ?? {}) as Record<string, unknown>, issue.path) === undefined;
      problems.push(`gaia:${key}: ${missing ? "is required" : issue.message}.`);
    }
  } else {
    config.platformSettings = settingsResult.data;
    problems.push(...(platform.validate?.(config, settingsResult.data as never) ?? []));
    // Only stack files say which values were set with --secret; a program's args are its own.
    if (secretKeys) problems.push(...checkSecretsAreSecret(config.platform, raw[config.platform], secretKeys));
  }
  problems.push(...contractProblems(config));
  if (problems.length > 0) throw new GaiaConfigError(stack, problems);
  return config;
}

function raisedToFloor(instance: Preset["instance"], minStorageGb: number): Preset["instance"] {
  if (instance.storageGb >= minStorageGb) return instance;
  const growth = instance.maxStorageGb / instance.storageGb;
  return { ...instance, storageGb: minStorageGb, maxStorageGb: Math.ceil(minStorageGb * growth) };
}

function checkAgainstPlatform(config: GaiaConfig, regionDefaulted: boolean): string[] {
  const caps = PLATFORMS[config.platform].capabilities;
  const p = config.platform;
  const problems: string[] = [];
  if (!regionDefaulted && !caps.regions.includes(config.region)) {
    problems.push(`gaia:region "${config.region}" is not a ${p} region: use one of ${caps.regions.join(", ")}.`);
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
function checkPolicy(config: GaiaConfig): string[] {
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
  if (config.preset === "production") problems.push(...productionProblems(config));
  return problems;
}

/** Alerts and audit logging asked for where the component cannot give them, and a notification target in the platform's form. */
function observabilityProblems(config: GaiaConfig, auditLoggingSet: boolean | undefined): string[] {
  const caps = PLATFORMS[config.platform].capabilities;
  const problems: string[] = [];
  if (auditLoggingSet && !caps.auditLogging) {
    problems.push(`gaia:auditLogging cannot be turned on on ${config.platform}: the component sets no server parameters there (README, "Alerts and audit logging"); remove it.`);
  }
  const notify = config.alerts.notify;
  if (notify && !caps.alerts) problems.push(`gaia:alerts.notify: the component makes no alerts on ${config.platform} (README, "Alerts and audit logging"); remove it.`);
  if (notify && caps.alerts && !caps.alerts.pattern.test(notify)) problems.push(`gaia:alerts.notify "${notify}" is not ${caps.alerts.target}.`);
  return problems;
}

/**
 * What production keeps, whatever the stack is called or overrides: the production preset's
 * protections, as far as the platform has them (Fly keeps its own backups and has no read replicas).
 */
function productionProblems(config: GaiaConfig): string[] {
  const floor = PRESETS.production;
  const caps = PLATFORMS[config.platform].capabilities;
  const { backups } = config;
  const problems: string[] = [];
  if (!config.deletionProtection) problems.push("gaia:deletionProtection is false on a production stack: production databases keep deletion protection; remove the override.");
  if (!backups.enabled || !backups.pitr) problems.push("gaia:backups: production needs backups with point-in-time recovery; remove the override that turns them off.");
  if (!config.finalSnapshot) problems.push("gaia:finalSnapshot is false on a production stack: production keeps a final snapshot; remove the override.");
  if (!config.protect) problems.push("gaia:protect is false on a production stack: production resources stay protected; remove the override.");
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

/** Settings whose names say they hold credentials must be set with `--secret`. */
function checkSecretsAreSecret(platform: string, block: unknown, secretKeys: ReadonlySet<string>): string[] {
  if (!block || typeof block !== "object") return [];
  return Object.keys(block)
    .filter((key) => /(url|token|password)$/i.test(key) && !secretKeys.has(platform))
    .map((key) => `gaia:${platform}.${key} is stored in plain text: set it with \`pulumi config set --secret --path ${NAMESPACE}:${platform}.${key} …\`.`);
}

function valueAt(raw: Record<string, unknown>, path: PropertyKey[]): unknown {
  let value: unknown = raw;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Decodes Pulumi's config map (`gaia:key` -> string, objects as JSON) into raw values. */
export function decodeStackConfig(all: Record<string, string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(all)) {
    const [namespace, key] = fullKey.split(":", 2);
    if (namespace !== NAMESPACE || !key) continue;
    try {
      raw[key] = JSON.parse(value);
    } catch {
      raw[key] = value;
    }
  }
  return raw;
}
