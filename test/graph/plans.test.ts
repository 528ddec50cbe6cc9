import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planStack } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { planAsText } from "../../scripts/lib/planFormat";
import { PLANS_FOLDER, stackNames } from "../../scripts/plan";

describe("committed plans", () => {
  it("cover every stack file", () => {
    expect(stackNames()).toEqual(["dev", "local", "production", "staging"]);
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
