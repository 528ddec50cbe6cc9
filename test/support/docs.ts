import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/stackFile";

/** The project's documentation: the README, the front door, and the reference pages in docs/. */
export function docFiles(root = PROJECT_ROOT): string[] {
  const docs = path.join(root, "docs");
  const pages = existsSync(docs) ? readdirSync(docs).filter((f) => f.endsWith(".md")).sort().map((f) => path.join("docs", f)) : [];
  return ["README.md", ...pages];
}

/** Every fenced block of the given language in the documentation, in order, README first. */
export function docBlocks(language: string, root = PROJECT_ROOT): string[] {
  return docFiles(root).flatMap((file) => [...readFileSync(path.join(root, file), "utf8").matchAll(new RegExp("```" + language + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!));
}
