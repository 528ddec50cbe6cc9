import { z } from "zod";

/**
 * An existing PostgreSQL and Redis server (a developer's machine, a shared review server, the
 * embedded server from `npm run local-db -- start`). The environment gets its own database,
 * roles and Redis ACL user on it; the servers themselves are not managed.
 */
export const settings = z
  .object({
    /** Admin connection (a superuser or a role with CREATEDB and CREATEROLE). Secret. */
    postgresUrl: z
      .string()
      .refine((url) => /^postgres(ql)?:\/\/[^/]+/.test(url) && URL.canParse(url), "must be a postgresql:// URL")
      .default("postgresql://postgres@127.0.0.1:5432/postgres"),
    /** Admin connection to Redis 6 or later (ACL). Secret. */
    redisUrl: z
      .string()
      .refine((url) => /^rediss?:\/\//.test(url) && URL.canParse(url), "must be a redis:// or rediss:// URL")
      .default("redis://127.0.0.1:6379"),
    /** libpq sslmode of every connection; verify-ca and verify-full need `sslRootCert`. */
    sslMode: z.enum(["disable", "require", "verify-ca", "verify-full"]).default("disable"),
    /** PEM of the CA that signs the server's certificate. */
    sslRootCert: z.string().includes("-----BEGIN CERTIFICATE-----", { message: "must be a PEM certificate" }).optional(),
  })
  .strict();

export type LocalSettings = z.infer<typeof settings>;
