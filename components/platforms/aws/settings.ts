import { z } from "zod";

/** The VPC the environment lives in. The database and Redis get only private addresses in it. */
export const settings = z
  .object({
    vpcId: z.string().regex(/^vpc-[0-9a-f]+$/, "must be a VPC id (vpc-…)"),
    /** Private subnets in at least two availability zones (RDS and ElastiCache subnet groups). */
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, "must be subnet ids (subnet-…)")).min(2, "needs at least two private subnets in different zones"),
    /** Who may connect: the application's security groups and/or CIDR blocks. */
    allowedSecurityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/)).default([]),
    allowedCidrs: z.array(z.cidrv4()).default([]),
    /**
     * The IAM role of each service's application (and, optionally, analytics): each may read
     * its own credential, the Redis URL and the CA, and nothing else; no application identity
     * may read the admin's or the owner's (secret resource policies deny it).
     */
    serviceRoles: z.record(z.string(), z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "must be an IAM role ARN")).default({}),
  })
  .strict();

export type AwsSettings = z.infer<typeof settings>;
