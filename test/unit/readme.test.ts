import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { presetTable } from "../../scripts/lib/presetTable";
import { PROJECT_ROOT } from "../../scripts/lib/stackFile";
import { docFiles } from "../support/docs";

const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), "utf8");

/** Headings and bold paragraph titles ("**TLS.**") of a page: what a message or a link can name. */
const titlesOf = (text: string) => new Set([...text.matchAll(/^#+ (.+)$/gm), ...text.matchAll(/\*\*([^*]+)\.\*\*/g)].map((m) => m[1]!.trim()));

/** GitHub's anchor for a heading: lower case, punctuation but "-" and "_" dropped, spaces as "-". */
const anchorOf = (heading: string) => heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");

it("shows the presets exactly as stacks/presets.ts defines them", () => {
  const section = /<!-- presets:start -->\n([\s\S]*?)\n<!-- presets:end -->/.exec(read("docs/configuration.md"))?.[1];
  expect(section, "docs/configuration.md: replace the table between the presets markers with `tsx scripts/lib/presetTable.ts`").toBe(presetTable());
});

it("is a front door: at most 300 lines, a table of contents, the two commands from a fresh clone, what deploying needs", () => {
  const readme = read("README.md");
  expect(readme.split("\n").length).toBeLessThanOrEqual(300);
  expect(readme).toContain("## Contents");
  expect(readme).toContain("npm ci && npm run plan -- local");
  expect(readme).toMatch(/^npm test\b/m);
  expect(readme).toMatch(/What deploying needs.*Pulumi CLI/s);
  expect(docFiles().length - 1, "reference pages in docs/").toBeGreaterThanOrEqual(3);
});

it("has every section the code's messages send people to, on the page they name", () => {
  const files = ["components", "ops", "stacks", "scripts", "policy"].flatMap((dir) =>
    (readdirSync(path.join(PROJECT_ROOT, dir), { recursive: true }) as string[]).filter((f) => f.endsWith(".ts")).map((f) => path.join(dir, f)),
  );
  // `(README, "Section")` or `(docs/page.md, "Section")`.
  const cited = files.flatMap((f) => [...read(f).matchAll(/(README|docs\/[\w-]+\.md), "([^"]+)"/g)].map((m) => ({ from: f, page: m[1] === "README" ? "README.md" : m[1]!, section: m[2]! })));
  expect(cited.length).toBeGreaterThan(2);
  for (const { from, page, section } of cited) {
    expect(existsSync(path.join(PROJECT_ROOT, page)), `${from} names ${page}`).toBe(true);
    expect(titlesOf(read(page)), `${from} names section "${section}" of ${page}`).toContain(section);
  }
});

it("links only to files and headings that exist", () => {
  for (const file of docFiles()) {
    const text = read(file).replace(/```[\s\S]*?```/g, "");
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue; // a web page
      const [relative, anchor] = target!.split("#");
      const linked = relative ? path.join(path.dirname(file), relative) : file;
      expect(existsSync(path.join(PROJECT_ROOT, linked)), `${file} links to ${target}`).toBe(true);
      if (anchor && linked.endsWith(".md")) {
        const page = read(linked);
        const anchors = new Set([...[...page.replace(/```[\s\S]*?```/g, "").matchAll(/^#+ (.+)$/gm)].map((m) => anchorOf(m[1]!)), ...[...page.matchAll(/<a id="([^"]+)"/g)].map((m) => m[1]!)]);
        expect(anchors, `${file} links to ${target}`).toContain(anchor);
      }
    }
  }
});
