import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { copyProject } from "../support/project";

/**
 * scripts/pr-plans.sh as the pull-request workflow runs it, in a git copy of the project: a
 * base commit, a change on top, the markdown for the comment and the step outputs.
 */
it("diffs every stack's plan against the base, lists the stacks touched, and flags a protected deletion", { timeout: 300_000 }, () => {
  const root = copyProject("gaia-pr-plans-");
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: root, encoding: "utf8" });
  const npmPlanUpdate = () => {
    const run = spawnSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/plan.ts", "--update"], { cwd: root, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
  };
  const production = path.join(root, "Pulumi.production.yaml");
  const original = readFileSync(production, "utf8");
  // The base: production with 3 replicas, its plans committed.
  writeFileSync(production, original.replace(/^config:\n/m, "config:\n  gaia:replicas: 3\n"));
  npmPlanUpdate();
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-qm", "base");
  // The change: back to 2 (a protected replica deleted), plans updated as the tests require.
  writeFileSync(production, original);
  npmPlanUpdate();
  git("commit", "-qam", "change");

  const run = (allow: string) => {
    const output = path.join(root, `github-output-${allow}`);
    writeFileSync(output, "");
    const result = spawnSync("bash", ["scripts/pr-plans.sh", "main~1", `comment-${allow}.md`], { cwd: root, encoding: "utf8", env: { ...process.env, GITHUB_OUTPUT: output, ALLOW_REPLACE: allow } });
    expect(result.status, result.stderr).toBe(0);
    return { outputs: readFileSync(output, "utf8"), comment: readFileSync(path.join(root, `comment-${allow}.md`), "utf8") };
  };
  const refused = run("false");
  expect(refused.outputs).toBe('stacks=["production"]\nrefused=true\n');
  expect(refused.comment).toContain("- `dev`: no change\n");
  expect(refused.comment).toContain("  deletes aws:rds/instance:Instance gaia-production-postgres-replica-3  [stateful: its data goes with it]\n");
  expect(refused.comment).toContain("refused: deletes protected aws:rds/instance:Instance gaia-production-postgres-replica-3;");
  expect(run("true").outputs).toBe('stacks=["production"]\nrefused=false\n');
});
