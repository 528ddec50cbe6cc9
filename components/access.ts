import type { GaiaConfig } from "./config";
import { platformOf } from "./platforms";
import { reachOf, type Reach } from "../policy/access";

/**
 * What each role of this stack may do, table by table: the access policy where the platform
 * grants table by table, each role kind's reach over every table where it does not (Fly's
 * reader and writer, accepted with gaia:fly.acceptCoarseRoles). The plan's access section and
 * the stack's `access` output, so that a grant change shows in every diff in the clear.
 */
export function stackReach(config: GaiaConfig): Reach[] {
  return reachOf(config.services, undefined, { coarse: !platformOf(config).capabilities.perTableGrants });
}

/**
 * The stack's `access` output, a line per role and table ("assets may SELECT on auth.users"): lines,
 * not a map keyed by table, since a key such as `auth.api_keys` reads as a credential's name to
 * whatever redacts the engine's output (ops/lib/redact.ts), which would mask the policy; and "auth:" opens a credential to it too.
 */
export function accessOutput(config: GaiaConfig): string[] {
  return stackReach(config).map((r) => `${r.role} may ${mayDo(r)} on ${r.table}`);
}

/** What a role may do on a table, as the plan and the output say it: "SELECT, INSERT" or "SELECT (columns id, email)". */
export const mayDo = (r: Pick<Reach, "privileges" | "columns">): string => `${r.privileges.join(", ")}${r.columns ? ` (columns ${r.columns.join(", ")})` : ""}`;
