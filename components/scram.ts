import { createHash, createHmac, pbkdf2Sync } from "node:crypto";

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password, computed here so that only the
 * verifier ever reaches the server: `CREATE ROLE … PASSWORD 'SCRAM-SHA-256$…'` is stored as
 * given ("If the presented password string is already in MD5-encrypted or SCRAM-encrypted
 * format, then it is stored as-is regardless of password_encryption", PostgreSQL docs, CREATE
 * ROLE), so a statement log, an error's STATEMENT line or pg_stat_statements never holds a
 * password a client could log in with. The format and the keys are PostgreSQL's
 * (src/common/scram-common.c scram_build_secret; RFC 5802 section 3):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64.
 *
 * The salt is derived from the password and the role (an HMAC keyed by the password), so the
 * verifier is the same on every run and `pulumi up` sees no change until the password changes.
 * `server` names a server other than the environment's first (a restored one: components/core/restore.ts):
 * the same password gets another salt there, so the verifier differs and the provider sets it again
 * on the server the roles now live on, whose roles came back from the backup with the passwords they
 * had at that moment.
 * A random salt exists to defeat tables precomputed over guessable passwords; the project's
 * passwords are 32 random characters (about 190 bits), which no table covers, and the role name
 * in the derivation keeps two roles' verifiers apart even for one password.
 *
 * PostgreSQL normalises a password with SASLprep before hashing (src/common/saslprep.c); for
 * printable ASCII, which every generated password is (components/credentials.ts), SASLprep is
 * the identity, so the bytes hashed here are the bytes the client sends.
 */
export function scramSha256Verifier(password: string, role: string, iterations = SCRAM_ITERATIONS, server?: string): string {
  if (!/^[\x20-\x7e]*$/.test(password)) throw new Error(`the password of ${role} is not printable ASCII: its verifier would need SASLprep, which this function does not do.`);
  const salt = createHmac("sha256", password).update(`gaia-scram-salt\0${role}${server ? `\0${server}` : ""}`).digest().subarray(0, SALT_BYTES);
  return scramSecret(password, salt, iterations);
}

/** The verifier for a given salt: PostgreSQL's scram_build_secret, step by step. */
export function scramSecret(password: string, salt: Buffer, iterations: number): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** PostgreSQL's default `scram_iterations` (4096 since PostgreSQL 10; a setting since 16). */
export const SCRAM_ITERATIONS = 4096;
/** PostgreSQL's SCRAM_DEFAULT_SALT_LEN (src/include/common/scram-common.h). */
const SALT_BYTES = 16;
