import { createHash } from "node:crypto";

/** SHA-256 as lowercase hex: the only form in which an API key reaches the database. */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}
