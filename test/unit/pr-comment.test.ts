import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatPlanDiff, diffPlans, readPlanText } from "../../scripts/lib/planDiff";
import { headDiff } from "../../scripts/lib/summaryDiff";
import { commentSummary } from "../../scripts/pr-plans";

/** The line a stack's folded diff shows in the pull-request comment (scripts/pr-plans.ts). */
const committed = (stack: string) => readFileSync(path.resolve(__dirname, "../../plans", `${stack}.txt`), "utf8");

describe("the pull-request comment's line for a stack", () => {
  it("stays short for a new stack, whose every grant is new: counted, not listed", () => {
    const text = committed("production");
    const head = headDiff("", text);
    const diff = formatPlanDiff("production", diffPlans(new Map(), readPlanText(text)), "main:plans/production.txt", head.lines);
    const line = commentSummary(diff, head, false);
    expect(line.length).toBeLessThanOrEqual(200);
    expect(line).toMatch(/^a new stack; no stateful resource is replaced or deleted; ⚠ \d+ write grant\(s\) and \d+ read\(s\) of tables holding credentials, all new: see its access section below$/);
  });

  it("names a few flagged grant changes and counts the rest", () => {
    const before = committed("staging");
    const after = before.replace(/^( {2}(?:assets|chat|analytics) +\S+(?: !)? +)SELECT$/gm, "$1SELECT, INSERT");
    const head = headDiff(before, after);
    expect(head.access.length).toBeGreaterThan(4);
    const line = commentSummary(formatPlanDiff("staging", [], "main:plans/staging.txt", head.lines), head, false);
    expect(line.split("; ⚠ ")).toHaveLength(1 + 3 + 1);
    expect(line).toMatch(new RegExp(`; ⚠ ${head.access.length - 3} more grant change\\(s\\) flagged below$`));
  });

  it("says a new write into a table holding credentials reaches credentials too", () => {
    const before = committed("staging");
    const after = before.replace(/^( {2}assets +auth\.users ! +)SELECT$/m, "$1SELECT, UPDATE");
    const head = headDiff(before, after);
    const line = commentSummary(formatPlanDiff("staging", [], "main:plans/staging.txt", head.lines), head, false);
    expect(line).toBe("no stateful resource is replaced or deleted; ⚠ new write: assets: + UPDATE on auth.users, a table holding credentials");
  });
});
