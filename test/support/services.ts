import { SERVICE_ROLE_NAMES } from "../../policy/access";

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
