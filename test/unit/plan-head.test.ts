import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ACCESS_POLICY, PRIVILEGES, SERVICE_ROLE_NAMES, allowed, reachOf, type Privilege, type Reach } from "../../policy/access";
import { planStack } from "../../scripts/lib/offline";
import { readAccess, renderAccess } from "../../scripts/lib/planAccess";
import { formatPlanDiff } from "../../scripts/lib/planDiff";
import { planAsText } from "../../scripts/lib/planFormat";
import { headDiff, readSummary } from "../../scripts/lib/summaryDiff";
import { readStackFile } from "../../scripts/lib/stackFile";
import { diffAgainst } from "../../scripts/plan";
import { ADDED_SERVICES, poolConnections } from "../support/services";

/**
 * The head of a plan diff: the summary's changes and the access section's, read from the plan
 * texts, so that a grant change, hidden in the schema command's secret environment, is a line
 * of its own, and a pool change shows the pools.
 */
const committed = (stack: string) => readFileSync(path.resolve(__dirname, "../../plans", `${stack}.txt`), "utf8");
/** `text` with its access section replaced by `reach`'s. */
function withAccess(text: string, reach: readonly Reach[]): string {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("access ("));
  const end = lines.findIndex((l, i) => i > start && l === "");
  return [...lines.slice(0, start), ...renderAccess(reach), ...lines.slice(end)].join("\n");
}
/** The staging plan's access section as Reach entries, read back. */
const stagingReach = (): Reach[] =>
  [...readAccess(committed("staging")).entries()].map(([key, r]) => {
    const [role, table] = key.split(" ") as [string, string];
    return { role, table, privileges: r.privileges as Privilege[], ...(r.columns ? { columns: r.columns } : {}), credentials: r.credentials };
  });

describe("a grant change in the plan diff", () => {
  it("is one line per role and table, flagged when it writes anew or reaches a table holding credentials", () => {
    const before = committed("staging");
    const reach = stagingReach();
    const after = withAccess(before, reach.map((r) => (r.role === "assets" && r.table === "auth.users" ? { ...r, privileges: ["SELECT", "INSERT", "UPDATE", "DELETE"] } : r)));
    expect(headDiff(before, after).lines).toEqual(["access:", "  assets: + INSERT, UPDATE, DELETE on auth.users  [a new write; the table holds credentials]"]);
    // Taken away: said, not flagged.
    const narrower = withAccess(before, reach.filter((r) => !(r.role === "chat" && r.table === "game.messages")));
    expect(headDiff(before, narrower).lines).toEqual(["access:", "  chat: - SELECT, INSERT, UPDATE, DELETE on game.messages"]);
    // Analytics given a credential column: its columns, flagged; the table whole, the same.
    const column = withAccess(before, reach.map((r) => (r.role === "analytics" && r.table === "auth.users" ? { ...r, columns: [...r.columns!, "password_hash"] } : r)));
    expect(headDiff(before, column).access.map((a) => [a.line, a.credentials, a.newWrite])).toEqual([
      ["analytics: columns + password_hash on auth.users  [the table holds credentials]", true, false],
    ]);
    const whole = withAccess(before, reach.map((r) => (r.role === "analytics" && r.table === "auth.users" ? { role: r.role, table: r.table, privileges: r.privileges, credentials: true } : r)));
    expect(headDiff(before, whole).access.map((a) => a.credentials)).toEqual([true]);
    // A read of a table without credentials, given anew, is neither.
    const read = withAccess(before, [...reach, { role: "assets", table: "game.campaigns", privileges: ["SELECT"], credentials: false }]);
    expect(headDiff(before, read).access).toEqual([{ line: "assets: + SELECT on game.campaigns", newWrite: false, credentials: false }]);
  });

  it("says exactly the difference, over random changes to the staging policy (fast-check)", () => {
    const reach = stagingReach();
    const before = committed("staging");
    const privileges = fc.subarray([...PRIVILEGES], { minLength: 0 });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(reach.length - 1), privileges), { maxLength: 6 }), (edits) => {
        const next = reach.map((r) => ({ ...r }));
        for (const [i, p] of edits) next[i] = { ...next[i]!, privileges: PRIVILEGES.filter((x) => p.includes(x)) };
        const kept = next.filter((r) => r.privileges.length > 0);
        const { access } = headDiff(before, withAccess(before, kept));
        // The changes, applied to the section before, give the section after.
        const rebuilt = new Map(reach.map((r) => [`${r.role} ${r.table}`, new Set<string>(r.privileges)]));
        for (const a of access) {
          const m = /^(\S+): (.*) on (\S+)/.exec(a.line)!;
          const key = `${m[1]} ${m[3]}`;
          const set = rebuilt.get(key) ?? new Set<string>();
          for (const part of m[2]!.split("; ")) for (const p of part.slice(2).split(", ")) (part.startsWith("+") ? set.add(p) : set.delete(p));
          rebuilt.set(key, set);
          const added = /\+ ([A-Z, ]+)/.exec(m[2]!)?.[1]?.split(", ") ?? [];
          expect(a.newWrite).toBe(added.some((p) => p !== "SELECT"));
        }
        const want = new Map(kept.map((r) => [`${r.role} ${r.table}`, [...r.privileges].sort().join(",")]));
        const got = new Map([...rebuilt].filter(([, s]) => s.size > 0).map(([k, s]) => [k, [...s].sort().join(",")]));
        expect(got).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });

  it("is shown by the diff of a plan whose policy gives a new write, and no change is said only when nothing changed", () => {
    const before = committed("staging");
    const after = withAccess(before, stagingReach().map((r) => (r.role === "assets" && r.table === "auth.users" ? { ...r, privileges: ["SELECT", "UPDATE"] } : r)));
    const head = headDiff(before, after);
    expect(formatPlanDiff("staging", [], "plans/staging.txt", head.lines)).toBe(
      "plan diff for staging against plans/staging.txt:\n  access:\n    assets: + UPDATE on auth.users  [a new write; the table holds credentials]\n\nno stateful resource is replaced or deleted.\n",
    );
    expect(formatPlanDiff("staging", [], "plans/staging.txt", headDiff(before, before).lines)).toContain("  no change\n");
  });
});

