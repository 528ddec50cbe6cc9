import { NAMESPACE, type MisplacedKey } from "../components/config";
import { closest } from "../components/core/suggest";

/**
 * Keys outside `gaia:` in a stack's configuration. The program reads only `gaia:` keys, and the
 * component makes its own providers (aws, gcp, postgresql) from them: stack config reaches a
 * provider only when Pulumi makes it a default one (pulumi/pulumi v3.274.1,
 * pkg/resource/deploy/default_providers.go, newRegisterDefaultProviderEvent), which the
 * component never lets happen for those (test/graph/lifecycle.test.ts), and random and command
 * take no configuration. So any such key is refused, saying what reads it instead, except the
 * few Pulumi itself reads and the component can live with.
 */

/** What becomes of a key outside `gaia:`. */
type ForeignKey =
  /** Read by Pulumi itself and kept, unless `refuse` says why not (a sentence's end: "…; remove it."). */
  | { kind: "pulumi"; refuse?: (value: string) => string | undefined }
  /** A `gaia:` setting says it: set that instead. `says` ends "the component deploys where gaia:region says". */
  | { kind: "setting"; setting: string; says: string }
  /** A credential the provider takes from the environment of whoever runs pulumi. */
  | { kind: "environment"; provider: string; variable: string; showValue: boolean }
  /** Not read, and nothing takes its place. */
  | { kind: "unread"; why: string };

const awsCredential = (variable: string, showValue = false): ForeignKey => ({ kind: "environment", provider: "AWS", variable, showValue });
const gcpCredential = (variable: string, showValue = false): ForeignKey => ({ kind: "environment", provider: "Google Cloud", variable, showValue });

/** The packages whose default provider the component uses: random's ids and passwords, command's ops commands. */
const DEFAULT_PROVIDERS_USED = ["random", "command"];

/**
 * Every key outside `gaia:` the stack may meet, and what becomes of it: by key, then by
 * namespace (`aws:*`). Pulumi's own keys are those pulumi/pulumi v3.274.1 reads: pulumi:tags
 * (pkg/backend/stack.go, the stack's tags), pulumi:template (pkg/cmd/pulumi/project/newcmd,
 * `pulumi new`'s record), pulumi:disable-default-providers (pkg/resource/deploy/default_providers.go)
 * and pulumi:autonaming (pkg/cmd/pulumi/autonaming/config.go).
 */
export const FOREIGN_KEYS: Readonly<Record<string, ForeignKey>> = {
  "pulumi:tags": { kind: "pulumi" },
  "pulumi:template": { kind: "pulumi" },
  "pulumi:disable-default-providers": {
    kind: "pulumi",
    refuse: (value) => {
      let listed: unknown;
      try {
        listed = value === "" ? [] : JSON.parse(value);
      } catch {
        listed = undefined;
      }
      if (!Array.isArray(listed) || !listed.every((p) => typeof p === "string")) return `is not a list of package names, which Pulumi refuses`;
      const used = listed.map((p) => p.trim()).filter((p) => p === "*" || DEFAULT_PROVIDERS_USED.includes(p));
      return used.length
        ? `lists ${used.join(", ")}, but the component uses the default providers of ${DEFAULT_PROVIDERS_USED.join(" and ")} (its random passwords and ids, its ops commands), so every update would fail; list only aws, gcp or postgresql, whose providers it always makes itself, or remove it`
        : undefined;
    },
  },
  "pulumi:autonaming": {
    kind: "pulumi",
    refuse: () => "would rename the resources the component lets Pulumi name (subnet groups, security groups) in a way the offline plan does not show; remove it",
  },
  "pulumi:*": { kind: "unread", why: "it reads pulumi:tags, pulumi:template, pulumi:disable-default-providers and pulumi:autonaming" },
  "aws:region": { kind: "setting", setting: "region", says: "the component deploys where gaia:region says" },
  "aws:profile": awsCredential("AWS_PROFILE", true),
  "aws:accessKey": awsCredential("AWS_ACCESS_KEY_ID"),
  "aws:secretKey": awsCredential("AWS_SECRET_ACCESS_KEY"),
  "aws:token": awsCredential("AWS_SESSION_TOKEN"),
  "aws:sharedCredentialsFiles": awsCredential("AWS_SHARED_CREDENTIALS_FILE", true),
  "aws:sharedConfigFiles": awsCredential("AWS_CONFIG_FILE", true),
  "aws:*": { kind: "unread", why: "the component makes its own AWS provider from gaia:region alone" },
  "gcp:project": { kind: "setting", setting: "gcp.project", says: "the component deploys into the project gaia:gcp.project names" },
  "gcp:region": { kind: "setting", setting: "region", says: "the component deploys where gaia:region says" },
  "gcp:credentials": gcpCredential("GOOGLE_CREDENTIALS"),
  "gcp:accessToken": gcpCredential("GOOGLE_OAUTH_ACCESS_TOKEN"),
  "gcp:impersonateServiceAccount": gcpCredential("GOOGLE_IMPERSONATE_SERVICE_ACCOUNT", true),
  "gcp:*": { kind: "unread", why: "the component makes its own Google Cloud provider from gaia:gcp.project and gaia:region alone" },
  "postgresql:host": { kind: "setting", setting: "management.host", says: "the component reaches PostgreSQL where gaia:management says, else at the server it manages" },
  "postgresql:port": { kind: "setting", setting: "management.port", says: "the component reaches PostgreSQL where gaia:management says, else at the server it manages" },
  "postgresql:*": { kind: "unread", why: "the component makes its own PostgreSQL provider, with the admin credential of the server it manages (on local, gaia:local.postgresUrl's)" },
  "random:*": { kind: "unread", why: "the random provider takes no configuration" },
  "command:*": { kind: "unread", why: "the command provider takes no configuration" },
};

