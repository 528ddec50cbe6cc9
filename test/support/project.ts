import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/stackFile";

/**
 * A copy of the project's files (committed, and new ones not ignored), with the same node_modules, for a test that changes files as a person would and runs the scripts.
 */
export function copyProject(prefix: string): string {
  const parent = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(parent, 0o755);
  const copy = path.join(parent, "main");
  mkdirSync(copy);
  if (existsSync(path.join(PROJECT_ROOT, ".git"))) {
    for (const file of execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: PROJECT_ROOT, encoding: "utf8" }).split("\n").filter(Boolean)) {
      mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
      cpSync(path.join(PROJECT_ROOT, file), path.join(copy, file));
    }
  } else {
    // A copy of a copy (the add-migration test runs the suite in one): no git there, so all but what installs and builds make.
    const skipped = new Set(["node_modules", ".git", ".gaia", "dist"].map((d) => path.join(PROJECT_ROOT, d)));
    cpSync(PROJECT_ROOT, copy, { recursive: true, filter: (src) => !skipped.has(src) });
  }
  symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(copy, "node_modules"));
  return copy;
}