describe("the summary in the plan diff", () => {
  it("shows a pool change by the pools, and a class moved by them with the connections they need", async () => {
    const { config, secretKeys } = readStackFile("staging");
    const before = committed("staging");
    const after = planAsText(await planStack("staging", { ...config, "gaia:pool": JSON.stringify({ size: 40, maxOverflow: 80 }) }, secretKeys));
    const { lines } = headDiff(before, after);
    expect(lines[0]).toBe("summary:");
    // Staging's pools with chat, assets and auth: 3 x (10 + 20) + 10 = 100 connections; 3 x (40 + 80) + 10 = 370.
    // A service added since adds its pool (poolConnections), and then the class and cost are checked by rule.
    const [was, now] = [poolConnections({ size: 10, maxOverflow: 20 }), poolConnections({ size: 40, maxOverflow: 80 })];
    if (ADDED_SERVICES.length === 0) expect([was, now]).toEqual([100, 370]);
    // What both share in the middle elided, so the connections' limit and headroom at the end show too.
    expect(lines.find((l) => l.startsWith("  pools:"))).toMatch(new RegExp(`^ {2}pools: .*\\(10 \\+ 20 overflow\\) .*= ${was} connections of \\d+ \\(headroom \\d+\\) -> .*\\(40 \\+ 80 overflow\\) .*= ${now} connections of \\d+ \\(headroom \\d+\\)$`));
    if (ADDED_SERVICES.length === 0) {
      expect(lines.find((l) => l.startsWith("  pools:"))).toContain("= 100 connections of 174 (headroom 74)");
      expect(lines.find((l) => l.startsWith("  server:"))).toMatch(/^ {2}server: db\.t4g\.small .* -> db\.t4g\.medium .*, because the pools need 370 connections$/);
      // db.t4g.small at $0.032/h -> db.t4g.medium at $0.065/h: 730 h x $0.033 = $24.09 more (whole dollars: $29 -> $53).
      expect(lines.find((l) => l.startsWith("  cost:"))).toMatch(/^ {2}cost: .*\$29\/month.* -> .*\$53\/month.* \(\+\$24\/month\)$/);
    } else {
      expect(lines.find((l) => l.startsWith("  server:"))).toMatch(new RegExp(`^ {2}server: db\\.\\S+ .* -> db\\.\\S+ .*, because the pools need ${now} connections$`));
      // A bigger class: more per month, or a class without a verified price, said so.
      expect(lines.find((l) => l.startsWith("  cost:"))).toMatch(/\(\+\$[\d,]+\/month\)$|is not priced: the change in cost is not known\)$/);
    }
    // Within the plan's width, as the diff prints them.
    for (const l of formatPlanDiff("staging", [], "plans/staging.txt", lines).split("\n")) expect(l.length).toBeLessThanOrEqual(160);
  });

  it("gives a new stack's summary and access in full", () => {
    const text = committed("production");
    const { lines, access } = headDiff("", text);
    expect(lines[0]).toBe("a new stack: its summary and access in full");
    expect(lines).toContain("  summary (production preset):");
    expect(lines.filter((l) => /^ {4}assets /.test(l))).toHaveLength(2);
    // Every write of the new stack is a new write.
    expect(access.filter((a) => a.newWrite).length).toBeGreaterThan(5);
  });
});

