import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { presetTable } from "../../scripts/lib/presetTable";

it("shows the presets exactly as stacks/presets.ts defines them", () => {
  const readme = readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");
  const section = /<!-- presets:start -->\n([\s\S]*?)\n<!-- presets:end -->/.exec(readme)?.[1];
  expect(section, "README.md: replace the table between the presets markers with `tsx scripts/lib/presetTable.ts`").toBe(presetTable());
});

it("has every section the code's messages send people to", () => {
  const root = path.resolve(__dirname, "../..");
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const titles = new Set([...readme.matchAll(/^#+ (.+)$/gm), ...readme.matchAll(/\*\*([^*]+)\.\*\*/g)].map((m) => m[1]!.trim()));
  const files = ["components", "ops", "stacks", "scripts", "policy"].flatMap((dir) =>
    (readdirSync(path.join(root, dir), { recursive: true }) as string[]).filter((f) => f.endsWith(".ts")).map((f) => path.join(dir, f)),
  );
  const cited = new Set(files.flatMap((f) => [...readFileSync(path.join(root, f), "utf8").matchAll(/README, "([^"]+)"/g)].map((m) => m[1]!)));
  expect(cited.size).toBeGreaterThan(2);
  for (const section of cited) expect(titles, `README section "${section}"`).toContain(section);
});
