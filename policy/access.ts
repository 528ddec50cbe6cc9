/**
 * The access policy: which role may do what on which table.
 *
 * This is the one source of truth. The component turns it into `@pulumi/postgresql`
 * grants, the tests turn it into plain GRANT statements, and `scripts/check-privileges.ts`
 * compares a live database against it. Adding a service role is one new entry in `SERVICE_ROLES`.
 */

export const PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE"] as const;
export type Privilege = (typeof PRIVILEGES)[number];

/**
 * The schemas the Gaia tables live in (sql/migrations 000002; docs/architecture.md, "The schema"). Only the
 * owner creates objects in them; PUBLIC has nothing in them, nor in `public`, which holds
 * only what extensions make.
 */
export const SCHEMAS = {
  auth: "accounts and what proves who someone is: users, OAuth accounts, sessions, access control, API and provider keys",
  game: "campaigns, their participants, and the conversation and message history",
  audit: "security events, appended and read, never changed",
  platform: "the platform's own catalogue and outputs: providers and generated assets",
} as const;
export type SchemaName = keyof typeof SCHEMAS;
export const SCHEMA_NAMES = Object.keys(SCHEMAS) as SchemaName[];

/** The schema of a table named `schema.table`. */
export const schemaOf = (table: string): string => table.split(".")[0]!;

/**
 * Every table, as `schema.table`. Where a table holds credentials, `secretColumns` names them and
 * `analyticsColumns` lists what the analytics role may read instead of the whole table.
 * `scripts/check-privileges.ts` fails when this drifts from the live schema: a table or a
 * credential-looking column missing here, or a readable column that is not listed.
 */
export const TABLES = {
  "auth.users": {
    secretColumns: ["password_hash"],
    analyticsColumns: ["id", "email", "name", "is_admin", "created_at", "updated_at"],
  },
  "platform.providers": {},
  "auth.api_keys": {
    secretColumns: ["key_hash"],
    analyticsColumns: ["id", "user_id", "name", "permissions", "is_active", "expires_at", "last_used_at", "created_at", "updated_at"],
  },
  "auth.provider_keys": {
    secretColumns: ["encrypted_key"],
    analyticsColumns: ["id", "user_id", "provider_id", "created_at", "updated_at"],
  },
  "game.conversations": {},
  "game.messages": {},
  "game.campaigns": {},
  "game.campaign_participants": {},
  "platform.assets": {},
  "auth.oauth_accounts": {
    secretColumns: ["access_token", "refresh_token"],
    analyticsColumns: ["id", "user_id", "provider", "provider_account_id", "token_expires_at", "created_at", "updated_at"],
  },
  "auth.sessions": {
    secretColumns: ["token_hash"],
    analyticsColumns: ["id", "user_id", "ip_address", "user_agent", "expires_at", "created_at", "last_seen_at"],
  },
  "auth.access_control": {},
  "audit.security_events": {},
} as const satisfies Record<string, TablePolicy>;

export interface TablePolicy {
  secretColumns?: readonly string[];
  analyticsColumns?: readonly string[];
}

export type TableName = keyof typeof TABLES;
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

const READ = ["SELECT"] as const satisfies readonly Privilege[];
const READ_WRITE = PRIVILEGES;
/** Audit rows are appended and read, never changed. */
const APPEND_ONLY = ["SELECT", "INSERT"] as const satisfies readonly Privilege[];

export interface ServiceRole {
  description: string;
  tables: Readonly<Partial<Record<string, readonly Privilege[]>>>;
}

/** One role per Gaia service. The key is the role's short name (`chat` -> `gaia_<env>_chat`). */
export const SERVICE_ROLES = {
  chat: {
    description: "Chat and game service: campaigns, their participants, conversations and messages, using the user's provider keys.",
    tables: {
      "auth.users": READ,
      "platform.providers": READ,
      "auth.provider_keys": READ,
      "game.campaigns": READ_WRITE,
      "game.campaign_participants": READ_WRITE,
      "game.conversations": READ_WRITE,
      "game.messages": READ_WRITE,
    },
  },
  assets: {
    description: "Asset service: generated assets and their metadata.",
    tables: { "auth.users": READ, "platform.assets": READ_WRITE },
  },
  auth: {
    description: "Auth and API-key service: accounts, sessions, keys, access control and the audit trail.",
    tables: {
      "auth.users": READ_WRITE,
      "platform.providers": READ,
      "auth.api_keys": READ_WRITE,
      "auth.provider_keys": READ_WRITE,
      "auth.oauth_accounts": READ_WRITE,
      "auth.sessions": READ_WRITE,
      "auth.access_control": READ_WRITE,
      "audit.security_events": APPEND_ONLY,
    },
  },
} as const satisfies Record<string, ServiceRole>;

