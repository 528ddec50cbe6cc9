import { z } from "zod";
import { SERVICE_ROLE_NAMES, type ServiceRoleName } from "../../policy/access";
import { ENVIRONMENT_NAME_PATTERN, ENVIRONMENT_NAME_RULE, environmentNameClash, environmentNames } from "../../policy/naming";
import { PRESETS, PRESET_NAMES, type PresetName } from "../../stacks/presets";
import { rotationProblems } from "../rotation";
import { GaiaConfigError, encryptedPaths, shown, valueAt, withoutPlaceholders, type GaiaConfig } from "./config";
import type { PlatformRules } from "./platformRules";
import { checkAgainstPlatform, checkPolicy, checkSecretsAreSecret, observabilityProblems, raisedToFloor } from "./rules";
import { closest } from "./suggest";
import { resolveRestore, restoreSchema } from "./restore";

const positiveInt = z.number().int().positive();
const days = z.number().int().min(0);

/** The shape of `gaia:*` keys, for the platforms of a registry. Unknown keys are refused, so a typo never passes silently. */
const stackSchema = (platforms: readonly [string, ...string[]]) => z
  .object({
    environment: z.string(),
    platform: z.enum(platforms),
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
    // RFC 5321 4.5.3.1: at most 64 octets before the @, 254 in all (a path of 256 with its brackets).
    adminEmail: z.email().max(254, { message: "is longer than an address may be (254 characters)" }).refine((a) => a.split("@")[0]!.length <= 64, { message: "has more than 64 characters before the @, more than an address may have" }),
    rotation: z.record(z.string(), z.number().int().min(0, { message: "must be a generation, 0 or more" })),
    auditLogging: z.boolean(),
    alerts: z.object({ notify: z.string().min(1) }).partial().strict(),
    decommission: z.boolean(),
    restore: restoreSchema,
    // Each platform's own block, which the platform parses (PlatformRules.checkSettings).
    ...Object.fromEntries(platforms.map((name) => [name, z.unknown()])),
  })
  .partial()
  .strict();

/** Every `gaia:*` key a stack file may set, platform blocks included. */
export const stackKeys = (platforms: readonly [string, ...string[]]): string[] => Object.keys(stackSchema(platforms).shape);

/** The keys of an object schema (optional or not); none for a map of any keys; null for a value that is no map. */
const keysOf = (schema: z.ZodType | undefined): string[] | null => {
  const inner = schema instanceof z.ZodOptional ? schema.unwrap() : schema;
  if (inner instanceof z.ZodObject) return Object.keys(inner.shape);
  return inner instanceof z.ZodRecord ? [] : null;
};

/**
 * Every `gaia:*` key with the keys of its block (`instance`: vcpus, memoryMb, …; a platform's:
 * its settings), empty for a map of any keys (`rotation`), null for a key that holds a value or
 * a list: what an un-indented or misspelt key of a stack file is matched against.
 */
export function settingTree(platforms: Readonly<Record<string, PlatformRules>>): Record<string, readonly string[] | null> {
  const shape = stackSchema(Object.keys(platforms) as [string, ...string[]]).shape as Record<string, z.ZodType>;
  return Object.fromEntries(Object.keys(shape).map((key) => [key, Object.hasOwn(platforms, key) ? platforms[key]!.settingKeys ?? [] : keysOf(shape[key])]));
}

/**
 * A key outside `gaia:` that stands for a setting (`gaia-database:platform`, `giaa:replicas`,
 * `aws:region`), with its problem: the problem is listed, and the setting it stands for is not
 * also reported as missing.
 */
export interface MisplacedKey {
  problem: string;
  /** The `gaia:` key it stands for (`platform`, `region`), if any. */
  setting?: string;
}

/** How to fix a key, for the messages. */
const hints = (platforms: readonly string[]): Record<string, string> => ({
  platform: `set gaia:platform to one of ${platforms.join(", ")}`,
  preset: `set gaia:preset to one of ${PRESET_NAMES.join(", ")}`,
  replicas: "set gaia:replicas to a whole number, 0 for none",
  adminEmail: "set gaia:adminEmail to the environment administrator's address",
});

