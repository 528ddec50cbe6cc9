import * as pulumi from "@pulumi/pulumi";
import type { GaiaConfig } from "./config";
import { opsCommand } from "./commands";
import type { DatabaseAccess } from "./database";
import type { PostgresInstance } from "./platforms/types";
import { postgresUrl, tlsEnvironment } from "./schema";

/**
 * One command per policy role that ends its logins' sessions when the role goes (ops/sessions.ts):
 * a service removed from `gaia:services`, or the stack destroyed. It depends on both logins,
 * so Pulumi deletes it, running its delete, before the provider drops them.
 */
export function endSessionsOnRemoval(config: GaiaConfig, access: DatabaseAccess, instance: PostgresInstance, parent: pulumi.Resource): void {
  const admin = instance.admin!;
  const adminUrl = postgresUrl(admin.username, admin.password, access.management.host, access.management.port, "postgres", instance.tls.mode);
  for (const [role, { logins }] of Object.entries(access.slots)) {
    opsCommand(`${config.names.resourcePrefix}-${role}-sessions`, {
      script: "sessions",
      create: "allow",
      update: "keep",
      delete: "end",
      environment: {
        GAIA_DATABASE_URL: adminUrl,
        ...tlsEnvironment(instance),
        GAIA_LOGINS: `${logins.a.name},${logins.b.name}`,
        GAIA_GROUP: config.names.groupRole(role),
        GAIA_DATABASE_NAME: config.names.database,
      },
    }, { parent, dependsOn: [logins.a.role, logins.b.role], deletedWith: instance.server });
  }
}
