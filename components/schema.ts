import * as pulumi from "@pulumi/pulumi";
import { sha256Hex } from "../ops/lib/hash";
import { policySpec } from "../policy/grants";
import { migrationsDigest } from "../sql";
import type { GaiaConfig } from "./config";
import { opsCommand } from "./commands";
import type { DatabaseAccess } from "./database";
import type { PostgresInstance } from "./platforms/types";

/**
 * libpq URL in the `postgresql://` form every client accepts (the seeds' postgres:// is
 * normalised), with the platform's sslmode. The CA it verifies against is handed out beside
 * it (the `postgresCa` output and secret), since a URL can only name a file.
 */
export function postgresUrl(
  user: string,
  password: pulumi.Input<string>,
  host: pulumi.Input<string>,
  port: pulumi.Input<number>,
  database: string,
  sslMode: string,
): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([password, host, port])
      .apply(([p, h, o]) => `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(p)}@${h}:${o}/${database}?sslmode=${sslMode}`),
  );
}

/**
 * Applies the Gaia schema as the owner role (ops/migrate.ts), after the database and roles
 * exist, then brings the database to the access policy in one transaction (ops/lib/policy.ts),
 * and again whenever the committed migrations or the policy change. It also makes the stack's
 * admin key (only its SHA-256) the environment admin's bootstrap key.
 */
export function applySchema(
  config: GaiaConfig,
  access: DatabaseAccess,
  instance: PostgresInstance,
  adminApiKey: pulumi.Output<string>,
  parent: pulumi.Resource,
): pulumi.Resource {
  const names = config.names;
  const owner = access.logins.owner!;
  return opsCommand(`${names.resourcePrefix}-schema`, {
    script: "migrate",
    create: "apply",
    update: "apply",
    environment: {
      GAIA_DATABASE_URL: postgresUrl(owner.name, owner.password, access.management.host, access.management.port, names.database, instance.tls.mode),
      ...tlsEnvironment(instance),
      GAIA_OWNER_ROLE: names.groupRole("owner"),
      // A cloud admin keeps CONNECT, to create and read the extensions (components/database.ts createExtensions).
      GAIA_ACCESS_POLICY: JSON.stringify(policySpec(names, config.services, undefined, instance.admin && !instance.admin.isSuperuser ? instance.admin.username : undefined)),
      GAIA_ADMIN_EMAIL: config.adminEmail,
      GAIA_ADMIN_KEY_SHA256: pulumi.secret(adminApiKey.apply(sha256Hex)),
      GAIA_MIGRATIONS_DIGEST: migrationsDigest(),
    },
  }, {
    parent,
    dependsOn: [access.database, ...access.allLogins],
    // A re-created database is migrated and given the policy again.
    replaceWith: [access.database],
  });
}

/** What an ops script needs to verify the server (ops/lib/postgres.ts): the CA. */
export function tlsEnvironment(instance: PostgresInstance): Record<string, pulumi.Input<string>> {
  return instance.tls.ca ? { GAIA_DATABASE_CA: instance.tls.ca } : {};
}
