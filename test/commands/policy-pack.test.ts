import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/offline";

/**
 * The policy pack installs from its committed lockfile, as the workflows install it
 * (`npm ci --prefix policy-pack`), with exactly the pinned SDKs and without rewriting a file.
 */
it("installs from its committed lockfile, changing no file, with the pinned SDKs", { timeout: 300_000 }, () => {
  const copy = mkdtempSync(path.join(tmpdir(), "gaia-policy-pack-"));
  const pack = path.join(copy, "policy-pack");
  cpSync(path.join(PROJECT_ROOT, "policy-pack"), pack, { recursive: true, filter: (src) => !src.includes("node_modules") });
  const before = ["package.json", "package-lock.json"].map((f) => readFileSync(path.join(pack, f), "utf8"));
  const run = spawnSync("npm", ["ci", "--prefix", "policy-pack", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: copy, encoding: "utf8", timeout: 280_000 });
  expect(run.status, run.stderr).toBe(0);
  expect(["package.json", "package-lock.json"].map((f) => readFileSync(path.join(pack, f), "utf8"))).toEqual(before);
  // @pulumi/policy's published package.json spells its version with a "v" (v1.21.0).
  const installed = (name: string) => String(JSON.parse(readFileSync(path.join(pack, "node_modules", name, "package.json"), "utf8")).version).replace(/^v/, "");
  const pins = JSON.parse(before[0]!).dependencies as Record<string, string>;
  expect(installed("@pulumi/policy")).toBe("1.21.0");
  expect(installed("@pulumi/pulumi")).toBe(pins["@pulumi/pulumi"]);
  // The project's own SDK is the same version: the rules the tests run are the rules the pack runs.
  expect(pins["@pulumi/pulumi"]).toBe(JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")).dependencies["@pulumi/pulumi"]);
});
