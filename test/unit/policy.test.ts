import { describe, expect, it } from "vitest";
import { ACCESS_POLICY, SERVICE_ROLES, SERVICE_ROLE_NAMES, TABLE_NAMES, analyticsColumns, secretColumns } from "../../policy/access";
import { ADDED_SERVICES } from "../support/services";
import { grantsFor, policySpec, policySql } from "../../policy/grants";
import { environmentNames } from "../../policy/naming";

describe("the access policy", () => {
  it("never lets analytics read a secret column", () => {
    for (const table of TABLE_NAMES) {
      const readable = analyticsColumns(table);
      if (secretColumns(table).length === 0) expect(readable).toBeNull();
      else for (const secret of secretColumns(table)) expect(readable).not.toContain(secret);
    }
  });

  it("grants each service only what the policy lists, and nothing to PUBLIC", () => {
    const names = environmentNames("dev");
    const grants = grantsFor(names);
    for (const grant of grants.filter((g) => g.role === "public")) expect(grant.privileges).toEqual([]);
    const chat = grants.filter((g) => g.role === "gaia_dev_chat" && g.kind === "table");
    expect(chat.flatMap((g) => (g.kind === "table" ? g.tables : [])).sort()).toEqual([
      "auth.provider_keys", "auth.users", "game.campaign_participants", "game.campaigns", "game.conversations", "game.messages", "platform.providers",
    ]);
  });

  it("gives each role USAGE on the schemas it needs and nothing on the others", () => {
    const usage = Object.fromEntries(grantsFor(environmentNames("dev")).filter((g) => g.kind === "schema").map((g) => [g.role, g.kind === "schema" ? [...g.schemas].sort() : []]));
    expect(usage).toEqual({
      gaia_dev_owner: ["audit", "auth", "game", "platform"],
      gaia_dev_analytics: ["audit", "auth", "game", "platform"],
      gaia_dev_chat: ["auth", "game", "platform"],
      gaia_dev_assets: ["auth", "platform"],
      gaia_dev_auth: ["audit", "auth", "platform"],
      // A service added since: the schemas of the tables its entry lists, no other.
      ...Object.fromEntries(ADDED_SERVICES.map((s) => [`gaia_dev_${s}`, [...new Set(Object.keys(SERVICE_ROLES[s as keyof typeof SERVICE_ROLES].tables).map((t) => t.split(".")[0]!))].sort()])),
    });
  });

  it("leaves out the grants of services an environment does not run", () => {
    const grants = grantsFor(environmentNames("dev"), ["chat"]);
    expect(grants.some((g) => g.role === "gaia_dev_assets")).toBe(false);
    expect(grants.some((g) => g.role === "gaia_dev_chat")).toBe(true);
    expect(SERVICE_ROLE_NAMES).toContain("assets");
  });

  it("renders the policy as SQL with quoted identifiers: everything revoked from the roles that hold privileges, then the grants", () => {
    const sql = policySql(policySpec(environmentNames("review-7")), ["gaia_review_7_owner", "gaia_review_7_old_service"]);
    const tables = Object.keys(ACCESS_POLICY.tables).map((t) => `"${t.split(".")[0]}"."${t.split(".")[1]}"`).join(", ");
    const schemas = '"public", "auth", "platform", "game", "audit"';
    const policySchemas = '"auth", "platform", "game", "audit"';
    const kinds = ["TABLES", "SEQUENCES", "FUNCTIONS", "TYPES"];
    const defaults = (from: string) =>
      ["public", "auth", "platform", "game", "audit"].flatMap((schema) => kinds.map((kind) => `ALTER DEFAULT PRIVILEGES FOR ROLE "gaia_review_7_owner" IN SCHEMA "${schema}" REVOKE ALL ON ${kind} FROM ${from}`));
    const everyObject = (from: string) => ["TABLES", "SEQUENCES", "ROUTINES"].map((kind) => `REVOKE ALL ON ALL ${kind} IN SCHEMA ${policySchemas} FROM ${from}`);
    const revoked = (from: string) => [
      `REVOKE ALL ON TABLE ${tables} FROM ${from}`,
      ...everyObject(from),
      `REVOKE ALL ON SCHEMA ${schemas} FROM ${from}`,
      `REVOKE ALL ON DATABASE "gaia_review_7" FROM ${from}`,
      ...defaults(from),
    ];
    expect(sql.slice(0, 2 * 26 + 1)).toEqual([
      ...revoked('"gaia_review_7_old_service"'),
      ...revoked("PUBLIC"),
      // No default privilege for anyone: PUBLIC's EXECUTE on new functions is the owner's global default.
      'ALTER DEFAULT PRIVILEGES FOR ROLE "gaia_review_7_owner" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC',
    ]);
    expect(sql.filter((statement) => /\bGRANT\b/.test(statement) && /DEFAULT PRIVILEGES/.test(statement))).toEqual([]);
    expect(sql).not.toContain(`REVOKE ALL ON TABLE ${tables} FROM "gaia_review_7_owner"`);
    expect(sql).toContain('GRANT SELECT ("id", "email", "name", "is_admin", "created_at", "updated_at") ON TABLE "auth"."users" TO "gaia_review_7_analytics"');
    expect(sql).toContain('GRANT USAGE ON SCHEMA "auth", "platform" TO "gaia_review_7_assets"');
  });
});

describe("environment names", () => {
  it("keep every environment's objects apart and valid as identifiers", () => {
    const names = environmentNames("review-42");
    expect(names).toMatchObject({ database: "gaia_review_42", redisUser: "gaia_review_42", redisKeyPrefix: "gaia:review-42:", resourcePrefix: "gaia-review-42" });
    expect(names.loginRole("analytics")).toBe("gaia_review_42_analytics_a");
    expect(() => environmentNames("Review 42")).toThrow(/lowercase letter first/);
  });
});