/**
 * Resolves a stack's raw `gaia:*` values (already JSON-decoded) into a `GaiaConfig`, with the
 * rules of the platforms it is given (components/config.ts gives the registry's), or throws one
 * `GaiaConfigError` listing every problem. Pure: no Pulumi runtime needed.
 *
 * @param secretKeys keys (without namespace) that were set with `pulumi config set --secret`.
 */
export function resolveWith(
  platforms: Readonly<Record<string, PlatformRules>>,
  stack: string,
  given: Record<string, unknown>,
  secretKeys?: ReadonlySet<string>,
  misplacedKeys: readonly MisplacedKey[] = [],
): GaiaConfig {
  const names = Object.keys(platforms) as [string, ...string[]];
  const schema = stackSchema(names);
  const HINTS = hints(names);
  const tree = settingTree(platforms);
  const raw = encryptedPaths(given).length ? (withoutPlaceholders(given) as Record<string, unknown>) : given;
  const problems: string[] = misplacedKeys.map((m) => m.problem);
  // The environment's identity: pinned in the stack file, so renaming the stack changes nothing.
  const pinned = typeof raw.environment === "string" ? raw.environment : undefined;
  const environment = pinned ?? stack;
  if (!ENVIRONMENT_NAME_PATTERN.test(environment)) {
    problems.push(
      pinned === undefined
        ? `stack name "${stack}": ${ENVIRONMENT_NAME_RULE}${environmentNameClash(stack)} (it names the database, the roles and every cloud resource), or set gaia:environment to such a name.`
        : `gaia:environment "${pinned}": ${ENVIRONMENT_NAME_RULE}${environmentNameClash(pinned)} (it names the database, the roles and every cloud resource).`,
    );
  }

  // A key with a bad value is reported and left out, so the checks below still see the rest:
  // one run lists every problem.
  const rejected = new Set<string>();
  let parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const rest = { ...raw };
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) {
          const path = [...issue.path, key].join(".");
          const known = issue.path.length === 0 ? Object.keys(tree) : issue.path.length === 1 ? (tree[String(issue.path[0])] ?? []) : [];
          const meant = closest(key, known);
          problems.push(
            meant
              ? `gaia:${path} is not a known setting: did you mean gaia:${[...issue.path, meant].join(".")}?`
              : `gaia:${path} is not a known setting: remove it or correct its name (see docs/configuration.md, "Stacks and configuration").`,
          );
          if (issue.path.length === 0) delete rest[key];
        }
      } else {
        const key = issue.path.join(".");
        const got = valueAt(raw, issue.path);
        problems.push(`gaia:${key}: ${issue.message}${got === undefined ? "" : ` (got ${shown(got)})`}${Object.hasOwn(HINTS, key) ? `; ${HINTS[key]}` : ""}.`);
      }
      rejected.add(String(issue.path[0]));
      delete rest[String(issue.path[0])];
    }
    parsed = schema.safeParse(rest);
    if (!parsed.success) throw new GaiaConfigError(stack, problems);
  }
  const values = parsed.data;
  // A key written in the wrong namespace is reported once, as misplaced, not also as missing.
  // A key reported above (a bad value) or written in the wrong namespace is not also reported as missing.
  const misplaced = new Set([...rejected, ...misplacedKeys.flatMap((m) => (m.setting ? [m.setting] : []))]);
  if (!values.platform && !misplaced.has("platform")) problems.push(`gaia:platform is required: ${HINTS.platform}.`);
  const presetName = values.preset ?? (PRESET_NAMES as readonly string[]).find((p) => p === environment);
  if (!presetName && !misplaced.has("preset")) problems.push(`gaia:preset is required for environment "${environment}": ${HINTS.preset}.`);
  if (!values.adminEmail && !misplaced.has("adminEmail")) problems.push(`gaia:adminEmail is required: ${HINTS.adminEmail}.`);
  // Without a platform and a preset nothing else can be checked; a missing email blocks nothing else.
  if (!values.platform || !presetName) throw new GaiaConfigError(stack, problems);

  const platform = platforms[values.platform]!;
  const preset = PRESETS[presetName as PresetName];
  const caps = platform.capabilities;
  const config: GaiaConfig = {
    environment,
    // A name refused above still lets every other check run (one run lists every problem): they
    // see a valid stand-in, and the problems are thrown together below, never a bare Error.
    names: environmentNames(ENVIRONMENT_NAME_PATTERN.test(environment) ? environment : "unnamed"),
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
    // Taken down on purpose: nothing refuses the deletion any more (README, "Taking an environment down").
    deletionProtection: values.decommission ? false : values.deletionProtection ?? preset.deletionProtection,
    finalSnapshot: values.finalSnapshot ?? preset.finalSnapshot,
    protect: values.decommission ? false : values.protect ?? preset.protect,
    decommission: values.decommission ?? false,
    redis: { ...preset.redis, ...values.redis },
    services: (values.services ?? SERVICE_ROLE_NAMES) as ServiceRoleName[],
    management: values.management ?? {},
    adminEmail: values.adminEmail ?? "",
    rotation: values.rotation ?? {},
    auditLogging: values.auditLogging ?? preset.auditLogging,
    alerts: values.alerts ?? {},
    platformSettings: undefined,
  };

  problems.push(...checkAgainstPlatform(config, caps, values.region === undefined));
  // Asked for where the platform's table says it has no such setting: said, not ignored.
  if (values.redis?.memoryMb !== undefined && !caps.redisSizing) {
    problems.push(`gaia:redis.memoryMb is not read on ${config.platform}: its Redis has no size to set (${config.platform === "fly" ? "Upstash on Fly grows as it is used" : "it is the existing server's"}); remove it.`);
  }
  // The provider's host, printed in every plan: a URL there (and its password) would be shown to every reviewer.
  if (values.management?.host !== undefined && /:\/\/|[@/\s]/.test(values.management.host)) {
    problems.push("gaia:management.host is a URL, not a host name: set the host alone (db.example.internal or an address), its port in gaia:management.port; a password never goes there, and the value is not shown here.");
  }
  // A recovery window without recovery: GCP drops it, and RDS took it as the retention unchecked (50 days, past RDS's 35).
  if (values.backups?.pitrDays !== undefined && !config.backups.pitr) {
    problems.push(`gaia:backups.pitrDays is set, but gaia:backups.pitr is false${values.backups.pitr === undefined ? ` (the ${presetName} preset's)` : ""}, so nothing reads it: set gaia:backups.pitr to true, or remove pitrDays.`);
  }
  problems.push(...checkPolicy(config, caps));
  if (values.restore !== undefined) {
    const restore = resolveRestore(values.restore, { ...config.backups, platformWindow: caps.pitrDays, platform: config.platform }, new Date());
    problems.push(...restore.problems);
    config.restore = restore.restore;
  }
  problems.push(...rotationProblems(config.rotation, config.services, config.platform, platform.cannotRotate));
  problems.push(...observabilityProblems(config, caps, values.auditLogging));

  // Another platform's block: Pulumi passes it and nothing reads it (the component reads only its own platform's).
  for (const other of names.filter((name) => name !== config.platform && raw[name] !== undefined && !rejected.has(name))) {
    problems.push(`gaia:${other} holds the settings of platform ${other}, but this stack's platform is ${config.platform} (gaia:platform), so nothing reads it: remove it, or set gaia:platform to ${other}.`);
  }
  const block = raw[config.platform] ?? {};
  const settings = platform.checkSettings(block, config);
  if (!settings.parsed) {
    if (raw[config.platform] === undefined) {
      problems.push(`gaia:${config.platform} is required on ${config.platform}: set its settings (docs/configuration.md, "Stacks and configuration").`);
    }
    for (const issue of settings.issues) {
      const key = [config.platform, ...issue.path].join(".");
      const missing = valueAt((raw[config.platform] ?? {}) as Record<string, unknown>, issue.path) === undefined;
      problems.push(`gaia:${key}: ${missing ? "is required" : issue.message}.`);
    }
  } else {
    config.platformSettings = block;
    problems.push(...settings.problems);
    // Only stack files say which values were set with --secret; a program's args are its own.
    if (secretKeys) problems.push(...checkSecretsAreSecret(config.platform, raw[config.platform], secretKeys));
  }
  problems.push(...platform.contractProblems(config, settings.parsed ? block : undefined));
  if (problems.length > 0) throw new GaiaConfigError(stack, problems);
  return config;
}