/** Pulumi's own keys, for a misspelt one's suggestion. */
const PULUMI_KEYS = Object.keys(FOREIGN_KEYS).filter((k) => k.startsWith("pulumi:") && !k.endsWith(":*"));

export interface ForeignKeyContext {
  /** The Pulumi project: its namespace is where a key written without one goes. */
  project: string;
  /** Every `gaia:` key with the keys of its block (components/config.ts, stackSettings). */
  settings: Readonly<Record<string, readonly string[] | null>>;
  /** Whether the engine holds the key as a secret: its value is then never shown. */
  isSecret(key: string): boolean;
}

/**
 * The keys of `config` (the engine's map: `namespace:name` to its string) outside `gaia:`, each
 * with its problem and the setting it stands for; none for the keys Pulumi reads that the
 * component can live with. A problem names the key and the fix; the caller names the file.
 */
export function foreignKeys(config: Readonly<Record<string, string>>, context: ForeignKeyContext): MisplacedKey[] {
  const gaia = (path: string): unknown => {
    const [key, ...rest] = path.split(".");
    let value: unknown = config[`${NAMESPACE}:${key}`];
    if (value === undefined) return undefined;
    if (rest.length) {
      try {
        value = JSON.parse(value as string);
      } catch {
        return undefined;
      }
    }
    for (const part of rest) value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
    return value === undefined ? undefined : String(value);
  };
  const settingNames = Object.keys(context.settings);
  const meant = (name: string) => closest(name, settingNames);
  return Object.entries(config).flatMap(([key, value]): MisplacedKey[] => {
    const at = key.indexOf(":");
    const namespace = key.slice(0, at);
    const name = key.slice(at + 1);
    if (namespace === NAMESPACE) return [];
    const first = name.split(".")[0]!;
    if (namespace === context.project) {
      const setting = meant(first);
      return [{
        setting,
        problem: setting
          ? `${key} is in the project's namespace, where the program does not read it: set it as ${NAMESPACE}:${setting} (pulumi config rm ${key}; pulumi config set ${NAMESPACE}:${setting} …).`
          : `${key} is in the project's namespace, where the program does not read it, and names no setting: remove it (pulumi config rm ${key}).`,
      }];
    }
    // Own entries only: a key named like an Object member (constructor, toString) is no entry.
    const entry = ownEntry(FOREIGN_KEYS, key) ?? ownEntry(FOREIGN_KEYS, `${namespace}:*`);
    if (!entry) {
      // A namespace nothing reads: a typo of gaia's (giaa:replicas), or a platform's block written as a namespace (fly:org).
      const block = ownEntry(context.settings, namespace)?.includes(first) ? `${namespace}.${name}` : undefined;
      const setting = block ?? (closest(namespace, [NAMESPACE, context.project]) ? meant(first) ?? name : meant(first));
      return [{
        setting: setting?.split(".")[0],
        problem: `${key} is in the ${namespace} namespace, which nothing in this stack reads: ${setting ? `did you mean ${NAMESPACE}:${setting}?` : `remove it, or write it as ${NAMESPACE}:<setting> if it is one (docs/configuration.md, "Stacks and configuration").`}`,
      }];
    }
    const shown = context.isSecret(key) ? "…" : value;
    switch (entry.kind) {
      case "pulumi": {
        const why = entry.refuse?.(value);
        return why ? [{ problem: `${key} ${why}.` }] : [];
      }
      case "unread": {
        // A platform's setting written in its provider's namespace (aws:vpcId): the setting is gaia's.
        if (context.settings[namespace]?.includes(first)) return [{ setting: namespace, problem: `${key} is not read: ${entry.why}; did you mean ${NAMESPACE}:${namespace}.${name}?` }];
        if (namespace === "pulumi") {
          const pulumiKey = closest(key, PULUMI_KEYS);
          return [{ problem: `${key} is not a setting Pulumi reads: ${pulumiKey ? `did you mean ${pulumiKey}?` : `remove it (${entry.why}).`}` }];
        }
        return [{ problem: `${key} is not read: ${entry.why}; remove it.` }];
      }
      case "environment":
        return [{
          problem: `${key} is not read: the component's ${entry.provider} provider takes its credentials from the environment of whoever runs pulumi; set ${entry.variable}${entry.showValue ? `=${shown}` : ""} there instead (and remove ${key}).`,
        }];
      case "setting": {
        const current = gaia(entry.setting);
        const setting = entry.setting.split(".")[0];
        if (current === undefined) return [{ setting, problem: `${key} is not read: ${entry.says}; set ${NAMESPACE}:${entry.setting}: ${shown} instead (and remove ${key}).` }];
        if (current === value) return [{ setting, problem: `${key} is not read: ${entry.says}, which is ${shown} already; remove ${key}.` }];
        return [{
          setting,
          problem: `${key} is not read: ${entry.says} (${context.isSecret(`${NAMESPACE}:${setting}`) ? "…" : current}); remove ${key}, and set ${NAMESPACE}:${entry.setting}: ${shown} instead if that is what the stack needs.`,
        }];
      }
    }
  });
}

/** A table's own entry for a key the stack file wrote: never an Object member (`constructor`, `toString`, `__proto__`). */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
