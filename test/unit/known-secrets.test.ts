import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { flyctl, flyJson } from "../../ops/lib/flyctl";
import { MIN_LENGTH, withoutKnownSecrets } from "../../ops/lib/knownSecrets";
import { forgetSecrets, redact, rememberEnvironmentSecrets, rememberSecret } from "../../ops/lib/redact";
import { outputValues } from "../../scripts/lib/automation";

/** Each way a tool may write a value: as is, JSON-escaped once and twice, percent-encoded (both encoders), libpq-quoted. */
const ENCODINGS: Record<string, (s: string) => string> = {
  plain: (s) => s,
  json: (s) => JSON.stringify(s).slice(1, -1),
  "json in json": (s) => JSON.stringify(JSON.stringify(s)).slice(1, -1),
  "encodeURIComponent": encodeURIComponent,
  "form-encoded": (s) => new URLSearchParams({ v: s }).toString().slice(2),
  libpq: (s) => s.replace(/['\\]/g, "\\$&"),
};

/** A secret as generated credentials are, and with any printable character. */
const secretArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]{8,48}$/),
  fc.string({ minLength: MIN_LENGTH, maxLength: 40, unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== " ")) }),
);
/** Text around it, in no form redact()'s patterns read: prose, another tool's words, anything printable. */
const textArb = fc.string({ maxLength: 60, unit: fc.constantFrom(..."abcdefghij XYZ.,;:!?()[]{}<>=-_/\\'\"\t".split("")) });

describe("redact by value: the secrets this process holds", () => {
  afterEach(() => forgetSecrets());

  it("takes a remembered secret out of any text, in every encoding a tool writes it in (fast-check)", () => {
    fc.assert(
      fc.property(secretArb, textArb, textArb, fc.constantFrom(...Object.keys(ENCODINGS)), (secret, before, after, encoding) => {
        forgetSecrets();
        rememberSecret(secret);
        const out = redact(`${before}${ENCODINGS[encoding]!(secret)}${after}`);
        for (const encode of Object.values(ENCODINGS)) expect(out).not.toContain(encode(secret));
      }),
      { numRuns: 3000, seed: 20261205 },
    );
  });

  it("takes a URL's password out when the URL was remembered, the password alone, decoded or not", () => {
    rememberSecret("postgres://gaia_chat_a:p%40ss-W0rd-Zk9@db.internal:5432/gaia");
    expect(redact("FATAL: password authentication failed; tried p@ss-W0rd-Zk9 and p%40ss-W0rd-Zk9")).toBe("FATAL: password authentication failed; tried [secret] and [secret]");
  });

  it("changes nothing else: text holding no remembered secret comes back as it was (fast-check)", () => {
    fc.assert(
      fc.property(secretArb, textArb, (secret, text) => {
        forgetSecrets();
        rememberSecret(secret);
        fc.pre(!Object.values(ENCODINGS).some((encode) => text.includes(encode(secret))));
        expect(withoutKnownSecrets(text)).toBe(text);
      }),
      { numRuns: 2000, seed: 20261205 },
    );
  });

  it(`remembers nothing shorter than ${MIN_LENGTH} characters, nor what is not a string`, () => {
    rememberSecret("dev", "1234567", 12345678, undefined, null);
    expect(redact("dev 1234567 12345678")).toBe("dev 1234567 12345678");
    rememberSecret("12345678");
    expect(redact("dev 1234567 12345678")).toBe("dev 1234567 [secret]");
  });

  it("remembers the environment's credentials by name and every URL's password; not the working directory", () => {
    rememberEnvironmentSecrets({
      PGPASSWORD: "pg-secret-one",
      FLY_API_TOKEN: "fly-token-two",
      GAIA_OWNER_URL: "postgres://owner:url-secret-three@h/db",
      PWD: "/work/checkout-dir",
      OLDPWD: "/work/older-checkout",
      HOME: "/home/operator",
      GAIA_FLY_ORG: "gaia-organisation",
    });
    expect(redact("pg-secret-one fly-token-two url-secret-three /work/checkout-dir /work/older-checkout /home/operator gaia-organisation")).toBe(
      "[secret] [secret] [secret] /work/checkout-dir /work/older-checkout /home/operator gaia-organisation",
    );
  });

  it("remembers a stack's secret outputs when the scripts read them, not the others", () => {
    outputValues({
      adminUrl: { value: "postgres://admin:admin-secret-four@h/db", secret: true },
      connectionUrls: { value: { chat: "postgres://chat:chat-secret-five@h/db" }, secret: true },
      databaseName: { value: "gaia_staging_db", secret: false },
    });
    expect(redact("admin-secret-four chat-secret-five gaia_staging_db")).toBe("[secret] [secret] gaia_staging_db");
  });

  it("flyctl: what it was handed on standard input, and what it printed under a credential's name, never reach a later error, in prose or any form", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gaia-known-test-"));
    const fake = path.join(dir, "flyctl");
    // A flyctl that prints a user's password as JSON when asked for it, and otherwise fails quoting its input in prose.
    writeFileSync(
      fake,
      `#!/bin/sh\ncase "$*" in *users*create*) echo '{"username":"u","password":"printed-secret-six"}'; exit 0;; esac\n` +
        `input=$(cat)\necho "Error: could not import $input; also tried printed-secret-six" >&2\nexit 1\n`,
    );
    chmodSync(fake, 0o700);
    const saved = process.env.FLYCTL;
    process.env.FLYCTL = fake;
    try {
      expect(flyJson<{ password: string }>(["mpg", "users", "create"]).password).toBe("printed-secret-six");
      expect(() => flyctl(["secrets", "import"], { stdin: "DATABASE_URL=stdin-secret-seven" })).toThrow(
        "flyctl secrets import failed (exit 1): Error: could not import DATABASE_URL=[secret]; also tried [secret]",
      );
    } finally {
      if (saved === undefined) delete process.env.FLYCTL;
      else process.env.FLYCTL = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
