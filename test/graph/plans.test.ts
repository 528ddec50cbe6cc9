import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planStack } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { planAsMermaid } from "../../scripts/lib/planDiagram";
import { PLAN_WIDTH, planAsText } from "../../scripts/lib/planFormat";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { poolConnections } from "../support/services";
import { CLOUD_PLATFORMS, planOn } from "../support/stacks";
import { PLANS_FOLDER, stackNames, updatePlanLinks } from "../../scripts/plan";

describe("committed plans", () => {
  it("cover every stack file, one plan and one diagram each, and no stack that has no file; the four environments among them", () => {
    const planned = readdirSync(PLANS_FOLDER).map((f) => f.replace(/\.(txt|md)$/, ""));
    for (const stack of stackNames()) expect(planned.filter((p) => p === stack), stack).toHaveLength(2);
    expect([...new Set(planned)].sort()).toEqual([...stackNames()].sort());
    expect(stackNames()).toEqual(expect.arrayContaining(["dev", "staging", "production", "local"]));
  });

  it.each(stackNames())("match what the code plans for stack %s", async (stack) => {
    const { config, secretKeys } = readStackFile(stack);
    const actual = planAsText(await planStack(stack, config, secretKeys));
    const committed = readFileSync(path.join(PLANS_FOLDER, `${stack}.txt`), "utf8");
    expect(
      actual,
      `The plan of stack "${stack}" changed. Review the diff; if it is intended, run \`npm run plan -- --update\` and commit plans/.`,
    ).toBe(committed);
  });

  it("never print a generated secret", async () => {
    for (const stack of stackNames()) {
      const text = readFileSync(path.join(PLANS_FOLDER, `${stack}.txt`), "utf8");
      expect(text).not.toMatch(/mock-[0-9a-f]{24}/);
      expect(text).toContain("[secret]");
    }
  });
});

