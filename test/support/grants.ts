import { Client } from "pg";
import { applyAccessPolicy } from "../../ops/lib/policy";
import { actingAs } from "../../ops/lib/postgres";
import type { AccessPolicy } from "../../policy/access";
import { policySpec } from "../../policy/grants";
import type { TestEnvironment } from "./postgres";

/** Applies the access policy as the schema command does: as the owner group, in one transaction. */
export async function grantPolicy(env: TestEnvironment, policy?: AccessPolicy, services?: readonly string[]): Promise<void> {
  const client = new Client({ connectionString: actingAs(env.url("owner"), env.names.groupRole("owner")) });
  await client.connect();
  try {
    await applyAccessPolicy(client, policySpec(env.names, services, policy));
  } finally {
    await client.end();
  }
}
