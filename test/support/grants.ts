import { grantsAsSql } from "../../policy/grants";
import { withClient, type TestEnvironment } from "./postgres";

/** Applies the access policy as plain SQL: what the component's grants do, without the provider. */
export async function grantPolicy(env: TestEnvironment): Promise<void> {
  await withClient(env.adminUrl, async (client) => {
    for (const statement of grantsAsSql(env.names)) await client.query(statement);
  });
}
