import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/stackFile";
import { docBlocks } from "../support/docs";
import { testsThatUse } from "../support/dependents";
import { copyProject } from "../support/project";
import { pulumiCli } from "../support/pulumiCli";

/**
 * Adding a stack exactly as the README says ("Stacks and configuration": `pulumi stack init qa`
 * and its `pulumi config set` lines, run with the real CLI), in a copy of the project; then
 * `npm run plan -- --update`. Every test that lists the stack files or reads the committed plans
 * (found in the tests' own sources) then passes unedited, the new stack among them.
 */
const READS_STACKS = /stackNames\(|Pulumi\.\*\.yaml|PLANS_FOLDER/;

it("takes a stack added as the README says, without editing any test", { timeout: 600_000 }, () => {
  const copy = copyProject("gaia-add-stack-");
  const cli = pulumiCli();
  const backend = mkdtempSync(path.join(tmpdir(), "gaia-add-stack-backend-"));
  const env = {
    ...process.env,
    PATH: `${path.dirname(cli)}:${path.join(PROJECT_ROOT, "node_modules/.bin")}:${process.env.PATH}`,
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_HOME: path.join(backend, ".pulumi"),
    PULUMI_CONFIG_PASSPHRASE: "walkthrough-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  const sh = (line: string) => {
    const run = spawnSync("bash", ["-euo", "pipefail", "-c", line], { cwd: copy, encoding: "utf8", env, timeout: 540_000 });
    expect(run.status, `${line}: ${run.stderr}\n${run.stdout.split("\n").filter((l) => /×|FAIL|Error/.test(l)).join("\n")}`).toBe(0);
    return run.stdout;
  };

  // The documentation's block for a new stack (docs/configuration.md), line by line as written.
  const block = docBlocks("sh", copy).find((b) => b.startsWith("pulumi stack init qa\n"));
  expect(block, "the documentation's block that adds stack qa").toBeDefined();
  for (const line of block!.split("\n").filter(Boolean)) sh(line);
  expect(existsSync(path.join(copy, "Pulumi.qa.yaml"))).toBe(true);

  expect(sh("npm run -s plan -- --update")).toContain("plans/qa.txt updated\nplans/qa.md updated\n");
  expect(readFileSync(path.join(copy, "README.md"), "utf8")).toContain("- `qa`: [plan](plans/qa.txt), [diagram](plans/qa.md)");

  sh("npm run -s build:ops");
  const dependents = testsThatUse(READS_STACKS);
  for (const file of ["test/graph/plans.test.ts", "test/graph/alerts.test.ts", "test/graph/safety.test.ts"]) expect(dependents).toContain(file);
  sh(`npm exec -- vitest run ${dependents.join(" ")}`);
});
