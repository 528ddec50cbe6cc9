import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";

/** The project's root: the nearest folder above this file with a package.json (also from dist/ops/, where the ops scripts are bundled). */
function projectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no package.json above ${from}`);
  }
}

/** The Gaia schema's migrations (graphile-migrate layout: committed/ and current.sql). */
export const MIGRATIONS_FOLDER = path.join(projectRoot(__dirname), "sql", "migrations");

/** A digest of the committed migrations: the schema command runs again only when it changes. */
export function migrationsDigest(folder = MIGRATIONS_FOLDER): string {
  const committed = path.join(folder, "committed");
  const hash = createHash("sha256");
  for (const file of readdirSync(committed).sort()) {
    hash.update(file).update("\0").update(readFileSync(path.join(committed, file))).update("\0");
  }
  return hash.digest("hex");
}
