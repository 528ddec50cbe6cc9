import * as pulumi from "@pulumi/pulumi";

/**
 * Address ranges that reach the data layer from outside private networks. The instances are never
 * publicly addressable (RDS publiclyAccessible false, ElastiCache in private subnets), but a CIDR
 * rule is what lets a peered network, a VPN or a later public address in: a range beyond the
 * private ones (RFC 1918, and RFC 6598's shared space) is named, refused in production.
 */
const PRIVATE = [["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16], ["100.64.0.0", 10]] as const;

const toNumber = (ip: string) => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
const masked = (n: number, prefix: number) => (prefix === 0 ? 0 : Math.floor(n / 2 ** (32 - prefix)));

/** Whether an IPv4 CIDR lies wholly inside a private range. */
export function isPrivateCidr(cidr: string): boolean {
  const [ip, bits] = cidr.split("/");
  const prefix = Number(bits ?? 32);
  return PRIVATE.some(([base, size]) => prefix >= size && masked(toNumber(ip!), size) === masked(toNumber(base), size));
}

/** The sentence for the CIDRs of `key` that go beyond private networks; undefined where none does. */
export function exposureProblem(key: string, cidrs: readonly string[], ports: string): string | undefined {
  const open = cidrs.filter((c) => !isPrivateCidr(c));
  if (open.length === 0) return undefined;
  return `${key} lets ${open.join(", ")} reach ${ports}, addresses beyond the private ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10): list the applications' private subnets instead, or their security groups.`;
}

/** Outside production the same sentence is a warning on the component: planned, and said. */
export function warnOfExposure(problem: string | undefined, parent: pulumi.Resource): void {
  if (problem) pulumi.log.warn(`${problem} (production refuses this)`, parent);
}