describe("a resource's changes in the plan diff", () => {
  it("names the entries of a named list (parameters) instead of numbering them, and says the summary's change first", async () => {
    const { config, secretKeys } = readStackFile("staging");
    const plan = await planStack("staging", { ...config, "gaia:auditLogging": "false" }, secretKeys);
    const { changes, head } = diffAgainst(committed("staging"), plan);
    const diff = formatPlanDiff("staging", changes, "plans/staging.txt", head.lines);
    expect(diff).toContain(
      "  summary:\n    audit log: pgaudit ddl,role (passwords redacted), log_statement none, connections and disconnections -> off\n",
    );
    expect(diff).toContain(
      [
        "  updates aws:rds/parameterGroup:ParameterGroup gaia-staging-postgres-params  restarts the server (parameters: RDS applies it only at the instances' next",
        "          reboot; shared_preload_libraries, static: pending-reboot)",
        '      parameters[shared_preload_libraries].value: "pg_stat_statements,pgaudit" -> "pg_stat_statements"',
        '      parameters[pgaudit.log]: {"name":"pgaudit.log","value":"ddl,role"} -> (unset)',
      ].join("\n"),
    );
    expect(diff).not.toMatch(/parameters\[\d+\]/);
  });

  it("keeps every line within the plan's width: restarts on a resource's line, and refusals naming long types", async () => {
    const { config, secretKeys } = readStackFile("staging");
    const staging = await planStack("staging", { ...config, "gaia:auditLogging": "false", "gaia:pool": JSON.stringify({ size: 40, maxOverflow: 80 }) }, secretKeys);
    const a = diffAgainst(committed("staging"), staging);
    const moved = readStackFile("production");
    const production = await planStack("production", Object.fromEntries(Object.entries(moved.config).map(([k, v]) => [k, v.replaceAll("us-east-1", "eu-west-1")])), moved.secretKeys);
    const b = diffAgainst(committed("production"), production);
    for (const diff of [formatPlanDiff("staging", a.changes, "plans/staging.txt", a.head.lines), formatPlanDiff("production", b.changes, "plans/production.txt", b.head.lines)]) {
      expect(diff.split("\n").filter((line) => line.length > 160)).toEqual([]);
    }
  });
});

describe("a policy document's change in the plan diff", () => {
  it("is diffed inside the JSON, path by path, the long strings' shared start elided so the difference shows", async () => {
    const { config, secretKeys } = readStackFile("staging");
    const aws = JSON.parse(config["gaia:aws"]!) as { serviceRoles: Record<string, string> };
    aws.serviceRoles.chat = "arn:aws:iam::123456789012:role/gaia-staging-chat-v2";
    const plan = await planStack("staging", { ...config, "gaia:aws": JSON.stringify(aws) }, secretKeys);
    const { changes, head } = diffAgainst(committed("staging"), plan);
    const diff = formatPlanDiff("staging", changes, "plans/staging.txt", head.lines);
    expect(diff).toContain(
      '  updates aws:secretsmanager/secretPolicy:SecretPolicy gaia-staging-postgres-chat-policy\n      policy.Statement[0].Principal.AWS[0]: "arn:aws:iam::123456789012:role/gaia-staging-chat" -> "arn:aws:iam::123456789012:role/gaia-staging-chat-v2"\n',
    );
    expect(diff).toContain('      policy.Statement[1].Condition.ArnEquals.aws:PrincipalArn[0]: "…gaia-staging-chat" -> "…gaia-staging-chat-v2"\n');
    for (const line of diff.split("\n")) expect(line.length).toBeLessThanOrEqual(160);
    expect(diff).not.toContain('\\"');
  });
});

