import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { presetTable } from "../../scripts/lib/presetTable";

it("shows the presets exactly as stacks/presets.ts defines them", () => {
  const readme = readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");
  const section = /<!-- presets:start -->\n([\s\S]*?)\n<!-- presets:end -->/.exec(readme)?.[1];
  expect(section, "README.md: replace the table between the presets markers with `tsx scripts/lib/presetTable.ts`").toBe(presetTable());
});
