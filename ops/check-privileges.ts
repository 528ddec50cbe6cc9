/**
 * Checks a deployed environment against the access policy and prints the privilege matrix
 * (x: allowed, .: refused, !: differs from the policy). Exits 1 on any difference.
 *
 *   GAIA_ENVIRONMENT     the stack / environment name
 *   GAIA_DATABASE_URL    any role that can read the catalogs of the environment's database
 *   GAIA_DATABASE_CA      optional: PEM of the CA the server certificate chains to (sslmode verify-ca / verify-full)
 */
import { environmentNames } from "../policy/naming";
import { OpsError, requireEnv, runMain } from "./lib/env";
import { connect, databaseUrlFromEnv } from "./lib/postgres";
import { checkPrivileges, formatMatrix } from "./lib/privileges";

runMain(async () => {
  const names = environmentNames(requireEnv("GAIA_ENVIRONMENT", "the environment (stack) name"));
  const client = await connect(databaseUrlFromEnv("a connection URL to the environment's database"));
  try {
    const report = await checkPrivileges(client, names);
    process.stdout.write(`${formatMatrix(report.matrix)}\n`);
    if (report.problems.length > 0) {
      throw new OpsError(`the database differs from the access policy:\n  ${report.problems.join("\n  ")}`);
    }
    process.stdout.write(`privileges match the access policy (${report.matrix.length} role/table and ${report.schemas.length} role/schema pairs)\n`);
  } finally {
    await client.end();
  }
});
