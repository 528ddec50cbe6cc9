import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/stackFile";

/**
 * The test files (walkthroughs aside) that read what `uses` finds in their source or in the
 * test/support modules they import, directly or through each other: the tests a walkthrough
 * reruns after adding a migration, a stack or a service, derived from the tests themselves.
 */
export function testsThatUse(uses: RegExp): string[] {
  const testRoot = path.join(PROJECT_ROOT, "test");
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  const found = new Map<string, boolean>();
  const usesIt = (file: string, seen: Set<string>): boolean => {
    if (found.has(file)) return found.get(file)!;
    if (seen.has(file)) return false;
    seen.add(file);
    const source = readFileSync(file, "utf8");
    const supports = [...source.matchAll(/from "(\.{1,2}\/[^"]*support\/[^"]+|\.\/[^"]+)"/g)]
      .map((m) => path.resolve(path.dirname(file), `${m[1]}.ts`))
      .filter((f) => f.startsWith(path.join(testRoot, "support")));
    const result = uses.test(source) || supports.some((f) => usesIt(f, seen));
    found.set(file, result);
    return result;
  };
  return files(testRoot)
    .filter((f) => f.endsWith(".test.ts") && !f.startsWith(path.join(testRoot, "walkthroughs")))
    .filter((f) => usesIt(f, new Set()))
    .map((f) => path.relative(PROJECT_ROOT, f))
    .sort();
}
