import { policyRoles } from "../policy/grants";

/**
 * Rotation by alternating credentials, driven by stack configuration so a rotation is an
 * ordinary, reviewable `pulumi up`: `gaia:rotation` holds a generation per credential (a policy
 * role such as `chat`, or `redis`) and `all`, which counts for every one. A credential's
 * generation is its own plus `all`.
 *
 * Each credential has two slots, `a` and `b`, each a login (PostgreSQL) or a password (Redis)
 * that stays valid: generation g makes slot `a` current when g is even, `b` when odd. Rotating
 * from g to g+1 gives the slot that was not current a new password and makes it current; the
 * one that was current keeps working until the rotation after, when it is renewed in its turn.
 * So a client holding the previous credential is never refused, and one two generations old is.
 */
export type Slot = "a" | "b";
export const SLOTS: readonly Slot[] = ["a", "b"];

/**
 * `gaia:rotation` keys besides `all`: every policy role of the stack, and `redis` where the
 * component can give Redis a second password (the local ACL user; not yet ElastiCache's or
 * Memorystore's token: README, "Known limits").
 */
export function rotatableCredentials(services: readonly string[], platform: string): string[] {
  return [...policyRoles(services), ...(platform === "local" ? ["redis"] : [])];
}

export function generationOf(rotation: Record<string, number>, credential: string): number {
  return (rotation.all ?? 0) + (rotation[credential] ?? 0);
}

export function currentSlot(generation: number): Slot {
  return generation % 2 === 0 ? "a" : "b";
}

/**
 * The generation at which `slot` last became current (or will: -1 for `b` before its first
 * rotation): the keeper of its generated password, so the password changes exactly when the
 * slot is renewed. Slot `a` at generation 0 has no keeper, as before rotation existed, so
 * adopting rotation changes no password.
 */
export function slotGeneration(slot: Slot, generation: number): number {
  return slot === currentSlot(generation) ? generation : generation - 1;
}

export function slotKeepers(slot: Slot, generation: number): Record<string, string> | undefined {
  const at = slotGeneration(slot, generation);
  return slot === "a" && at === 0 ? undefined : { generation: String(at) };
}

/** Problems with `gaia:rotation`: unknown credentials, each with the names to use. */
export function rotationProblems(rotation: Record<string, number>, services: readonly string[], platform: string): string[] {
  const known = ["all", ...rotatableCredentials(services, platform)];
  return Object.keys(rotation)
    .filter((key) => !known.includes(key))
    .map((key) => key === "redis"
      ? `gaia:rotation.redis: Redis's credential cannot be rotated on ${platform} yet (only on local): remove it.`
      : `gaia:rotation.${key} names no credential of this stack: use ${known.join(", ")}.`);
}
