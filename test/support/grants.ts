import { Client } from "pg";
import { grantsAsSql } from "../../policy/grants";
import type { TestEnvironment } from "./postgres";

/** Applies the access policy as plain SQL: what the component's grants do, without the provider. */
export async function grantPolicy(env: TestEnvironment): Promise<void> {
  const client = new Client({ connectionString: env.adminUrl });
  await client.connect();
  try {
    for (const statement of grantsAsSql(env.names)) await client.query(statement);
  } finally {
    await client.end();
  }
}
