import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { flyctl, flyJson } from "../../ops/lib/flyctl";
import { MIN_LENGTH, withoutKnownSecrets } from "../../ops/lib/knownSecrets";
import { forgetSecrets, redact, rememberEnvironmentSecrets, rememberSecret } from "../../ops/lib/redact";
import { outputValues, withProgress } from "../../scripts/lib/automation";

/** Each way a tool may write a value: as is, JSON-escaped (once, twice, Go's HTML-safe), percent-encoded (three encoders), libpq- and shell-quoted, base64. */
const ENCODINGS: Record<string, (s: string) => string> = {
  plain: (s) => s,
  json: (s) => JSON.stringify(s).slice(1, -1),
  "json in json": (s) => JSON.stringify(JSON.stringify(s)).slice(1, -1),
  "Go's HTML-safe json": (s) => JSON.stringify(s).slice(1, -1).replace(/&/g, "\\u0026").replace(/</g, "\\u003c").replace(/>/g, "\\u003e"),
  encodeURIComponent,
  "form-encoded": (s) => new URLSearchParams({ v: s }).toString().slice(2),
  "a URL's userinfo (WHATWG)": (s) => Object.assign(new URL("x://h"), { password: s }).password,
  libpq: (s) => s.replace(/['\\]/g, "\\$&"),
  shell: (s) => s.replace(/[^\w@%+=:,./-]/g, "\\$&"),
  base64: (s) => Buffer.from(s).toString("base64"),
};

/** A secret as generated credentials are, and with any printable character. */
const secretArb = fc
  .oneof(
    fc.stringMatching(/^[A-Za-z0-9]{8,48}$/),
    fc.string({ minLength: MIN_LENGTH, maxLength: 40, unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== " ")) }),
  )
  // Without both letters and digits, a value is not remembered (a word, a name, a date: the next test).
  .filter((s) => /[A-Za-z]/.test(s) && /\d/.test(s));
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

  it(`remembers nothing shorter than ${MIN_LENGTH} characters, nothing without both letters and digits, nothing that is not a string`, () => {
    rememberSecret("dev", "a123456", 12345678, undefined, null, "postgres", "Password", "12345678", "gaia_dev");
    expect(redact("postgres Password 12345678 gaia_dev")).toBe("postgres Password 12345678 gaia_dev");
    expect(redact("dev a123456 12345678")).toBe("dev a123456 12345678");
    rememberSecret("a1234567");
    expect(redact("dev a1234567 12345678")).toBe("dev [secret] 12345678");
  });

  it("remembers the environment's credentials by name and every URL's password; not the working directory", () => {
    rememberEnvironmentSecrets({
      PGPASSWORD: "pg-secret-1x",
      FLY_API_TOKEN: "fly-token-2x",
      GAIA_OWNER_URL: "postgres://owner:url-secret-3x@h/db",
      PWD: "/work/checkout-dir",
      OLDPWD: "/work/older-checkout",
      HOME: "/home/operator",
      GAIA_FLY_ORG: "gaia-organisation",
    });
    expect(redact("pg-secret-1x fly-token-2x url-secret-3x /work/checkout-dir /work/older-checkout /home/operator gaia-organisation")).toBe(
      "[secret] [secret] [secret] /work/checkout-dir /work/older-checkout /home/operator gaia-organisation",
    );
  });

  it("remembers a stack's secret outputs when the scripts read them, not the others", () => {
    outputValues({
      adminUrl: { value: "postgres://admin:admin-secret-4x@h/db", secret: true },
      connectionUrls: { value: { chat: "postgres://chat:chat-secret-5x@h/db" }, secret: true },
      databaseName: { value: "gaia_staging_db", secret: false },
    });
    expect(redact("admin-secret-4x chat-secret-5x gaia_staging_db")).toBe("[secret] [secret] gaia_staging_db");
  });

  // What the attack of 2026-12-05 (helper-24) found.
  it("remembers no word: a local server's password 'password' or 'postgres' leaves the names and the patterns working", () => {
    rememberEnvironmentSecrets({ DATABASE_URL: "postgres://postgres:password@localhost:5432/app", GAIA_REVIEW_POSTGRES_URL: "postgresql://postgres@localhost:5432/postgres" });
    expect(redact('password=N3w-Secret_x9 {"password": "N3w-Secret_x9"} --password N3w-Secret_x9')).toBe('password=[secret] {"password": "[secret]"} --password [secret]');
    expect(redact("  + ├─ aws:rds:SubnetGroup  gaia-dev-postgres-subnets  create")).toBe("  + ├─ aws:rds:SubnetGroup  gaia-dev-postgres-subnets  create");
  });

  it("reads a URL's password as WHATWG's parser does, to the last '@'; a user without a password is no secret but for Redis", () => {
    rememberEnvironmentSecrets({ GAIA_REVIEW_REDIS_URL: "redis://default:Sup3r@Secret-pass@localhost:6379", PG: "postgresql://gaia_owner_a@h/db", R: "redis://R3dis-Only-Pass@h:6379" });
    expect(redact("ERR invalid password Sup3r@Secret-pass for gaia_owner_a; R3dis-Only-Pass")).toBe("ERR invalid password [secret] for gaia_owner_a; [secret]");
  });

  it("takes a value out as a URL's userinfo, Go's HTML-escaped JSON, base64, HTTP Basic and a shell write it", () => {
    const token = "Tk!&#$^<>-abcdEF12gh";
    rememberSecret(token, `rediss://default:${encodeURIComponent(token)}@h:6379`);
    const url = new URL("rediss://h:6379");
    url.password = token;
    const basic = Buffer.from(`default:${token}`).toString("base64");
    const printed = [`retrying with ${url.password}`, '{"e":"Tk!\\u0026#$^\\u003c\\u003e-abcdEF12gh"}', `data: ${Buffer.from(token).toString("base64")}`, `basic ${basic}`, "echo Tk\\!\\&\\#\\$\\^\\<\\>-abcdEF12gh"];
    for (const line of printed) expect(redact(line), line).not.toMatch(/abcdEF12gh|YWJjZEVGMTJna|[A-Za-z0-9+/]{20,}/);
  });

  it("matches a value remembered with blanks around it (a token file's newline)", () => {
    rememberSecret("pul-0123456789abcdef0123456789abcdef01234567\n");
    expect(redact("token pul-0123456789abcdef0123456789abcdef01234567 used")).toBe("token [secret] used");
  });

  it("remembers no path and no URL without a password under a credential's name (a runner's environment)", () => {
    rememberEnvironmentSecrets({ GOOGLE_APPLICATION_CREDENTIALS: "/home/runner/gcp-key.json", GIT_ASKPASS: "/usr/lib/git-core/askpass-helper", ACTIONS_ID_TOKEN_REQUEST_URL: "https://pipelines.actions.example/token?api-version=2.0" });
    expect(redact("/home/runner/gcp-key.json /usr/lib/git-core/askpass-helper")).toBe("/home/runner/gcp-key.json /usr/lib/git-core/askpass-helper");
  });

  // What the second attack of 2026-12-05 (helper-25) found.
  it("a remembered value at the start of an unknown one leaves the pattern working on the rest", () => {
    rememberSecret("Zx9-abc_DEF123");
    expect(redact("password=Zx9-abc_DEF123-rest-of-new-secret")).toBe("password=[secret]");
  });

  it("remembers no name, date or number: a local URL whose password is its database's, a Redis user, a date under a credential's name", () => {
    rememberEnvironmentSecrets({ PG: "postgres://gaia_dev:gaia_dev@localhost:5432/gaia_dev", R: "redis://gaia-dev@127.0.0.1:6379", SECRET_CREATED_AT: "2026-12-05" });
    const line = 'database "gaia_dev" does not exist; role gaia_dev_chat_a; stack gaia-dev created 2026-12-05';
    expect(redact(line)).toBe(line);
  });

  it("remembers a secret key that starts with '/' (it names no file)", () => {
    rememberEnvironmentSecrets({ AWS_SECRET_ACCESS_KEY: "/wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLE9" });
    expect(redact("signing with /wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLE9")).toBe("signing with [secret]");
  });

  it("withProgress gives the same text as redact() of the whole, however the output is cut into chunks, multi-line forms included (fast-check)", async () => {
    const blocks = [
      "  + gaia:index:Thing res creating (1s)",
      "machine api.fly.io\n  login gaia\n  password netrcPW99x",
      "- name: DB_PASSWORD\n  value: yamlPW-77x",
      '  "gaia:x": {\n    "value": "cfgPW-1x",\n    "secret": true\n  }',
      '{"password":\n  "s3cr3t-v4lue"}',
      "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nVJTUt9Us8cKjMzEfYyjiWA4R4M2bS1GB4t7N\n-----END PRIVATE KEY-----",
      "x -----BEGIN CERTIFICATE----- (truncated)",
      "postgresql://u:urlPW-55x@h:5432/db",
    ];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...blocks), { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 12 }), async (picked, cuts) => {
        const whole = `${picked.join("\n")}\n`;
        const at = [...new Set(cuts.map((c) => c % whole.length))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((start, i, all) => whole.slice(start, all[i + 1] ?? whole.length)).filter(Boolean);
        const out: string[] = [];
        await withProgress(async (on) => chunks.forEach(on), (text) => out.push(text));
        expect(out.join("")).toBe(redact(whole));
      }),
      { numRuns: 3000, seed: 20261205 },
    );
  });

  it("withProgress holds nothing for a certificate's BEGIN line: progress goes on line by line", async () => {
    let writes = 0;
    await withProgress(
      async (on) => {
        on("x -----BEGIN CERTIFICATE----- (truncated)\n");
        for (let i = 0; i < 100; i += 1) on(`  + gaia:index:Thing res${i} creating (1s)\n`);
      },
      () => (writes += 1),
    );
    expect(writes).toBeGreaterThanOrEqual(95);
  });

  it("withProgress holds a private key whose lines arrive in two chunks until its END line", async () => {
    const out: string[] = [];
    await withProgress(
      async (on) => {
        on("error:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n");
        on("VJTUt9Us8cKjMzEfYyjiWA4R4M2bS1GB4t7N\n-----END PRIVATE KEY-----\nnext\n");
      },
      (text) => out.push(text),
    );
    expect(out.join("")).toBe("error:\n-----BEGIN PRIVATE KEY-----[secret]-----END PRIVATE KEY-----\nnext\n");
  });

  it("flyctl: what it was handed on standard input, and what it printed under a credential's name, never reach a later error, in prose or any form", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gaia-known-test-"));
    const fake = path.join(dir, "flyctl");
    // A flyctl that prints a user's password as JSON when asked for it, and otherwise fails quoting its input in prose.
    writeFileSync(
      fake,
      `#!/bin/sh\ncase "$*" in *users*create*) echo '{"username":"u","password":"printed-secret-6x"}'; exit 0;; *status*) echo 'Private URL = redis://default:text-secret-8x@fly-x.upstash.io:6379'; exit 0;; esac\n` +
        `input=$(cat)\necho "Error: could not import $input; also tried printed-secret-6x and text-secret-8x" >&2\nexit 1\n`,
    );
    chmodSync(fake, 0o700);
    const saved = process.env.FLYCTL;
    process.env.FLYCTL = fake;
    try {
      expect(flyJson<{ password: string }>(["mpg", "users", "create"]).password).toBe("printed-secret-6x");
      expect(flyctl(["redis", "status", "gaia"])).toContain("text-secret-8x");
      expect(() => flyctl(["secrets", "import"], { stdin: "DATABASE_URL=stdin-secret-7x" })).toThrow(
        "flyctl secrets import failed (exit 1): Error: could not import DATABASE_URL=[secret]; also tried [secret] and [secret]",
      );
    } finally {
      if (saved === undefined) delete process.env.FLYCTL;
      else process.env.FLYCTL = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
