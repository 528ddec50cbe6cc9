import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/offline";
import { stackNames } from "../../scripts/lib/stackFile";
import { committedMigrations } from "../support/migrations";
import { testsThatUse } from "../support/dependents";
import { copyProject } from "../support/project";

/**
 * Adding a migration exactly as the README says, in a copy of the project: write
 * sql/migrations/current.sql, `npm run migration:commit`, `npm run plan -- --update`. The plans
 * then name the migration, and every test that reads the migrations or the committed plans
 * (found in the tests' own sources: ../support/dependents.ts) passes unedited.
 */
const READS_MIGRATIONS = /committedMigrations|MIGRATIONS_FOLDER|sql\/migrations|ops\/lib\/migrations|PLANS_FOLDER|plans\//;
it("takes a migration added as the README says, without editing any test", { timeout: 600_000 }, () => {
  const copy = copyProject("gaia-add-migration-");
  const npm = (...args: string[]) => {
    const run = spawnSync("npm", args, { cwd: copy, encoding: "utf8", env: { ...process.env, PATH: `${path.join(PROJECT_ROOT, "node_modules/.bin")}:${process.env.PATH}` }, timeout: 540_000 });
    expect(run.status, `npm ${args.join(" ")}: ${run.stderr}\n${run.stdout.split("\n").filter((l) => /×|FAIL|Error/.test(l)).join("\n")}`).toBe(0);
    return run.stdout;
  };

  writeFileSync(path.join(copy, "sql/migrations/current.sql"), "create index users_created_at on auth.users (created_at);\n");
  npm("run", "-s", "migration:commit", "--", "index users by creation");
  // The next number after the project's own migrations, whatever they are by then.
  const before = committedMigrations();
  const added = `${String(before.length + 1).padStart(6, "0")}-index-users-by-creation.sql`;
  const committed = readFileSync(path.join(copy, "sql/migrations/committed", added), "utf8");
  expect(committed).toMatch(/^--! Previous: sha1:[0-9a-f]+\n--! Hash: sha1:[0-9a-f]+\n--! Message: index users by creation\n\ncreate index users_created_at on auth.users \(created_at\);\n$/);

  expect(npm("run", "-s", "plan", "--", "--update")).toBe(stackNames().map((s) => `plans/${s}.txt updated\n`).join(""));
  expect(readFileSync(path.join(copy, "plans/local.txt"), "utf8")).toContain(`(migrations: ${[...before, added].join(", ")})`);

  npm("run", "-s", "build:ops");
  const dependents = testsThatUse(READS_MIGRATIONS);
  // The schema applied to real servers, the migration runner, and the committed plans, at least.
  for (const file of ["test/db/schema.test.ts", "test/db/migrations.test.ts", "test/graph/plans.test.ts"]) expect(dependents).toContain(file);
  npm("exec", "--", "vitest", "run", ...dependents);
});
