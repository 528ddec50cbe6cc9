import { z } from "zod";

/** The project and VPC the environment lives in. The VPC needs private services access. */
export const settings = z
  .object({
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a Google Cloud project id"),
    /** Self link or id of the VPC network with private services access to Cloud SQL and Memorystore. */
    network: z.string().regex(/^projects\/[^/]+\/global\/networks\/[^/]+$/, "must be projects/<project>/global/networks/<name>"),
    /**
     * The service account of each service's application (and, optionally, analytics): each
     * may connect to this environment's instance (cloudsql.client, conditioned on it) and read
     * its own credential, the Redis URL and the CAs; none may read the admin's or the owner's.
     */
    serviceAccounts: z.record(z.string(), z.email({ message: "must be a service account email" })).default({}),
  })
  .strict();

export type GcpSettings = z.infer<typeof settings>;
