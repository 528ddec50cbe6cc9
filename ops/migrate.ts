/**
 * The schema command: what the component's `command.local.Command` runs on create and update.
 *
 *   GAIA_DATABASE_URL     owner login connection (postgresql://…), secret
 *   GAIA_DATABASE_CA      optional: PEM of the CA the server certificate chains to (sslmode verify-ca / verify-full)
 *   GAIA_OWNER_ROLE       the owner group role migrations act as
 *   GAIA_ACCESS_POLICY    optional: the access policy as JSON (policy/grants.ts PolicySpec), applied after the migrations
 *   GAIA_ADMIN_EMAIL      optional: the environment's admin account
 *   GAIA_ADMIN_KEY_SHA256 optional: SHA-256 (hex) of the stack's generated admin API key
 *   GAIA_MIGRATIONS_FOLDER optional: another folder of migrations (drills, tests); default sql/migrations
 *   GAIA_MIGRATIONS_DIGEST not read: it changes with the migrations, so Pulumi runs an update
 */
import { OpsError, optionalEnv, requireEnv, runMain } from "./lib/env";
import type { PolicySpec } from "../policy/grants";
import { bootstrapAdmin, migrateDatabase } from "./lib/migrations";
import { openDatabase } from "./lib/open";
import { applyAccessPolicy } from "./lib/policy";
import { actingAs, connect, databaseUrlFromEnv } from "./lib/postgres";

runMain(async () => {
  const verb = process.argv[2] ?? "apply";
  if (verb !== "apply") throw new OpsError(`unknown action "${verb}": ops/migrate.ts only applies ("apply").`);
  const options = {
    connectionString: databaseUrlFromEnv("the owner role's connection URL"),
    ownerRole: requireEnv("GAIA_OWNER_ROLE", "the owner group role's name"),
    migrationsFolder: optionalEnv("GAIA_MIGRATIONS_FOLDER"),
  };
  // The component makes the database closed: PUBLIC's CONNECT goes before anyone can connect.
  if ((await openDatabase(options.connectionString, options.ownerRole)) === "opened") process.stdout.write("database opened, PUBLIC without CONNECT or TEMP\n");
  const policy = optionalEnv("GAIA_ACCESS_POLICY");
  const result = await migrateDatabase({
    ...options,
    underLock: async () => {
      if (!policy) return;
      const client = await connect(actingAs(options.connectionString, options.ownerRole));
      try {
        const applied = await applyAccessPolicy(client, JSON.parse(policy) as PolicySpec);
        process.stdout.write(`access policy applied (${applied.statements} statements, one transaction)\n`);
      } finally {
        await client.end();
      }
    },
  });
  const email = optionalEnv("GAIA_ADMIN_EMAIL");
  const keySha256 = optionalEnv("GAIA_ADMIN_KEY_SHA256");
  if (email && keySha256) {
    await bootstrapAdmin(options, { email, keySha256 });
    process.stdout.write(`admin account ${email} has the stack's admin key\n`);
  }
  process.stdout.write(`schema up to date (${result.applied.length} migration(s) applied)\n`);
});