export type ServiceRoleName = keyof typeof SERVICE_ROLES;
export const SERVICE_ROLE_NAMES = Object.keys(SERVICE_ROLES) as ServiceRoleName[];

/**
 * The roles of one environment. `owner` owns the database and every table and is the role
 * migrations run as; `analytics` reads everything but credentials.
 */
export type PolicyRole = "owner" | "analytics" | ServiceRoleName;

/**
 * The whole policy as one value: what the schema command applies and what the privilege check
 * compares against. The tests build other versions of it to prove that a change converges.
 */
export interface AccessPolicy {
  tables: Readonly<Record<string, TablePolicy>>;
  services: Readonly<Record<string, ServiceRole>>;
}

export const ACCESS_POLICY: AccessPolicy = { tables: TABLES, services: SERVICE_ROLES };

/** What a role may do on a table, as the policy says. Owner: everything (it owns the tables). */
export function allowed(role: string, table: string, policy: AccessPolicy = ACCESS_POLICY): readonly Privilege[] {
  if (role === "owner") return PRIVILEGES;
  if (role === "analytics") return READ;
  return policy.services[role]?.tables[table] ?? [];
}

/**
 * The schemas a role may use (USAGE): the owner and analytics every schema of the policy, a
 * service those of the tables it may touch, and nothing else.
 */
export function schemasFor(role: string, policy: AccessPolicy = ACCESS_POLICY): string[] {
  const all = [...new Set(Object.keys(policy.tables).map(schemaOf))];
  if (role === "owner" || role === "analytics") return all;
  const mine = Object.entries(policy.services[role]?.tables ?? {}).filter(([, p]) => p && p.length).map(([t]) => schemaOf(t));
  return all.filter((schema) => mine.includes(schema));
}

/** The secret columns of a table (none for most). */
export function secretColumns(table: string, policy: AccessPolicy = ACCESS_POLICY): readonly string[] {
  return policy.tables[table]?.secretColumns ?? [];
}

/** The columns analytics may read, or null where it may read the whole table. */
export function analyticsColumns(table: string, policy: AccessPolicy = ACCESS_POLICY): readonly string[] | null {
  return policy.tables[table]?.analyticsColumns ?? null;
}

/** Names that look like credentials; every such column must be listed as secret above. */
export const CREDENTIAL_COLUMN_PATTERN = /(password|secret|_hash$|(^|_)token$|encrypted)/i;

/**
 * What each role of an environment may do, table by table, as people review it (the plan's
 * access section, the stack's `access` output): `privileges` on the table, or on `columns` of it
 * only; `credentials` where the table holds any. Roles with nothing on a table have no entry.
 */
export interface Reach {
  role: string;
  table: string;
  privileges: readonly Privilege[];
  columns?: readonly string[];
  credentials: boolean;
}

export function reachOf(services: readonly string[], policy: AccessPolicy = ACCESS_POLICY, options: { coarse?: boolean } = {}): Reach[] {
  const tables = Object.keys(policy.tables).sort();
  const credentials = (table: string) => secretColumns(table, policy).length > 0;
  // Coarse: a platform whose users get a role kind over every table (Fly's reader and writer).
  const may = (role: string, table: string) => (options.coarse ? (role === "analytics" ? READ : READ_WRITE) : allowed(role, table, policy));
  const analytics = tables.map((table): Reach => {
    const columns = options.coarse ? null : analyticsColumns(table, policy);
    return { role: "analytics", table, privileges: may("analytics", table), ...(columns ? { columns } : {}), credentials: credentials(table) };
  });
  const servicesReach = services.flatMap((role) =>
    tables.filter((table) => may(role, table).length > 0).map((table): Reach => ({ role, table, privileges: may(role, table), credentials: credentials(table) })),
  );
  return [...analytics, ...servicesReach];
}
