/**
 * The offline plan of every stack diffed against a base revision's committed plan, as markdown
 * for the pull-request comment: `bash scripts/pr-plans.sh <base-ref> <out.md>`. In GitHub
 * Actions it also sets the step outputs `stacks` (JSON list of the stacks the change touches)
 * and `refused` (true when the cloud would refuse a change, or one replaces or deletes a protected
 * resource and ALLOW_REPLACE is not true). It exits 0 either way: the workflow decides after commenting. Every stack is planned in
 * this one process (`npm run plan -- <stack> --diff` per stack would start the program anew for each).
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { blockingRefusals, cloudRefusals, formatPlanDiff, protectedRefusals } from "./lib/planDiff";
import { PROJECT_ROOT, stackNames } from "./lib/stackFile";
import type { HeadDiff } from "./lib/summaryDiff";
import { diffAgainst, planForPeople } from "./plan";

/** A file as the base revision has it, or "" when it has none (a stack new in this change: everything in it is a creation). */
function atBase(base: string, file: string): string {
  try {
    return execFileSync("git", ["show", `${base}:${file}`], { cwd: PROJECT_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return "";
  }
}

/** Text inside the comment's HTML `<summary>`: GitHub renders it as HTML. */
const escapeHtml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The most grant lines the folded line names; the rest are counted (they are in the diff below it). */
const FLAGS_SHOWN = 3;

/**
 * The one line a stack's folded diff shows: the verdict, and what a reviewer must not miss, each
 * new write and each new reach into a table holding credentials, a few by name and the rest
 * counted, so that the line stays short; a new stack's grants, all new, are counted.
 */
export function commentSummary(diff: string, head: HeadDiff, refused: boolean): string {
  const fresh = head.lines[0]?.startsWith("a new stack") === true;
  const verdict = refused ? "refused: see below" : `${fresh ? "a new stack; " : ""}${diff.trimEnd().split("\n").at(-1)!.replace(/\.$/, "")}`;
  const writes = head.access.filter((a) => a.newWrite);
  const reaches = head.access.filter((a) => a.credentials && !a.newWrite);
  if (fresh) {
    const counted = [writes.length ? `${writes.length} write grant(s)` : "", reaches.length ? `${reaches.length} read(s) of tables holding credentials` : ""].filter(Boolean);
    return [verdict, ...(counted.length ? [`⚠ ${counted.join(" and ")}, all new: see its access section below`] : [])].join("; ");
  }
  const grants = [
    // A new write into a table holding credentials is both: said so, not only "new write".
    ...writes.map((a) => `new write: ${a.line.split("  [")[0]}${a.credentials ? ", a table holding credentials" : ""}`),
    ...reaches.map((a) => `reaches credentials: ${a.line.split("  [")[0]}`),
  ];
  const more = grants.length - FLAGS_SHOWN;
  return [verdict, ...grants.slice(0, more > 1 ? FLAGS_SHOWN : grants.length).map((g) => `⚠ ${g}`), ...(more > 1 ? [`⚠ ${more} more grant change(s) flagged below`] : [])].join("; ");
}

export async function prPlans(base: string, allowReplace: boolean): Promise<{ markdown: string; stacks: string[]; refused: boolean }> {
  const sections = [`## Offline plans against ${base.replace(/^origin\//, "")}`, ""];
  const touched: string[] = [];
  let refused = false;
  for (const stack of stackNames()) {
    const { changes, head } = diffAgainst(atBase(base, `plans/${stack}.txt`), await planForPeople(stack));
    if (changes.length === 0 && head.lines.length === 0) {
      sections.push(`- \`${stack}\`: no change`);
      continue;
    }
    touched.push(stack);
    const refusals = [...protectedRefusals(changes), ...cloudRefusals(changes)];
    if (blockingRefusals(changes, allowReplace).length) refused = true;
    const diff = formatPlanDiff(stack, changes, `${base}:plans/${stack}.txt`, head.lines);
    sections.push(`<details><summary><code>${stack}</code>: ${escapeHtml(commentSummary(diff, head, refusals.length > 0))}</summary>`, "", "```", diff.trimEnd(), "```", "</details>");
  }
  return { markdown: `${sections.join("\n")}\n`, stacks: touched, refused };
}

if (require.main === module) {
  const [base, out] = process.argv.slice(2);
  if (!base || !out) {
    console.error("usage: bash scripts/pr-plans.sh <base-ref> <out.md>");
    process.exit(2);
  }
  prPlans(base, process.env.ALLOW_REPLACE === "true").then(
    ({ markdown, stacks, refused }) => {
      writeFileSync(out, markdown);
      if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `stacks=${JSON.stringify(stacks)}\nrefused=${refused}\n`);
      console.log(`plans diffed: touched ${JSON.stringify(stacks)}, refused ${refused}`);
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
