import { z } from "zod";

/**
 * Fly.io on Fly Managed Postgres (`fly mpg`) and Upstash Redis, driven by flyctl from command
 * resources (`ops/fly.ts`): Fly has no maintained Pulumi or Terraform provider. Managed
 * Postgres makes its users and their passwords itself, and hands each application its own
 * credential (`fly mpg attach`), so no database password of a Fly stack enters Pulumi's state.
 * flyctl reads FLY_API_TOKEN from the environment of whoever runs `pulumi up`.
 */
export const settings = z
  .object({
    org: z.string().regex(/^[a-z0-9-]+$/, "must be a Fly organization slug"),
    /**
     * The Fly app of each service (and, optionally, analytics): each gets its own database
     * user's URL as GAIA_DATABASE_URL, and the Redis URL as GAIA_REDIS_URL.
     */
    apps: z.record(z.string(), z.string().regex(/^[a-z0-9-]+$/, "must be a Fly app name")).default({}),
    /** Managed Postgres grants by role kind, not per table: the stack must say it accepts that. */
    acceptCoarseRoles: z.boolean().default(false),
    /** Upstash read replicas' regions; Redis high availability needs at least one. */
    redisReplicaRegions: z.array(z.string()).default([]),
  })
  .strict();

export type FlySettings = z.infer<typeof settings>;
