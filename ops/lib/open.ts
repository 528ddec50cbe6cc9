import { OpsError } from "./env";
import { actingAs, connect } from "./postgres";
import { quoteIdent } from "../../policy/grants";

/**
 * Opens the environment's database, which the component creates closed (ALLOW_CONNECTIONS false:
 * components/database.ts), after taking PUBLIC's CONNECT and TEMP, so no role outside the access
 * policy, a neighbour's login on a shared server included, is ever connected to it. As the owner
 * group (the database's owner may do both: PostgreSQL, ALTER DATABASE and GRANT), from the
 * server's `postgres` database, since a closed database takes no connection at all. A database
 * already open (opened before, or made before the component closed new ones) is left as it is.
 */
/** What opens it: PUBLIC's privileges taken, then connections allowed; together or not at all. */
const opening = (database: string) => [`REVOKE ALL ON DATABASE ${quoteIdent(database)} FROM PUBLIC`, `ALTER DATABASE ${quoteIdent(database)} WITH ALLOW_CONNECTIONS true`];

export async function openDatabase(connectionString: string, ownerRole: string): Promise<"opened" | "open"> {
  // Open already (every run after the first): connecting says so, and a connection's errors name the database.
  try {
    await (await connect(connectionString)).end();
    return "open";
  } catch (error) {
    // 55000 object_not_in_prerequisite_state: "database … is not currently accepting connections".
    if ((error as { code?: string }).code !== "55000") throw error;
  }
  const url = new URL(actingAs(connectionString, ownerRole));
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = "/postgres";
  let client;
  try {
    client = await connect(url.toString());
  } catch (error) {
    if ((error as { code?: string }).code === "42501") {
      // As the owner: an admin that is no superuser (RDS, Cloud SQL) revokes nothing of PUBLIC's
      // by itself (a warning, "no privileges could be revoked") and may not ALTER the database.
      // Its CREATEROLE (with ADMIN on the roles it made, PostgreSQL 16+) lets it lend itself the owner.
      const owner = quoteIdent(ownerRole);
      const statements = [
        `GRANT ${owner} TO CURRENT_USER`,
        `SET ROLE ${owner}`,
        ...opening(database),
        "RESET ROLE",
        `REVOKE ${owner} FROM CURRENT_USER`,
      ];
      throw new OpsError(
        `database ${database} is made closed and opened by the schema command from the server's postgres database, where ${decodeURIComponent(url.username)} may not connect: ` +
          `grant it CONNECT on database postgres, or open ${database} as its owner, connected as the admin: ${statements.join("; ")}.`,
      );
    }
    throw error;
  }
  try {
    // One opener at a time: two runs updating the database's row at once fail with "tuple
    // concurrently updated". The lock is taken before the transaction, whose start then sees
    // what the one before committed (opened: nothing to do).
    await client.query("SET lock_timeout = '60s'");
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`gaia-open:${database}`]);
    await client.query("BEGIN");
    try {
      const { rows } = await client.query<{ open: boolean }>("SELECT datallowconn AS open FROM pg_database WHERE datname = $1", [database]);
      if (rows[0]?.open !== false) {
        await client.query("ROLLBACK");
        return "open";
      }
      // Together or not at all: never open with PUBLIC's CONNECT.
      for (const statement of opening(database)) await client.query(statement);
      await client.query("COMMIT");
      return "opened";
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  } finally {
    // Ending the session gives the advisory lock back.
    await client.end();
  }
}