describe("plans a reviewer reads first", () => {
  const committed = (stack: string) => readFileSync(path.join(PLANS_FOLDER, `${stack}.txt`), "utf8");

  it("start with what production gets, in figures", () => {
    // The pools: production's 20 + 40 per service (3 for chat, assets and auth: 190 connections, headroom 3414).
    const pools = poolConnections({ size: 20, maxOverflow: 40 });
    expect(committed("production").split("\n").slice(2, 17)).toEqual([
      "summary (production preset):",
      "  platform:     aws, us-east-1, PostgreSQL 16",
      "  server:       db.m7g.2xlarge (8 vCPU, 32768 MB), 500 GB growing to 1000 GB",
      "  availability: Multi-AZ; 2 read replica(s)",
      "  backups:      7 day(s), point-in-time recovery over 7 day(s)",
      "  TLS:          verify-full against the region's RDS roots (rds.force_ssl)",
      "  Redis:        4096 MB: ElastiCache cache.m7g.large x2, automatic failover across zones, TLS and AUTH token",
      // docs/costs.md: 2 × 500 GB gp3 at $0.115/GB-month (Multi-AZ); no verified price for the m7g classes or ElastiCache.
      "  cost:         at least $230/month (storage $115, 2 replica(s) $115; unpriced: db.m7g.2xlarge, cache.m7g.large + snapshots; prices 2026-12-05, docs/costs.md)",
      "  protection:   deletion protection, final snapshot, `protect` (replacing or deleting takes --ignore-protect)",
      // db.m7g.2xlarge, 32 GiB: 3216 connections on the memory it leaves PostgreSQL (90% less 256 MiB).
      `  pools:        ${SERVICE_ROLE_NAMES.length} service(s) x (20 + 40 overflow) + 10 reserved = ${pools} connections of 3216 (headroom ${3216 - pools})`,
      "  alerts:       CPU > 80%, storage < 50 GB free for 15 min (only at its 1000 GB ceiling), > 2572 connections, replica lag > 30 s, Redis memory > 80%",
      "  alerts to:    arn:aws:sns:us-east-1:123456789012:gaia-production-alerts",
      "  audit log:    pgaudit ddl,role (passwords redacted), log_statement none, connections and disconnections",
      "  credentials:  rotation generations {} (assumed at most one step from what the stack applied; `pulumi up` checks)",
      "",
    ]);
    expect(committed("dev")).toContain("  backups:      1 day(s) of daily snapshots, no point-in-time recovery\n");
    expect(committed("dev")).toContain("  protection:   none (can be torn down)\n");
  });

  it.each(CLOUD_PLATFORMS)("summarise a production stack on %s in that platform's words", async (platform) => {
    const text = planAsText(await planOn("production", platform));
    const line = (label: string) => text.split("\n").find((l) => l.startsWith(`  ${label}:`));
    expect(line("availability")).toBe({
      aws: "  availability: Multi-AZ; 2 read replica(s)",
      gcp: "  availability: regional (a standby in another zone); 2 read replica(s)",
      fly: "  availability: Fly's cluster (a primary and a standby on every plan); 0 read replica(s)",
    }[platform]);
    const pools = poolConnections({ size: 20, maxOverflow: 40 });
    expect(line("pools")).toMatch(new RegExp(`^ {2}pools: {8}${SERVICE_ROLE_NAMES.length} service\\(s\\) x \\(20 \\+ 40 overflow\\) \\+ 10 reserved = ${pools} connections of \\d+ \\(headroom \\d+\\)$`));
  });

  it.each(stackNames())("keep every line of stack %s within %s columns", (stack) => {
    const long = committed(stack).split("\n").filter((l) => l.length > PLAN_WIDTH);
    expect(long).toEqual([]);
  });

  it("group grants and credentials, and name the migrations the schema command applies", () => {
    const text = committed("staging");
    const titles = text.split("\n").filter((l) => l.startsWith("  # "));
    expect(titles).toEqual(["  # servers and network", "  # database, roles and access", "  # credentials and the secret store", "  # alarms and alerts", "  # commands (schema, privileges, Redis ACL, Fly)"]);
    const section = (title: string) => text.slice(text.indexOf(title), text.indexOf("\n  # ", text.indexOf(title) + 1));
    expect(section("# credentials and the secret store")).not.toMatch(/postgresql:index\/role/);
    expect(section("# database, roles and access")).toMatch(/\+ postgresql:index\/role:Role gaia_staging_chat_b/);
    expect(text).toMatch(/\(migrations: 000001-initial-schema\.sql/);
  });
});

describe("committed diagrams", () => {
  it.each(stackNames())("match what the code plans for stack %s, as Mermaid markdown", async (stack) => {
    const { config, secretKeys } = readStackFile(stack);
    const actual = planAsMermaid(await planStack(stack, config, secretKeys));
    expect(actual, `The diagram of stack "${stack}" changed: run \`npm run plan -- --update\` and commit plans/.`).toBe(readFileSync(path.join(PLANS_FOLDER, `${stack}.md`), "utf8"));
    expect(actual).toMatch(/^```mermaid\nflowchart LR\n/m);
  });

  it("show what connects to what: the admin provider manages the roles after the instance, versions take their secret's value", () => {
    const text = readFileSync(path.join(PLANS_FOLDER, "production.md"), "utf8");
    const id = (label: string) => new RegExp(`^ {4}(n\\d+)\\["${label.replace(/[()]/g, "\\$&")}<br/>`, "m").exec(text)?.[1];
    const [instance, provider, logins, secret, version, replicas] = ["aws rds Instance", "postgresql provider", "postgresql Role (login)", "aws secretsmanager Secret", "aws secretsmanager SecretVersion", "aws rds Instance (replica)"].map(id);
    for (const edge of [`${instance} -->|before| ${provider}`, `${provider} -->|manages| ${logins}`, `${secret} -->|value of| ${version}`, `${logins} -->|before| ${version}`, `${instance} -->|value of| ${replicas}`]) {
      expect(text).toContain(`  ${edge}\n`);
    }
  });

  it("are linked from the README, each stack's plan and diagram, as `npm run plan -- --update` writes the list", () => {
    const readme = readFileSync(path.join(PLANS_FOLDER, "../README.md"), "utf8");
    for (const stack of stackNames()) {
      expect(readme).toContain(`(plans/${stack}.md)`);
      expect(readme).toContain(`(plans/${stack}.txt)`);
    }
    const copy = path.join(mkdtempSync(path.join(tmpdir(), "gaia-readme-")), "README.md");
    writeFileSync(copy, readme);
    expect(updatePlanLinks(copy, stackNames()), "the README's list of plans is what --update writes").toBe(false);
    expect(updatePlanLinks(copy, [...stackNames(), "qa"])).toBe(true);
    expect(readFileSync(copy, "utf8")).toContain("- `qa`: [plan](plans/qa.txt), [diagram](plans/qa.md)\n<!-- plans:end -->");
  });
});
