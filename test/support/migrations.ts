import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
// graphile-migrate's own hashing, so test migrations are committed exactly as its `commit` would.
import { calculateHash } from "graphile-migrate/dist/hash";
import { MIGRATIONS_FOLDER } from "../../sql";

/** The project's committed migrations, in order: tests derive what they expect from these, so adding one needs no test edited. */
export function committedMigrations(folder = MIGRATIONS_FOLDER): string[] {
  return readdirSync(path.join(folder, "committed")).filter((f) => f.endsWith(".sql")).sort();
}

/** What graphile-migrate records for a committed file: its number (`000002-slug.sql` -> `000002.sql`). */
export const recordedName = (file: string) => `${file.split(/[-.]/)[0]}.sql`;

/** A private copy of the project's migrations that a test may add to or tamper with. */
export function copyMigrations(): string {
  const folder = mkdtempSync(path.join(tmpdir(), "gaia-migrations-"));
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
  return folder;
}

/** Commits `body` as the next migration of `folder`, chained to the last one by hash. */
export function commitMigration(folder: string, slug: string, body: string): string {
  const committed = path.join(folder, "committed");
  const files = readdirSync(committed).sort();
  const last = files.at(-1);
  const previous = last ? /^--! Hash: (\S+)$/m.exec(readFileSync(path.join(committed, last), "utf8"))![1]! : null;
  const number = String(files.length + 1).padStart(6, "0");
  const filename = `${number}-${slug}.sql`;
  const hash = calculateHash(body, previous);
  writeFileSync(path.join(committed, filename), `--! Previous: ${previous ?? "-"}\n--! Hash: ${hash}\n\n${body.trim()}\n`);
  return filename;
}
