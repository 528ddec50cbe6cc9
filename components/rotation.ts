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

/** One value per slot. */
export const mapSlots = <T>(of: (slot: Slot) => T): Record<Slot, T> => ({ a: of("a"), b: of("b") });

/**
 * Besides the policy roles' logins, a platform may let the component rotate `admin` (the
 * PostgreSQL admin the component generates: RDS's master user, Cloud SQL's admin user),
 * `redis` (where Redis can hold the new and the previous password at once) and `adminApiKey`
 * (the environment's bootstrap admin key). What it cannot rotate, each platform says with why
 * (its `cannotRotate`, `roles` standing for every policy role's login), and is refused here
 * (docs/rotation.md, "Rotating credentials").
 */
export type CannotRotate = Readonly<Record<string, string>>;

const ADMIN_CREDENTIALS = ["admin", "redis", "adminApiKey"] as const;

/** `gaia:rotation` keys besides `all` that the stack's platform can rotate. */
export function rotatableCredentials(services: readonly string[], refused: CannotRotate): string[] {
  return [...(refused.roles ? [] : policyRoles(services)), ...ADMIN_CREDENTIALS].filter((c) => !refused[c]);
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

/**
 * For a credential with one value at a time (an admin password, an ElastiCache token, the admin
 * key): its generation as the keeper of its generated value, none at 0, so adopting rotation
 * changes nothing.
 */
export function generationKeepers(generation: number): Record<string, string> | undefined {
  return generation === 0 ? undefined : { generation: String(generation) };
}

/** Why the platform cannot rotate a credential the stack has; undefined if it can, or the stack has no such credential. */
export function whyNotRotatable(credential: string, services: readonly string[], refused: CannotRotate): string | undefined {
  const roles: readonly string[] = policyRoles(services);
  // Own keys only: "toString" or "__proto__" given as a credential is no platform's reason.
  return (Object.hasOwn(refused, credential) ? refused[credential] : undefined) ?? (roles.includes(credential) ? refused.roles : undefined);
}

/** Problems with `gaia:rotation`: unknown credentials, each with the names to use, and what the platform cannot rotate, with why. */
export function rotationProblems(rotation: Record<string, number>, services: readonly string[], platform: string, refused: CannotRotate): string[] {
  const known = ["all", ...rotatableCredentials(services, refused)];
  return Object.keys(rotation)
    .filter((key) => !known.includes(key))
    .map((key) => {
      const why = whyNotRotatable(key, services, refused);
      return why
        ? `gaia:rotation.${key} cannot be rotated on ${platform}: ${why}; remove it.`
        : `gaia:rotation.${key} names no credential of this stack: use ${known.join(", ")}.`;
    });
}

/** Each credential of the stack the platform rotates, at its generation: what an update applies, and the stack's `rotation` output. */
export function credentialGenerations(rotation: Record<string, number>, services: readonly string[], refused: CannotRotate): Record<string, number> {
  return Object.fromEntries(rotatableCredentials(services, refused).map((credential) => [credential, generationOf(rotation, credential)]));
}

/**
 * Why an update from the applied generations to the stack file's cannot run, credential by
 * credential: a generation below the applied one renews the login its clients hold now (the
 * slot that was current gets the keeper it had before: slotKeepers), and one more than a step
 * above renews both slots at once. A credential with no applied generation (new, or a stack
 * deployed before the output existed) is not compared.
 */
export function rotationStepProblems(applied: Readonly<Record<string, number>>, wanted: Readonly<Record<string, number>>): string[] {
  return Object.entries(wanted).flatMap(([credential, to]) => {
    const from = applied[credential];
    if (from === undefined || to === from || to === from + 1) return [];
    return to < from
      ? [`gaia:rotation takes ${credential} back from generation ${from}, which the stack applied, to ${to}: that would renew the login its clients use now. Deploy the stack file that raised it (git pull), or set gaia:rotation so that ${credential} is at ${from} or ${from + 1}.`]
      : [`gaia:rotation moves ${credential} from generation ${from}, which the stack applied, to ${to} in one update: that would renew both of its logins at once. Raise it by one per \`pulumi up\`: set it so that ${credential} is at ${from + 1}.`];
  });
}
