import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";

/** The Gaia schema's migrations (graphile-migrate layout: committed/ and current.sql). */
export const MIGRATIONS_FOLDER = path.resolve(__dirname, "migrations");

/** A digest of the committed migrations: the schema command runs again only when it changes. */
export function migrationsDigest(folder = MIGRATIONS_FOLDER): string {
  const committed = path.join(folder, "committed");
  const hash = createHash("sha256");
  for (const file of readdirSync(committed).sort()) {
    hash.update(file).update("\0").update(readFileSync(path.join(committed, file))).update("\0");
  }
  return hash.digest("hex");
}
