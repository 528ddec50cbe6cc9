import type { ServiceRoleName } from "../../policy/access";
import type { EnvironmentNames } from "../../policy/naming";
import type { Preset, PresetName } from "../../stacks/presets";
import type { RestoreConfig } from "./restore";

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
export function withoutPlaceholders(value: unknown, key?: string): unknown {
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
  /** The platform's name, a key of the registry (components/platforms/index.ts). */
  platform: string;
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
  /**
   * The environment is being taken down on purpose (`gaia:decommission: true`, reviewed like any
   * change): deletion protection and `protect` are lifted, production's included, so the next
   * `pulumi up` then `pulumi destroy` can delete it; its final snapshot and backups are kept.
   */
  decommission: boolean;
  /** A restore to a point in time, when the stack asks for one (`gaia:restore`; ./restore.ts). */
  restore?: RestoreConfig;
  /** The platform's own block (`gaia:aws`, `gaia:gcp`, `gaia:fly`, `gaia:local`) as given, validated by the platform, which alone reads it typed (components/platforms/plugin.ts). */
  platformSettings: unknown;
}

/** The file a stack's configuration is read from: what every message about it names. */
export const stackFileName = (stack: string) => `Pulumi.${stack}.yaml`;

/**
 * Every problem in a stack's configuration at once, each with its fix. Read from a stack file
 * (`file`), each problem names it; the component's own args name the stack.
 */
export class GaiaConfigError extends Error {
  override name = "GaiaConfigError";
  constructor(
    readonly stackName: string,
    readonly problems: string[],
    readonly file?: string,
  ) {
    super(
      `${file ?? `Stack "${stackName}"`} has ${problems.length} configuration problem(s); nothing was created or changed:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  }

  /** The same problems, each naming the stack file they are in. */
  static inFile(error: GaiaConfigError, file: string): GaiaConfigError {
    return new GaiaConfigError(error.stackName, error.problems.map((p) => `${file}: ${p}`), file);
  }
}

export function valueAt(raw: Record<string, unknown>, path: PropertyKey[]): unknown {
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
    let decoded: unknown;
    try {
      decoded = JSON.parse(value);
    } catch {
      decoded = value;
    }
    // Defined, not assigned: `gaia:__proto__` is then a key like any other (refused as unknown), not the object's prototype.
    Object.defineProperty(raw, key, { value: decoded, enumerable: true, writable: true, configurable: true });
  }
  return raw;
}

/** A value as a message quotes it: whole when short, its start and its length when long (a 1 MB string is not printed back). */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 120 ? text : `${text.slice(0, 60)}… (${text.length} characters)`;
}
