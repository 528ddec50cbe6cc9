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
  for (const role of Object.keys(identities).filter((r) => !known.has(r))) {
    problems.push(`${key}.${role} names no service of this stack: use ${[...known].join(", ")}.`);
  }
  return problems;
}
