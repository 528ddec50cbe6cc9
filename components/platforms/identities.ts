/**
 * Each service named in gaia:services needs its application identity (an IAM role, a service
 * account), so that it alone can read its credential; an identity for a role the stack does
 * not have is a typo.
 */
export function missingReaders(key: string, what: string, services: readonly string[], identities: Record<string, string>): string[] {
  const problems = services
    .filter((service) => !identities[service])
    .map((service) => `${key}.${service} is required: the ${what} of the ${service} service, the only identity that may read its credential.`);
  const known = new Set<string>([...services, "analytics"]);
  // One identity per role: two services sharing one could read each other's credentials.
  const byIdentity = new Map<string, string[]>();
  for (const [role, identity] of Object.entries(identities)) byIdentity.set(identity, [...(byIdentity.get(identity) ?? []), role]);
  for (const [identity, roles] of byIdentity) {
    if (roles.length > 1) problems.push(`${key} gives ${roles.join(" and ")} the same ${what} (${identity}): each must have its own, or it could read the others' credentials.`);
  }
  for (const role of Object.keys(identities).filter((r) => !known.has(r))) {
    problems.push(`${key}.${role} names no service of this stack: use ${[...known].join(", ")}.`);
  }
  return problems;
}