describe("a table that comes to hold credentials", () => {
  it("is a change in the access diff for every role that reaches it, flagged, even with no grant changed", () => {
    const before = committed("staging");
    const tables = { ...ACCESS_POLICY.tables, "platform.providers": { secretColumns: ["api_key"] } };
    const after = withAccess(before, reachOf(SERVICE_ROLE_NAMES, { ...ACCESS_POLICY, tables }));
    const { lines, access } = headDiff(before, after);
    expect(formatPlanDiff("staging", [], "plans/staging.txt", lines)).not.toContain("no change");
    // analytics reads it whole, chat and auth read it (and any service added since that does): each now reaches a credential.
    const readers = ["analytics", ...SERVICE_ROLE_NAMES.filter((s) => allowed(s, "platform.providers").length > 0)].sort();
    if (ADDED_SERVICES.length === 0) expect(readers).toEqual(["analytics", "auth", "chat"]);
    expect(access.map((a) => [a.line.split(":")[0], a.credentials])).toEqual(readers.map((r) => [r, true]));
    expect(access[0]!.line).toBe("analytics: keeps SELECT on platform.providers, which now holds credentials  [the table holds credentials]");
    // And back: said, not flagged.
    expect(headDiff(after, before).access.map((a) => [a.line, a.credentials])).toContainEqual(["chat: keeps SELECT on platform.providers, which no longer holds credentials", false]);
  });
});

describe("a class changed by hand in the summary diff", () => {
  const byHand = async () => {
    const { config, secretKeys } = readStackFile("staging");
    // db.t4g.small (priced) -> db.m7g.large (no verified price): the pools are the same.
    const after = planAsText(await planStack("staging", { ...config, "gaia:instance": JSON.stringify({ class: "db.m7g.large" }) }, secretKeys));
    return headDiff(committed("staging"), after).lines;
  };

  it("is not said to follow the pools, whose line changes only by the server's limit", async () => {
    const server = (await byHand()).find((l) => l.startsWith("  server:"));
    expect(server).toMatch(/^ {2}server: db\.t4g\.small .* -> db\.m7g\.large /);
    expect(server).not.toContain("because the pools need");
  });

  it("gives no dollar change, which would read as a saving, when a part loses its price", async () => {
    const cost = (await byHand()).find((l) => l.startsWith("  cost:"))!;
    // "at least $29" -> "at least $6": the instance is no longer priced, not cheaper.
    expect(cost).not.toMatch(/\(-\$\d+\/month\)$/);
    expect(cost).toMatch(/\(db\.m7g\.large is not priced: the change in cost is not known\)$/);
  });
});

describe("the head of a plan diff, within the plan's width", () => {
  it("says a column list's change by what it gains and loses, and keeps every line within 160 columns", () => {
    const before = committed("staging");
    const reach = stagingReach();
    const more = ["key_prefix", "rotated_at", "revoked_at", "revoked_by", "scopes", "origin", "description", "created_by", "owner_team", "environment"];
    const after = withAccess(before, reach.map((r) => (r.role === "analytics" && r.table === "auth.api_keys" ? { ...r, columns: [...r.columns!.filter((c) => c !== "name"), ...more] } : r)));
    const { lines, access } = headDiff(before, after);
    expect(access[0]!.line).toMatch(/^analytics: columns \+ key_prefix, rotated_at, .* and \d+ more; columns - name on auth\.api_keys  \[the table holds credentials\]$/);
    for (const line of formatPlanDiff("staging", [], "plans/staging.txt", lines).split("\n")) expect(line.length).toBeLessThanOrEqual(160);
  });

  it("keeps a new stack's summary and access, in full, within 160 columns", () => {
    const text = committed("production");
    const diff = formatPlanDiff("production", [], "plans/production.txt", headDiff("", text).lines);
    expect(diff.split("\n").filter((line) => line.length > 160)).toEqual([]);
    expect(diff).toContain("at least $230/month");
  });
});

