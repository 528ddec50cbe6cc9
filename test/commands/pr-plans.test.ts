import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { planStack } from "../../scripts/lib/offline";
import { planAsText } from "../../scripts/lib/planFormat";
import { readStackFile } from "../../scripts/lib/stackFile";
import { copyProject } from "../support/project";

/**
 * scripts/pr-plans.sh as the pull-request workflow runs it, in a git copy of the project: a
 * prepared base commit whose committed production plan has a third replica (planned here, in
 * this process), the project as it is on top, the markdown for the comment and the step outputs.
 */
it("diffs every stack's plan against the base, lists the stacks touched, and flags a protected deletion", { timeout: 120_000 }, async () => {
  const root = copyProject("gaia-pr-plans-");
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: root, encoding: "utf8" });
  const { config, secretKeys } = readStackFile("production");
  const committed = path.join(root, "plans/production.txt");
  const head = readFileSync(committed, "utf8");
  // The base: production with 3 replicas, its plan committed.
  writeFileSync(committed, planAsText(await planStack("production", { ...config, "gaia:replicas": "3" }, secretKeys)));
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-qm", "base");
  // The change: the project as it is (2 replicas, so a protected replica is deleted), its plans
  // committed, and a policy that lets assets write auth.users (hidden in a secret environment).
  writeFileSync(committed, head);
  const access = path.join(root, "policy/access.ts");
  const policy = readFileSync(access, "utf8");
  const widened = policy.replace('tables: { "auth.users": READ, "platform.assets": READ_WRITE }', 'tables: { "auth.users": READ_WRITE, "platform.assets": READ_WRITE }');
  expect(widened).not.toBe(policy);
  writeFileSync(access, widened);
  git("commit", "-qam", "change");

  const run = (allow: string) => {
    const output = path.join(root, `github-output-${allow}`);
    writeFileSync(output, "");
    const result = spawnSync("bash", ["scripts/pr-plans.sh", "main~1", `comment-${allow}.md`], { cwd: root, encoding: "utf8", env: { ...process.env, GITHUB_OUTPUT: output, ALLOW_REPLACE: allow } });
    expect(result.status, result.stderr).toBe(0);
    return { outputs: readFileSync(output, "utf8"), comment: readFileSync(path.join(root, `comment-${allow}.md`), "utf8") };
  };
  const refused = run("false");
  // Every stack runs assets, so every stack's access changes.
  expect(refused.outputs).toBe('stacks=["dev","local","production","staging"]\nrefused=true\n');
  const flag = "⚠ new write: assets: + INSERT, UPDATE, DELETE on auth.users, a table holding credentials";
  // The line a reviewer sees with the diff folded says what matters: the refusal, the new write.
  expect(refused.comment).toContain(`<details><summary><code>production</code>: refused: see below; ${flag}</summary>`);
  expect(refused.comment).toContain(`<details><summary><code>dev</code>: no stateful resource is replaced or deleted; ${flag}</summary>`);
  expect(refused.comment).toContain("    assets: + INSERT, UPDATE, DELETE on auth.users  [a new write; the table holds credentials]\n");
  expect(refused.comment).toContain("  deletes aws:rds/instance:Instance gaia-production-postgres-replica-3  [stateful: its data goes with it]\n");
  expect(refused.comment).toContain("refused: deletes protected aws:rds/instance:Instance gaia-production-postgres-replica-3;");
  const allowed = run("true");
  expect(allowed.outputs).toBe('stacks=["dev","local","production","staging"]\nrefused=false\n');
  // Allowed, the deletion is still shown and still refused in the diff's words; only the step output changes.
  expect(allowed.comment).toContain("  deletes aws:rds/instance:Instance gaia-production-postgres-replica-3  [stateful: its data goes with it]\n");
});
