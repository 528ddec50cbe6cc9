import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { PLATFORM_FIXTURES } from "./stacks";

/**
 * The services the tests' literal figures were written for (who reads which secret, which
 * schemas each uses, which size holds their pools). A service added to SERVICE_ROLES as the
 * README's "Extending" says is checked by each test's general rule instead, next to the literal.
 */
export const KNOWN_SERVICES = ["chat", "assets", "auth"] as const;

/** The services of the access policy beyond the known ones (none until someone adds one). */
export const ADDED_SERVICES: readonly string[] = SERVICE_ROLE_NAMES.filter((s) => !(KNOWN_SERVICES as readonly string[]).includes(s));

/** A name no service of the access policy has, for the refusals of an unknown service. */
export const NOT_A_SERVICE = "not_a_service";

/**
 * The connections the pools need at full overflow, with 10 reserved (docs/configuration.md, "Stacks and
 * configuration"): every service of the access policy holds one pool.
 */
export function poolConnections(pool: { size: number; maxOverflow: number }): number {
  return SERVICE_ROLE_NAMES.length * (pool.size + pool.maxOverflow) + 10;
}

/** A platform's fixture settings naming the identities of the known services (and analytics) only, for figures written for them. */
export function knownServicesOnly(platform: keyof typeof PLATFORM_FIXTURES): unknown {
  const named = new Set<string>([...KNOWN_SERVICES, "analytics"]);
  return Object.fromEntries(
    Object.entries(PLATFORM_FIXTURES[platform].settings as Record<string, unknown>).map(([key, value]) =>
      ["serviceRoles", "serviceAccounts", "apps"].includes(key) ? [key, Object.fromEntries(Object.entries(value as Record<string, string>).filter(([service]) => named.has(service)))] : [key, value],
    ),
  );
}