describe("the access section of a plan", () => {
  const wide = () => {
    const columns = [...ACCESS_POLICY.tables["auth.api_keys"]!.analyticsColumns!, "key_prefix", "rotated_at", "revoked_at", "revoked_by", "scopes"];
    const tables = { ...ACCESS_POLICY.tables, "auth.api_keys": { secretColumns: ["key_hash"], analyticsColumns: columns } };
    return { columns, reach: reachOf(SERVICE_ROLE_NAMES, { ...ACCESS_POLICY, tables }) };
  };

  it("stays within the plan's width with a long column list, and is read back whole", () => {
    const { columns, reach } = wide();
    const section = renderAccess(reach);
    expect(section.filter((line) => line.length > 160)).toEqual([]);
    const read = readAccess(`${section.join("\n")}\n\n+ rest`);
    expect(read.get("analytics auth.api_keys")).toEqual({ privileges: ["SELECT"], columns, credentials: true });
    // Every line after the long one is still read.
    expect(read.size).toBe(reach.length);
  });

  it("refuses to read a section it cannot parse, rather than stopping there and hiding what follows", () => {
    const section = renderAccess(stagingReach());
    const broken = [...section.slice(0, 3), "  some role with spaces  auth.users  SELECT", ...section.slice(3)];
    expect(() => readAccess(`${broken.join("\n")}\n\n+ rest`)).toThrow(/access section.*some role with spaces/);
  });
});

describe("the summary of a plan", () => {
  it("stays within the plan's width when the cost line grows (thousands of dollars), and the diff reads it back whole", async () => {
    const { config, secretKeys } = readStackFile("production");
    const text = planAsText(await planStack("production", { ...config, "gaia:instance": JSON.stringify({ storageGb: 5000, maxStorageGb: 10000 }) }, secretKeys));
    expect(text.split("\n").filter((line) => line.length > 160)).toEqual([]);
    const cost = readSummary(text).get("cost")!;
    expect(cost).toMatch(/^at least \$2,300\/month \(storage \$1,150, 2 replica\(s\) \$1,150; unpriced: .*; prices [\d-]+, docs\/costs\.md\)$/);
    // The lines after it are read too.
    expect(readSummary(text).get("protection")).toMatch(/^deletion protection/);
    expect(headDiff(committed("production"), text).lines.find((l) => l.startsWith("  cost:"))).toMatch(/\(\+\$2,070\/month\)$/);
  });
});

describe("a summary line that changes at both ends", () => {
  it("keeps what differs at its end in view (the pools' headroom), eliding the words both sides share in the middle", async () => {
    const { config, secretKeys } = readStackFile("staging");
    // Every service but assets (a service added since stays).
    const services = SERVICE_ROLE_NAMES.filter((s) => s !== "assets");
    const aws = JSON.parse(config["gaia:aws"]!) as { serviceRoles: Record<string, string> };
    delete aws.serviceRoles.assets;
    const after = planAsText(await planStack("staging", { ...config, "gaia:aws": JSON.stringify(aws), "gaia:services": JSON.stringify(services) }, secretKeys));
    const pools = headDiff(committed("staging"), after).lines.find((l) => l.startsWith("  pools:"))!;
    expect(pools.length).toBeLessThanOrEqual(152);
    const [was, now] = [poolConnections({ size: 10, maxOverflow: 20 }), poolConnections({ size: 10, maxOverflow: 20 }) - 30];
    // 3 services, 100 connections of 174 (headroom 74) -> 2 services, 70 connections of a smaller class's limit.
    if (ADDED_SERVICES.length === 0) expect([was, now]).toEqual([100, 70]);
    expect(pools).toMatch(new RegExp(`^ {2}pools: ${services.length + 1} .*${was} connections .*\\(headroom \\d+\\) -> ${services.length} .*${now} connections .*\\(headroom \\d+\\)$`));
    // With chat, assets and auth the class shrinks, so its limit shows on both sides.
    if (ADDED_SERVICES.length === 0) expect(pools).toMatch(/100 connections of 174 \(headroom 74\) -> 2 .*70 connections of \d+ \(headroom \d+\)$/);
  });
});
