import * as pulumi from "@pulumi/pulumi";
import type { GaiaConfig } from "../../core/config";

/**
 * The application identities (IAM roles, service accounts, Fly apps) a stack names, one per service.
 * Named, each service alone may read its credential. Production must name every service's;
 * dev and staging may name none, and then no secret grants or denies anything to an
 * application: who reads the credentials is left to the account's own IAM policies, and the
 * run says so. Naming some but not all is a mistake either way: refused.
 */
export function missingReaders(
  key: string,
  what: string,
  config: Pick<GaiaConfig, "services" | "preset">,
  identities: Record<string, string>,
  /** "every stack" where the platform needs them to work at all (Fly attaches each app). */
  requiredOn: "production" | "every stack",
): string[] {
  const services: readonly string[] = config.services;
  // Naming none is a choice below production; only production's rule is then broken.
  const noneByChoice = Object.keys(identities).length === 0 && requiredOn === "production";
  const problems = noneByChoice && config.preset !== "production"
    ? []
    : services
      .filter((service) => !identities[service])
      .map((service) => `${key}.${service} is required${noneByChoice ? " on production" : ""}: the ${what} of the ${service} service, the only identity that may read its credential.`);
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

/** The run's warning where a stack names no application identity (dev and staging only). */
export function warnWithoutIdentities(key: string, identities: Record<string, string>, parent: pulumi.Resource): void {
  if (Object.keys(identities).length > 0) return;
  pulumi.log.warn(`${key} is not set: no application identity is named, so the credentials' secrets grant and deny no application anything, and the account's IAM policies alone decide who reads them. Set it to confine each service to its own credential (production requires it).`, parent);
}
