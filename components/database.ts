import * as postgresql from "@pulumi/postgresql";
import * as pulumi from "@pulumi/pulumi";
import { policyRoles } from "../policy/grants";
import type { GaiaConfig } from "./config";
import { generatePassword, loginVerifier, onceApplied } from "./credentials";
import { servingRestore } from "./core/restore";
import type { PlatformCapabilities } from "./core/platformRules";
import { SLOTS, currentSlot, generationOf, slotKeepers, type Slot } from "./rotation";
import type { PostgresInstance } from "./platforms/types";
import { caFile } from "./tls";

/** A login role: its name and password (secret, resolved only once the server has it). */
export interface Login {
  role: postgresql.Role;
  name: string;
  password: pulumi.Output<string>;
}

export interface DatabaseAccess {
  provider: postgresql.Provider;
  database: postgresql.Database;
  /** The current login, per policy role. */
  logins: Record<string, Login>;
  /** Both logins (rotation's slots) per policy role, and which is current. */
  slots: Record<string, { current: Slot; logins: Record<Slot, Login> }>;
  /** Both logins of every policy role (rotation's slots). */
  allLogins: postgresql.Role[];
  /** Where Pulumi (and the commands it runs) reach the server. */
  management: { host: pulumi.Output<string>; port: pulumi.Output<number> };
}

/**
 * The environment's database and roles, created over the management connection: one
 * NOLOGIN group role per policy role holding the grants, and two login roles in each group for
 * applications, alternated by rotation (components/rotation.ts); the grants never move.
 */
export function createDatabaseAccess(
  config: GaiaConfig,
  instance: PostgresInstance,
  opts: { parent: pulumi.Resource; stateful: pulumi.CustomResourceOptions },
): DatabaseAccess {
  const names = config.names;
  const management = {
    host: config.management.host ? pulumi.output(config.management.host) : instance.host,
    port: config.management.port ? pulumi.output(config.management.port) : instance.port,
  };
  const { tls, admin } = instance;
  if (!admin) throw new Error("createDatabaseAccess needs the platform's admin; platforms without one implement manageAccess.");
  const provider = new postgresql.Provider(`${names.resourcePrefix}-postgres-admin`, {
    host: management.host,
    port: management.port,
    username: admin.username,
    password: admin.password,
    sslmode: tls.mode,
    // verify-ca / verify-full against the platform's CA, from a file (components/tls.ts).
    sslrootcert: tls.ca ? caFile(`${names.resourcePrefix}-postgres-ca`, tls.ca) : undefined,
    database: "postgres",
    // RDS and Cloud SQL admins are not superusers: the provider then works through role membership.
    superuser: admin.isSuperuser,
    // The provider's default pool (20). With one connection, creating a database with an
    // owner as a non-superuser waits for ever: it holds the connection in a lock transaction
    // and asks for a second one to check membership (cyrilgdn/terraform-provider-postgresql
    // issue 514, postgresql/resource_postgresql_database.go createDatabase). Grants are kept
    // from running in parallel by their dependsOn chain instead ("tuple concurrently updated":
    // pulumi-postgresql #126, #831).
    connectTimeout: 30,
  }, { parent: opts.parent, dependsOn: instance.readyResources });
  // On a managed instance, deleting it deletes these; they are not dropped one by one before.
  const child = { parent: opts.parent, provider, deletedWith: instance.server };

  const logins: DatabaseAccess["logins"] = {};
  const slots: DatabaseAccess["slots"] = {};
  const groups: pulumi.Resource[] = [];
  const allLogins: postgresql.Role[] = [];
  for (const role of policyRoles(config.services)) {
    const group = new postgresql.Role(names.groupRole(role), { name: names.groupRole(role), login: false, inherit: true }, child);
    groups.push(group);
    const generation = generationOf(config.rotation, role);
    const both = {} as Record<Slot, Login>;
    for (const slot of SLOTS) {
      const name = names.loginRole(role, slot);
      const password = generatePassword(`${name}-password`, { parent: opts.parent }, { keepers: slotKeepers(slot, generation) });
      // Acts as its group from login (ALTER ROLE … SET ROLE TO group: cyrilgdn/terraform-provider-postgresql
      // postgresql/resource_postgresql_role.go setAssumeRole), so whatever it creates is the group's, not this slot's.
      const login = new postgresql.Role(name, { name, login: true, inherit: true, password: loginVerifier(password, name, servingRestore(config.restore)), roles: [group.name], assumeRole: group.name }, child);
      allLogins.push(login);
      both[slot] = { role: login, name, password: onceApplied(password, login.name) };
    }
    const current = currentSlot(generation);
    logins[role] = both[current];
    slots[role] = { current, logins: both };
  }

  const database = new postgresql.Database(names.database, {
    name: names.database,
    owner: names.groupRole("owner"),
    encoding: "UTF8",
    template: "template0",
    // Made closed: no one, a neighbour on a shared server included, can connect until the schema
    // command has taken PUBLIC's CONNECT and TEMP (every new database's default) and opened it
    // (ops/lib/open.ts). A role's grants cannot do it in the same step: the provider lends a
    // non-superuser admin no owner for a database-level grant (resource_postgresql_grant.go
    // getRolesToGrant), where PostgreSQL then revokes nothing. ALLOW_CONNECTIONS is set at
    // creation (resource_postgresql_database.go createDatabase); opened later, it is not this
    // resource's to put back.
    allowConnections: false,
    // A protected environment's database outlives a destroy of the stack, whatever refuses or allows it.
  }, { ...opts.stateful, provider, dependsOn: groups, deletedWith: instance.server, retainOnDelete: config.deletionProtection, ignoreChanges: ["allowConnections"] });
  return { provider, database, logins, slots, allLogins, management };
}

/**
 * The database's extensions, once the schema command has opened it (made closed: createDatabaseAccess).
 * pg_stat_statements needs shared_preload_libraries (set by each platform) to collect; creating
 * it needs the admin. pgaudit's event triggers log DDL: "You need to create the extension after
 * initializing the library" (RDS user guide; Cloud SQL's pg-audit page likewise). On an existing
 * RDS instance the library loads at its next reboot (docs/alerts.md, "Alerts and audit logging").
 */
export function createExtensions(config: GaiaConfig, access: DatabaseAccess, schema: pulumi.Resource, opts: { parent: pulumi.Resource; server: pulumi.Resource | undefined; capabilities: Pick<PlatformCapabilities, "auditLogging"> }): void {
  const child = { parent: opts.parent, provider: access.provider, deletedWith: opts.server, dependsOn: [access.database, schema] };
  const prefix = config.names.resourcePrefix;
  new postgresql.Extension(`${prefix}-pg-stat-statements`, { name: "pg_stat_statements", database: access.database.name }, child);
  if (config.auditLogging && opts.capabilities.auditLogging) {
    new postgresql.Extension(`${prefix}-pgaudit`, { name: "pgaudit", database: access.database.name }, child);
  }
}
