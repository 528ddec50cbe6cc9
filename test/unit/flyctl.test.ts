import { chmodSync, existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OpsError } from "../../ops/lib/env";
import { flyctl, redact } from "../../ops/lib/flyctl";

/** A seeded generator (mulberry32): the same secrets on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What Fly's passwords and tokens look like (letters and digits, base64, base64url), and any printable character. */
const ALPHABETS = [
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=",
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
  Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join(""),
];
const next = random(20260821);
const secrets = Array.from({ length: 400 }, (_, i) => {
  const alphabet = ALPHABETS[i % ALPHABETS.length]!;
  return Array.from({ length: 12 + Math.floor(next() * 29) }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
});

const KEYS = ["password", "pass", "secret", "token", "access_token", "Password", "PGPASSWORD", "client_secret"];
/** A JSON string's inside, as it appears between its quotes. */
const inJson = (s: string) => JSON.stringify(s).slice(1, -1);
const noSpace = (s: string) => !/\s/.test(s);

/** Each way flyctl can print a secret under a key: its output, an error quoting an API response, its debug log. */
const KEYED: Record<string, (key: string, secret: string) => string | undefined> = {
  "compact JSON": (k, s) => JSON.stringify({ user: "fly-user", [k]: s, dbname: "fly-db" }),
  "JSON with spaces": (k, s) => `{"user": "fly-user", "${k}": ${JSON.stringify(s)}, "dbname": "fly-db"}`,
  "indented JSON (the debug log)": (k, s) => `DEBUG ${JSON.stringify({ credentials: { user: "fly-user", [k]: s } }, null, 2)}`,
  "JSON quoted in an error": (k, s) => `Error: failed to get cluster (status 500): ${JSON.stringify(JSON.stringify({ [k]: s, status: "ready" }))}`,
  "key=value": (k, s) => (noSpace(s) ? `host=direct.x.flympg.net ${k}=${s} sslmode=require` : undefined),
  "key = value": (k, s) => (noSpace(s) ? `${k} = ${s}` : undefined),
  'key="value"': (k, s) => `${k}=${JSON.stringify(s)} host=h`,
  "key='value' (libpq)": (k, s) => `host=h ${k}='${s.replace(/['\\]/g, "\\$&")}' dbname=d`,
  "query string": (k, s) => `postgresql://fly-user@h/db?sslmode=require&${k}=${encodeURIComponent(s)}&x=1`,
  "Go's %+v": (k, s) => (noSpace(s) ? `{User:fly-user ${k}:${s} Role:writer}` : undefined),
};

/** Each way flyctl can print a connection URL, its password in the userinfo. */
const url = (scheme: string, user: string, s: string) => `${scheme}://${user}:${encodeURIComponent(s)}@pgbouncer.abc.flympg.net:6379/fly-db`;
const URLS: Record<string, (secret: string) => string | undefined> = {
  "text (mpg create)": (s) => `  Connection string: ${url("postgresql", "fly-user", s)}`,
  "unencoded": (s) => (noSpace(s) ? `postgres://fly-user:${s}@pgbouncer.abc.flympg.net/fly-db` : undefined),
  "empty user": (s) => `rediss://:${encodeURIComponent(s)}@fly-x.upstash.io:6379`,
  "JSON uri": (s) => JSON.stringify({ pgbouncer_uri: url("postgresql", "fly-user", s), uri: url("postgres", "u", s) }),
  "JSON, slashes escaped": (s) => JSON.stringify({ url: url("redis", "default", s) }).replace(/\//g, "\\/"),
  "JSON quoted in an error": (s) => `Error: ${JSON.stringify(JSON.stringify({ publicUrl: url("redis", "default", s) }))}`,
  "secrets import line": (s) => `GAIA_REDIS_URL="${url("redis", "default", s)}"`,
  "debug log response": (s) => `DEBUG   <-- https://api.fly.io/graphql: {"data":{"addOn":{"publicUrl":"${url("redis", "default", s)}","password":${JSON.stringify(s)}}}}`,
};

/** A token's characters: base64 and base64url, as Fly's macaroons and bearer tokens are written. */
const tokenLike = (s: string) => /^[a-zA-Z0-9/+=_-]+$/.test(s);
/** Each way a token or a credential line reaches flyctl's output: headers, token schemes, detail views. */
const TOKENS: Record<string, (secret: string) => string | undefined> = {
  "Authorization header": (s) => (tokenLike(s) ? `DEBUG --> Authorization: Bearer ${s}` : undefined),
  "Authorization in JSON": (s) => (tokenLike(s) ? JSON.stringify({ headers: { Authorization: `FlyV1 ${s}` } }) : undefined),
  "Bearer token": (s) => (tokenLike(s) ? `using Bearer ${s} for the MCP proxy` : undefined),
  "FlyV1 macaroons, comma-separated": (s) => (tokenLike(s) ? `token FlyV1 fm2_${s},fm2_${s}` : undefined),
  "a bare Fly token": (s) => (tokenLike(s) ? `Error: token fm2_${s} has expired` : undefined),
  "Password: line": (s) => (noSpace(s[0] ?? " ") ? `  Host: pgbouncer.abc.flympg.net\n  Password: ${s}\n  Database: fly-db` : undefined),
};

/** Every stretch of six characters of the secret, as each format writes it. */
function pieces(secret: string): string[] {
  const forms = [secret, inJson(secret), inJson(inJson(secret)), encodeURIComponent(secret), secret.replace(/['\\]/g, "\\$&")];
  return [...new Set(forms.flatMap((form) => Array.from({ length: form.length - 5 }, (_, i) => form.slice(i, i + 6))))];
}

describe("redact", () => {
  it("leaves no part of any secret, in every form flyctl prints one", () => {
    const survived: string[] = [];
    const check = (format: string, text: string | undefined, secret: string) => {
      if (text === undefined) return;
      const out = redact(text);
      if (pieces(secret).some((piece) => out.includes(piece))) survived.push(`${format}: ${out}`);
    };
    for (const secret of secrets) {
      for (const [format, print] of Object.entries(KEYED)) for (const key of KEYS) check(`${format} (${key})`, print(key, secret), secret);
      for (const [format, print] of Object.entries(URLS)) check(format, print(secret), secret);
      for (const [format, print] of Object.entries(TOKENS)) check(format, print(secret), secret);
    }
    expect(survived).toEqual([]);
  });

  it("keeps what is not a secret", () => {
    for (const line of [
      "Error: failed to mpg users create: Something went wrong",
      "Error: failed to update app secrets: context deadline exceeded",
      'Error: token "fo1_" is not a macaroon',
      "Error: the password: it must be at least 8 characters",
      "  Host: pgbouncer.abc.flympg.net",
    ])
      expect(redact(line)).toBe(line);
    expect(redact('{"user":"fly-user","password":"x1\\"y","dbname":"fly-db"}')).toBe('{"user":"fly-user","password":"[secret]","dbname":"fly-db"}');
    expect(redact(String.raw`{\"password\":\"a\\\"b\",\"user\":\"u\"}`)).toBe(String.raw`{\"password\":\"[secret]\",\"user\":\"u\"}`);
    expect(redact("postgresql://fly-user:p4ss@pgbouncer.abc.flympg.net/fly-db")).toBe("postgresql://fly-user:[secret]@pgbouncer.abc.flympg.net/fly-db");
    expect(redact("host=h password=p4ss sslmode=require")).toBe("host=h password=[secret] sslmode=require");
    expect(redact("  Password: p4ss w0rd\n  Database: fly-db")).toBe("  Password: [secret]\n  Database: fly-db");
    expect(redact("Authorization: FlyV1 fm2_abc,fm2_def")).toBe("Authorization: [secret]");
  });
});

describe("flyctl", () => {
  const saved = process.env.FLYCTL;
  afterEach(() => {
    if (saved === undefined) delete process.env.FLYCTL;
    else process.env.FLYCTL = saved;
  });

  it("runs flyctl with a private config directory and LOG_LEVEL=warn, removes the directory when flyctl fails, and redacts its error", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gaia-flyctl-test-"));
    const fake = path.join(dir, "flyctl");
    // A flyctl that leaves a log in its config directory and fails, quoting a response body.
    writeFileSync(
      fake,
      `#!/bin/sh\nmkdir -p "$FLY_CONFIG_DIR/logs" && echo '"password": "hunter2hunter2"' > "$FLY_CONFIG_DIR/logs/flyctl.log"\n` +
        `echo "config $FLY_CONFIG_DIR $(stat -c %a "$FLY_CONFIG_DIR") level $LOG_LEVEL" >&2\necho 'Error: {"password":"hunter2hunter2"}' >&2\nexit 3\n`,
    );
    chmodSync(fake, 0o700);
    process.env.FLYCTL = fake;
    let message = "";
    try {
      flyctl(["mpg", "status", "x"]);
    } catch (error) {
      expect(error).toBeInstanceOf(OpsError);
      message = (error as Error).message;
    }
    const [, configDir, mode, level] = /config (\S+) (\d+) level (\S+)/.exec(message) ?? [];
    expect({ mode, level, parent: path.dirname(configDir ?? "") }).toEqual({ mode: "700", level: "warn", parent: tmpdir() });
    expect(existsSync(configDir!)).toBe(false);
    expect(message).toMatch(/failed \(exit 3\): .* Error: \{"password":"\[secret\]"\}$/);
    expect(message).not.toContain("hunter2");
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps flyctl from writing its log at all (`logs` is a file), passes on none of the settings that make it write or print more, and removes directories killed runs left", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gaia-flyctl-test-"));
    const fake = path.join(dir, "flyctl");
    // Written out here, not read from ops/lib/flyctl.ts: each is a setting of flyctl's own (its sources are cited there).
    const dropped: Record<string, string> = {
      FLYCTL_OUTPUT_HAR: path.join(dir, "traffic.har"),
      FLY_TRACE_COLLECTOR_URL: "https://collector.example",
      FLY_VERBOSE: "1",
      VERBOSE: "1",
      FLY_LOG_GQL_ERRORS: "1",
      FLY_JSON: "1",
      FLY_GHA_ERROR_ANNOTATION: "1",
      CLICOLOR_FORCE: "1",
    };
    // An operator's own setting, which flyctl must still get.
    const kept = { HTTPS_PROXY: "http://proxy.example:3128" };
    const shown = [...Object.keys(dropped), ...Object.keys(kept), "NO_COLOR"];
    // Says what flyctl would find: whether it could make its log folder, and each variable.
    writeFileSync(
      fake,
      `#!/bin/sh
if mkdir -p "$FLY_CONFIG_DIR/logs" 2>/dev/null; then echo "logs: written"; else echo "logs: $(stat -c %F "$FLY_CONFIG_DIR/logs")"; fi
` + shown.map((name) => `echo "${name}: \${${name}:-unset}"\n`).join(""),
    );
    chmodSync(fake, 0o700);
    process.env.FLYCTL = fake;
    const stale = mkdtempSync(path.join(tmpdir(), "gaia-flyctl-"));
    const fresh = mkdtempSync(path.join(tmpdir(), "gaia-flyctl-"));
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    const planted = { ...dropped, ...kept, NO_COLOR: undefined };
    const saved = Object.fromEntries(Object.keys(planted).map((name) => [name, process.env[name]]));
    for (const [name, value] of Object.entries(planted)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    try {
      expect(flyctl(["mpg", "list"]).split("\n")).toEqual([
        "logs: regular empty file",
        ...Object.keys(dropped).map((name) => `${name}: unset`),
        `HTTPS_PROXY: ${kept.HTTPS_PROXY}`,
        "NO_COLOR: 1",
        "",
      ]);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(fresh)).toBe(true);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(fresh, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
