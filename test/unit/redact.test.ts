import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { redact } from "../../ops/lib/redact";
import { pulumiDisplayLines, pulumiListingLines } from "../support/pulumiDisplay";
import { CLOUD_PLATFORMS, planOn, stackOn } from "../support/stacks";
import { readStackFile } from "../../scripts/lib/stackFile";
import { stackNames } from "../../scripts/plan";

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

const KEYS = [
  ...["password", "pass", "secret", "token", "access_token", "Password", "PGPASSWORD", "client_secret"],
  // Each a name some tool writes a credential under: ODBC's Pwd, ssh's passphrase, API keys, redis-cli's REDISCLI_AUTH.
  ...["pwd", "Pwd", "passphrase", "apikey", "api_key", "API-KEY", "auth", "REDISCLI_AUTH", "private_key"],
];
/** A JSON string's inside, as it appears between its quotes. */
const inJson = (s: string) => JSON.stringify(s).slice(1, -1);
const noSpace = (s: string) => !/\s/.test(s);
/**
 * A password a URL can carry unencoded as redact() reads one (ops/lib/redact.ts): no space; not "@" and then "/" or a
 * quote (it ends at that "@"); not digits then a quote or "/" (a port).
 */
const unencodable = (s: string) => !/\s|@.*["/]/.test(s) && !/^\d+["/?#]/.test(s);

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
  "JSON, words before the name": (k, s) => `{"Database ${k}":${JSON.stringify(s)},"user":"u"}`,
  "a Pulumi property, its title padded": (k, s) => `        ${k.padEnd(24)}: ${JSON.stringify(s)}`,
  "a Pulumi diff (old => new)": (k, s) => `    ~ ${k}: ${JSON.stringify(`old${s}`)} => ${JSON.stringify(s)}`,
  "Key : value": (k, s) => (noSpace(s[0] ?? " ") ? `  ${k} : ${s}` : undefined),
  "a command's flag": (k, s) => (noSpace(s) && !/^["'-]/.test(s) ? `tool --host h --${k} ${s} --user u` : undefined),
};

/** Each way flyctl can print a connection URL, its password in the userinfo. */
const url = (scheme: string, user: string, s: string) => `${scheme}://${user}:${encodeURIComponent(s)}@pgbouncer.abc.flympg.net:6379/fly-db`;
const URLS: Record<string, (secret: string) => string | undefined> = {
  "text (mpg create)": (s) => `  Connection string: ${url("postgresql", "fly-user", s)}`,
  "unencoded": (s) => (unencodable(s) ? `postgres://fly-user:${s}@pgbouncer.abc.flympg.net/fly-db` : undefined),
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
  "Cookie header": (s) => (tokenLike(s) ? `DEBUG --> Cookie: fly_session=${s}; theme=dark` : undefined),
  "Set-Cookie header": (s) => (tokenLike(s) ? `DEBUG <-- Set-Cookie: fly_session=${s}; Path=/; HttpOnly` : undefined),
  "a JSON array of credentials": (s) => JSON.stringify({ user: "u", passwords: [s, s], db: "d" }),
  "curl -v request header": (s) => (noSpace(s[0] ?? " ") ? `> X-Api-Key: ${s}\n> Accept: */*` : undefined),
  "redis-cli -a": (s) => (noSpace(s) && !/^["'-]/.test(s) ? `$ redis-cli -h fly-x.upstash.io -p 6379 -a ${s} --no-auth-warning ping` : undefined),
  "a Fly token glued to a word": (s) => (tokenLike(s) ? `FLY_API_TOKEN_fm2_${s} xfo1_${s}` : undefined),
  "a URL percent-encoded in another's query": (s) => `https://fly.io/app/login?next=${encodeURIComponent(url("redis", "default", s))}&x=1`,
  "a URL with a long user and password": (s) => (unencodable(s) ? `postgres://${"u".repeat(300)}:${"p".repeat(1100)}${s}@h/db` : undefined),
};

/**
 * A form whose redacted line is known exactly: `value` writes the secret as the form does (undefined
 * when the form cannot hold it), `line` puts it in its line. redact() must leave
 * line(kept(value)), "[secret]" unless kept says otherwise, and so the rest of the line as printed.
 * `esc` writes a coloured line's terminal escapes, which redact() drops: none in what it leaves.
 */
interface Form {
  value: (secret: string) => string | undefined;
  line: (value: string, key: string, esc: (sequence: string) => string) => string;
  kept?: (value: string) => string;
}
/** A value whose quotes redact() keeps: "[secret]" in its quotes. */
const keepQuotes = (v: string) => (/^["']/.test(v) ? `${v[0]}[secret]${v[0]}` : "[secret]");
/** A table cell's spaces at its ends are the table's padding: a secret with its own there is not a cell's. */
const cell = (s: string) => (s.trim() === s ? s : undefined);
/** The secret as the yaml package writes it as a mapping's value, block or flow; checked by reading it back. */
function yamlValue(s: string, style: "block" | "flow"): string | undefined {
  const text = stringify({ k: s }, { collectionStyle: style, lineWidth: 0 }).trimEnd();
  if ((parse(text) as { k: unknown }).k !== s) throw new Error(`yaml did not read back ${JSON.stringify(s)}`);
  const value = style === "block" ? text.slice("k: ".length) : text.slice("{ k: ".length, -" }".length);
  return value.includes("\n") ? undefined : value;
}
const xmlEscape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const noSpecial = (s: string) => /^[^\s:/?#"\\]+$/.test(s);

/** Colour codes (flyctl colours what it prints unless NO_COLOR is set), YAML, XML, form bodies and tables, under each key. */
const KEYED_EXACT: Record<string, Form> = {
  // A value opening with a quote is read as quoted, to its closing quote or the line's end: not this form's.
  "coloured key=value": {
    value: (s) => (noSpace(s) && !/^["']/.test(s) ? s : undefined),
    line: (v, k, e) => `host=h ${e("\x1b[1m")}${k}${e("\x1b[22m")}=${e("\x1b[32m")}${v}${e("\x1b[39m")} sslmode=require`,
  },
  "a detail line, its name split by colour codes": {
    value: (s) => (noSpace(s[0] ?? " ") ? s : undefined),
    line: (v, k, e) => `  ${e("\x1b[1m")}${k.slice(0, 2)}${e("\x1b[0m\x1b[1m")}${k.slice(2)}:${e("\x1b[0m")} ${v}\n  Database: fly-db`,
  },
  "JSON coloured as jq -C does": {
    value: inJson,
    line: (v, k, e) => `${e("\x1b[1;39m")}{\n  ${e("\x1b[0m\x1b[34;1m")}"${k}"${e("\x1b[0m\x1b[1;39m")}: ${e("\x1b[0m\x1b[0;32m")}"${v}"${e("\x1b[0m\x1b[1;39m")}\n${e("\x1b[1;39m")}}${e("\x1b[0m")}`,
  },
  "YAML block mapping": { value: (s) => yamlValue(s, "block"), line: (v, k) => `db:\n  user: fly-user\n  ${k}: ${v}\n  dbname: fly-db` },
  "YAML list item": { value: (s) => yamlValue(s, "block"), line: (v, k) => `users:\n  - ${k}: ${v}\n    name: fly-user` },
  "YAML flow mapping": { value: (s) => yamlValue(s, "flow"), line: (v, k) => `db: { user: fly-user, ${k}: ${v}, dbname: fly-db }`, kept: keepQuotes },
  "YAML double-quoted within a line": { value: inJson, line: (v, k) => `Error: invalid config: ${k}: "${v}" (not base64)` },
  "YAML single-quoted within a line": { value: (s) => s.replace(/'/g, "''"), line: (v, k) => `Error: invalid config: ${k}: '${v}' (not base64)` },
  // flyctl since v0.4.33 (tablewriter v1.1.4), as a Go program with its settings printed them: borders off, "│" between
  // columns, a space either side (flyctl internal/render/render.go:32-46,74-97@ad0172fac); the value column left unpadded.
  "flyctl VerticalTable (│)": {
    value: cell,
    line: (v, k) => [["Name", "gaia-redis"], [k, v], ["Primary Region", "iad"]].map(([a, b]) => ` ${a!.padEnd(Math.max(14, k.length))} │ ${b} `).join("\n"),
  },
  "flyctl Table with a header (│)": {
    value: cell,
    line: (v, k) => [["NAME", "VALUE"], ["user", "fly-user"], [k, v]].map(([a, b]) => ` ${a!.padEnd(Math.max(4, k.length))} │ ${b} `).join("\n"),
  },
  "bordered table": { value: cell, line: (v, k) => `| NAME | VALUE |\n|------|-------|\n| ${k} | ${v} |\n| user | fly-user |` },
  // Before v0.4.33 (tablewriter 0.0.5): VerticalTable's "=" separator, Table's tab padding (render.go:48-50,77@3803c1f1d).
  "flyctl VerticalTable before v0.4.33 (=)": {
    value: cell,
    line: (v, k) => `  ${"Name".padEnd(Math.max(4, k.length))} = gaia-redis  \n  ${k.padEnd(4)} = ${v}     `,
  },
  "flyctl Table before v0.4.33 (tabs)": {
    value: cell,
    line: (v, k) => `${"NAME".padEnd(Math.max(4, k.length))}\tVALUE\n${"user".padEnd(Math.max(4, k.length))}\tfly-user\t\n${k.padEnd(4)}\t${v} \t`,
  },
  "columns aligned by spaces (pulumi config)": {
    value: cell,
    line: (v, k) => `${"KEY".padEnd(k.length + 5)}  VALUE\n${`gaia:${k}`.padEnd(k.length + 5)}  ${v}`,
  },
  "XML element": { value: xmlEscape, line: (v, k) => `<credentials><user>fly-user</user><${k}>${v}</${k}><db>fly-db</db></credentials>` },
  "XML CDATA, attributes": {
    value: (s) => (s.includes("]]>") ? undefined : `<![CDATA[${s}]]>`),
    line: (v, k) => `<Secret><${k} encoding="plain">${v}</${k}></Secret>`,
  },
  "form-encoded body": {
    value: (s) => new URLSearchParams({ v: s }).toString().slice("v=".length),
    line: (v, k) => `POST /oauth/token body: user=fly-user&${k}=${v}&grant_type=client_credentials`,
  },
};

/** A number a credential may be written as in JSON: the secret's characters as digits. */
const digits = (s: string) => `9${[...s].map((c) => c.charCodeAt(0) % 10).join("")}`;
KEYED_EXACT["JSON, a number"] = { value: digits, line: (v, k) => `{"user":"u","${k}":${v},"db":"d"}` };

/** Connection URLs: coloured or behind a hyperlink, a password alone or as the user, and (taken before too) no user, "@" and "/" unencoded. */
const URLS_EXACT: Record<string, Form> = {
  "coloured URL (redis reset-password)": {
    value: encodeURIComponent,
    line: (v, _, e) => `Your new Redis connection URL is ${e("\x1b[32m")}redis://default:${v}@fly-x.upstash.io:6379${e("\x1b[0m")}`,
  },
  "URL split by colour codes": {
    value: encodeURIComponent,
    line: (v, _, e) => `${e("\x1b[1m")}postgresql://${e("\x1b[4m")}fly-user${e("\x1b[24m")}:${e("\x1b[31m")}${v}${e("\x1b[39m")}@pgbouncer.abc.flympg.net/fly-db${e("\x1b[0m")}`,
  },
  "OSC 8 hyperlink": {
    value: encodeURIComponent,
    line: (v, _, e) => `${e(`\x1b]8;;redis://default:${v}@fly-x.upstash.io:6379\x1b\\`)}redis://default:${v}@fly-x.upstash.io:6379${e("\x1b]8;;\x1b\\")} ready`,
  },
  "OSC window title, ended by BEL": { value: encodeURIComponent, line: (v, _, e) => `${e(`\x1b]0;redis://default:${v}@fly-x.upstash.io\x07`)}connected` },
  "JSON holding colour codes": {
    value: encodeURIComponent,
    line: (v) => JSON.stringify({ url: `\x1b[1mredis://default:${v}@fly-x.upstash.io:6379\x1b[0m`, status: "ready" }),
  },
  "password alone (redis-cli's redis://PASSWORD@host)": { value: encodeURIComponent, line: (v) => `  REDIS_URL: redis://${v}@fly-x.upstash.io:6379` },
  "password alone, @ % ' unencoded": { value: (s) => (noSpecial(s) ? s : undefined), line: (v) => `redis://${v}@fly-x.upstash.io:6379/0 refused` },
  "key as the user (Sentry DSN)": { value: encodeURIComponent, line: (v) => `SENTRY_DSN=https://${v}@o1.ingest.sentry.io/42 set` },
  "empty user, unencoded": { value: (s) => (unencodable(s) ? s : undefined), line: (v) => `rediss://:${v}@fly-x.upstash.io:6379 refused` },
  "user, password unencoded (@ and / in it)": { value: (s) => (unencodable(s) ? s : undefined), line: (v) => `redis://default:${v}@fly-x.upstash.io:6379/0 refused` },
  "JSON, password unencoded": { value: (s) => (noSpace(s) ? inJson(s) : undefined), line: (v) => `{"uri":"postgres://fly-user:${v}@h:5432/db","status":"ok"}` },
};

/** Each secret in each form under each key: the forms that left a part of it or changed the rest of the line, and how many secrets each form took. */
function checkExact(forms: Record<string, Form>, keys: string[]): { wrong: string[]; taken: Record<string, number> } {
  const wrong: string[] = [];
  const taken: Record<string, number> = Object.fromEntries(Object.keys(forms).map((format) => [format, 0]));
  for (const secret of secrets) {
    for (const [format, form] of Object.entries(forms)) {
      const value = form.value(secret);
      if (value === undefined) continue;
      taken[format]! += 1;
      for (const key of keys) {
        const printed = form.line(value, key, (sequence) => sequence);
        const out = redact(printed);
        const expected = form.line(form.kept?.(value) ?? "[secret]", key, () => "");
        if (out !== expected || pieces(secret).some((piece) => out.includes(piece))) wrong.push(`${format} (${key}): ${JSON.stringify(printed)} -> ${JSON.stringify(out)}`);
      }
    }
  }
  return { wrong, taken };
}

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

  it("the generated secrets hold @ : / \" ' \\ % + = and spaces", () => {
    for (const c of '@:/"\'\\%+= ') expect(secrets.some((secret) => secret.includes(c)), c).toBe(true);
  });

  it("drops terminal escapes first, then redacts: a name, a value, a URL coloured, split by colour codes, behind a hyperlink; and reads YAML, tables, XML and form bodies, under every name", () => {
    const { wrong, taken } = checkExact(KEYED_EXACT, KEYS);
    expect(wrong.slice(0, 20)).toEqual([]);
    for (const [format, count] of Object.entries(taken)) expect(count, format).toBeGreaterThanOrEqual(250);
  });

  it("takes a URL's password with no user or alone, \"@\" and \"/\" unencoded in it, and a key in the user's place", () => {
    const { wrong, taken } = checkExact(URLS_EXACT, ["-"]);
    expect(wrong.slice(0, 20)).toEqual([]);
    for (const [format, count] of Object.entries(taken)) expect(count, format).toBeGreaterThanOrEqual(200);
  });

  it("keeps what is not a secret", () => {
    for (const line of [
      "Error: failed to mpg users create: Something went wrong",
      "Error: failed to update app secrets: context deadline exceeded",
      'Error: token "fo1_" is not a macaroon',
      "Error: the password: it must be at least 8 characters",
      "  Host: pgbouncer.abc.flympg.net",
      // Names that hold a credential's word but no credential: "auth" only as a name's last part, "pass" not in a longer word.
      "author: bob",
      "Author: Bob <bob@example.com>",
      "Authority: fly.io",
      "auth_method=md5",
      "oauth_url=https://fly.io/oauth/authorize?client_id=gaia",
      "Passenger count: 3",
      "passenger=3 passive=true",
      "<author>bob</author>",
      "db: { user: fly-user, dbname: fly-db }",
      " NAME           │ VALUE ",
      " Primary Region │ iad ",
      "| NAME | VALUE |",
      "user=fly-user&sslmode=require",
      "https://registry.npmjs.org/@pulumi/pulumi",
      // What the attack on redaction found replaced (2026-12-05): a sentence quoting a config key, a port and a query's "@",
      // a path's "@", a command's flags about credentials, Pulumi's outputs opening an object, a type token.
      'error: could not find secret: "gaia:adminToken"',
      "postgres://h:5432/db?application_name=gaia@1",
      "https://registry.npmjs.org:443/@pulumi%2fpulumi",
      "pulumi stack init --secrets-provider passphrase",
      "flyctl --token-file /etc/fly/token",
      "    secretNames   : {",
      "    adminToken      : [secret]",
      " +   ├─ aws:secretsmanager:SecretVersion  gaia-dev-postgres-owner-value  created (0.52s)",
    ])
      expect(redact(line)).toBe(line);
    expect(redact('{"user":"fly-user","password":"x1\\"y","dbname":"fly-db"}')).toBe('{"user":"fly-user","password":"[secret]","dbname":"fly-db"}');
    expect(redact(String.raw`{\"password\":\"a\\\"b\",\"user\":\"u\"}`)).toBe(String.raw`{\"password\":\"[secret]\",\"user\":\"u\"}`);
    expect(redact("postgresql://fly-user:p4ss@pgbouncer.abc.flympg.net/fly-db")).toBe("postgresql://fly-user:[secret]@pgbouncer.abc.flympg.net/fly-db");
    expect(redact("host=h password=p4ss sslmode=require")).toBe("host=h password=[secret] sslmode=require");
    expect(redact("  Password: p4ss w0rd\n  Database: fly-db")).toBe("  Password: [secret]\n  Database: fly-db");
    expect(redact("Authorization: FlyV1 fm2_abc,fm2_def")).toBe("Authorization: [secret]");
    expect(redact("{password: p4 ss, user: u}")).toBe("{password: [secret], user: u}");
    expect(redact("user=u&password=p%40ss&x=1")).toBe("user=u&password=[secret]&x=1");
    expect(redact("PASSWORD  p4 ss\n<Password>p4ss</Password>")).toBe("PASSWORD  [secret]\n<Password>[secret]</Password>");
    expect(redact("\x1b[1mError:\x1b[0m \x1b]8;;https://fly.io/docs\x1b\\docs\x1b]8;;\x1b\\")).toBe("Error: docs");
    // The host after the userinfo kept: a later "@" in the query or another JSON field is not the password's.
    expect(redact("postgres://u:p4ss@h:5432/db?application_name=gaia@1")).toBe("postgres://u:[secret]@h:5432/db?application_name=gaia@1");
    expect(redact('{"url":"redis://u:p4ss@h:6379","owner":"bob@example.com"}')).toBe('{"url":"redis://u:[secret]@h:6379","owner":"bob@example.com"}');
    // An OSC escape left open ends at the line's end, not at the next escape.
    expect(redact("\x1b]0;fly\nError: failed \x1b[1mnow\x1b[0m")).toBe("\nError: failed now");
    expect(redact('{"password":12345678}')).toBe('{"password":[secret]}');
    expect(redact("  ~ password: [secret] => [secret]")).toBe("  ~ password: [secret] => [secret]");
  });

  it("replaces on the safe side what it cannot tell from a credential, and leaves the forms its header says it does not handle", () => {
    // A userinfo without ":" is redis-cli's password, a Sentry DSN's key, or a user name.
    expect(redact("postgresql://fly-user@h/db")).toBe("postgresql://[secret]@h/db");
    // "pwd" is ODBC's password key, and the shell's directory.
    expect(redact("Server=db;Uid=sa;Pwd=p4ss;")).toBe("Server=db;Uid=sa;Pwd=[secret]");
    expect(redact("PWD=/work/main")).toBe("PWD=[secret]");
    // A table row's cells after the credential name's, a digest in `fly secrets list`.
    expect(redact(" DATABASE_PASSWORD │ 3f2a9c │ Deployed ")).toBe(" DATABASE_PASSWORD │ [secret] ");
    // A sentence quoting a PEM key's BEGIN line loses what follows it.
    expect(redact("error: expected -----BEGIN PRIVATE KEY-----\nfix: re-run")).toBe("error: expected -----BEGIN PRIVATE KEY-----[secret]");
    // A YAML block scalar: only its indicator; the value on the lines below is left.
    expect(redact("password: >-\n  p4ss")).toBe("password: [secret]\n  p4ss");
    // A password holding "@" and then "/" unencoded ends at that "@", as a URL parser reads it.
    expect(redact("redis://default:a@b/c@fly-x.upstash.io:6379/0")).toBe("redis://default:[secret]@b/c@fly-x.upstash.io:6379/0");
    // A URL's password of digits then a quote or "/" unencoded is read as a port, and left.
    expect(redact('redis://default:12"cd@h:6379')).toBe('redis://default:12"cd@h:6379');
    // A name that points at a credential rather than holding it, and what names one: an ARN, a Google secret, a generation.
    expect(redact('secret    : "projects/p/secrets/gaia-dev-redis"\nsecretArn=arn:aws:secretsmanager:x\n    adminApiKey: 0')).toBe('secret    : "projects/p/secrets/gaia-dev-redis"\nsecretArn=arn:aws:secretsmanager:x\n    adminApiKey: 0');
  });
});

describe("redact: what the attacks of 2026-12-05 found", () => {
  // Each line as a tool prints it, and what must be left: the secret gone, the rest as printed.
  const TAKEN: [string, string, string][] = [
    ["pulumi config set, --secret first", "pulumi config set --secret gaia:dbPassword hunter2-x9 --stack dev", "pulumi config set --secret [secret] [secret] --stack dev"],
    ["pulumi config set, --secret last", "pulumi config set gaia:adminToken hunter2-x9 --secret -s dev", "pulumi config set gaia:adminToken [secret] --secret -s dev"],
    // set-all's --secret takes key=value: both go, as the safe side (pkg/cmd/pulumi/config/config.go:1177-1181@v3.274.1).
    ["pulumi config set-all --secret", "pulumi config set-all --secret gaia:x=hunter2-x9 --plaintext gaia:y=1", "pulumi config set-all --secret [secret] --plaintext gaia:y=1"],
    ["config --json --show-secrets", '  "gaia:local": {\n    "value": "hunter2-x9",\n    "secret": true\n  }', '  "gaia:local": {\n    "value": "[secret]",\n    "secret": true\n  }'],
    ["escaped JSON, a number", String.raw`Error: {\"passcode\":98765432}`, String.raw`Error: {\"passcode\":[secret]}`],
    ["escaped JSON, an array", String.raw`{\"passwords\":[\"hunter2-x9\",\"b4\"],\"u\":1}`, String.raw`{\"passwords\":[[secret]],\"u\":1}`],
    ["Go map", "map[password:hunter2-x9 user:u]", "map[password:[secret] user:u]"],
    ["dotted name", "db.password: hunter2-x9", "db.password: [secret]"],
    ["namespaced dotted name", "gaia:local.adminToken: hunter2-x9", "gaia:local.adminToken: [secret]"],
    ["JSON name, two spaces", '{"Database  Password": "hunter2-x9"}', '{"Database  Password": "[secret]"}'],
    ["JSON value on the next line", '{"password":\n    "hunter2-x9"}', '{"password":\n    "[secret]"}'],
    ["valkey-cli -a", "valkey-cli -h h -a hunter2-x9 ping", "valkey-cli -h h -a [secret] ping"],
    ["no-break space", "password:\u00a0hunter2-x9", "password: [secret]"],
    ["ESC = before a name", "\x1b=password=hunter2-x9", "password=[secret]"],
    ["DCS string", "\x1bPq#0;2;0;0;0\x1b\\password=hunter2-x9", "password=[secret]"],
    ["CRLF kept after Authorization", "Authorization: Bearer hunter2-x9\r\nHost: h\r\n", "Authorization: [secret]\r\nHost: h\r\n"],
    ["CRLF kept after an unclosed quote", 'password: "hunter2-x9\r\nnext', "password: [secret]\r\nnext"],
    ["curl -u", "curl -u gaia:hunter2-x9 https://h/api", "curl -u gaia:[secret] https://h/api"],
    ["curl -H mid-line", "curl -sS -H 'X-Api-Key: hunter2-x9' https://h/api", "curl -sS -H 'X-Api-Key: [secret]' https://h/api"],
    ["password:S at a line's start", "password:hunter2-x9", "password:[secret]"],
    ["ECS/SSM name and value", '{"name": "PGPASSWORD", "value": "hunter2-x9"}', '{"name": "PGPASSWORD", "value": "[secret]"}'],
    ["Kubernetes env", "- name: DB_PASSWORD\n  value: hunter2-x9", "- name: DB_PASSWORD\n  value: [secret]"],
    ["gcloud payload.data", '{"name": "projects/p/secrets/s/versions/1", "payload": {"data": "aHVudGVyMg=="}}', '{"name": "projects/p/secrets/s/versions/1", "payload": {"data": "[secret]"}}'],
    ["gcloud payload, YAML", "payload:\n  data: aHVudGVyMg==", "payload:\n  data: [secret]"],
    ["X-Amz-Signature", "https://b.s3.amazonaws.com/k?X-Amz-Date=1&X-Amz-Signature=abc123def&x=1", "https://b.s3.amazonaws.com/k?X-Amz-Date=1&X-Amz-Signature=[secret]&x=1"],
    ["PEM private key", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0BAQEF\n-----END PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----[secret]-----END PRIVATE KEY-----"],
    ["PEM, indented", "  -----BEGIN PRIVATE KEY-----\n  MIGHAgEAMBMGByqGSM49AgEG\n  -----END PRIVATE KEY-----", "  -----BEGIN PRIVATE KEY-----[secret]-----END PRIVATE KEY-----"],
    ["PEM in JSON", JSON.stringify({ pem: "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEG\n-----END PRIVATE KEY-----\n" }), '{"pem":"-----BEGIN PRIVATE KEY-----[secret]-----END PRIVATE KEY-----\\n"}'],
    ["PEM, encrypted with headers", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B\n\nMIGHAgEAMBMG\n-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----[secret]-----END RSA PRIVATE KEY-----"],
    ["ACL SETUSER", "ACL SETUSER gaia_dev on >Zx9-abc_DEF123 <Qq8-prev_PW456 ~gaia:dev:*", "ACL SETUSER gaia_dev on >[secret] <[secret] ~gaia:dev:*"],
    ["ACL SETUSER in MONITOR", '1700000000.1 [0 1.2.3.4:5] "acl" "setuser" "gaia_dev" "on" ">Zx9-abc_DEF123"', '1700000000.1 [0 1.2.3.4:5] "acl" "setuser" "gaia_dev" "on" ">[secret]"'],
    ["mysql -p", "mysql -h h -u root -phunter2-x9 gaia", "mysql -h h -u root -p[secret] gaia"],
    ["docker login -p", "docker login -u gaia -p hunter2-x9 ghcr.io", "docker login -u gaia -p [secret] ghcr.io"],
    ["netrc", "machine api.fly.io login gaia password hunter2-x9", "machine api.fly.io login gaia password [secret]"],
    ["redis.conf requirepass", "requirepass hunter2-x9", "requirepass [secret]"],
    ["CONFIG SET in MONITOR", '1700000000.1 [0 1.2.3.4:5] "config" "set" "requirepass" "hunter2-x9"', '1700000000.1 [0 1.2.3.4:5] "config" "set" "requirepass" "[secret]"'],
    ["AUTH at a prompt", "127.0.0.1:6379> AUTH default hunter2-x9", "127.0.0.1:6379> AUTH default [secret]"],
    ["config --json --show-secrets, an object", '  "gaia:notify": {\n    "value": "{\\"hook\\":\\"hk-Zx81Qa77LmPp9\\"}",\n    "objectValue": {\n      "hook": "hk-Zx81Qa77LmPp9",\n      "n": [1, 2]\n    },\n    "secret": true\n  },\n  "gaia:region": {\n    "value": "us-east-1",\n    "secret": false\n  }', '  "gaia:notify": {\n    "value": "[secret]",\n    "objectValue": {\n      [secret]\n    },\n    "secret": true\n  },\n  "gaia:region": {\n    "value": "us-east-1",\n    "secret": false\n  }'],
    ["a hex token under auth", '{"auth": "c0ffee1234deadbeef5678abcdef9012"}', '{"auth": "[secret]"}'],
    ["netrc over lines", "machine api.fly.io\n  login gaia\n  password hunter2-x9", "machine api.fly.io\n  login gaia\n  password [secret]"],
    ["docker login after another command", "docker run -p 8080:80 nginx && docker login ghcr.io -p hunter2-x9", "docker run -p 8080:80 nginx && docker login ghcr.io -p [secret]"],
    ["AUTH in MONITOR", '1700000000.1 [0 1.2.3.4:5] "auth" "hunter2-x9"', '1700000000.1 [0 1.2.3.4:5] "auth" "[secret]"'],
  ];
  it.each(TAKEN)("takes the secret out: %s", (_, line, expected) => {
    expect(redact(line)).toBe(expected);
  });

  // Lines that hold a credential's word and no credential, as the tools print them.
  const KEPT: [string, string][] = [
    ["a generation in JSON", '"rotation": {"auth":0,"chat":2}'],
    ["a flag in JSON", '{"objectValue": {}, "secret": true}'],
    ["an ARN in JSON", '{"secretArn": "x", "password": "arn:aws:secretsmanager:us-east-1:1:secret:gaia"}'],
    ["a Google secret in JSON", '{"secret": "projects/p/secrets/gaia-dev-redis"}'],
    ["a generation's diff", "    ~ auth: 0 => 1"],
    ["a boolean property", "    getPasswordData : false"],
    ["a boolean setting", "manageMasterUserPassword: true"],
    ["a JSON string's diff", "      ~ secretString: (json) {"],
    ["a type token", " +   onepassword:index/item:Item  gaia-item  create"],
    ["psql's settings", " password_encryption | scram-sha-256"],
    ["IAM's last use", "PasswordLastUsed: 2026-12-01T10:00:00Z"],
    ["a challenge", 'WWW-Authenticate: Bearer realm="fly", error="invalid_token"'],
    ["a sentence", "error: missing Bearer token"],
    ["a sentence starting with the word", "Password must hold at least 8 characters"],
    ["a sentence with AUTH", "Auth failed for user gaia"],
    ["--show-secrets", "pulumi stack output --show-secrets adminUrl"],
    ["a sentence starting with AUTH", "AUTH failed: check the credentials"],
    ["password then a word", "password expired"],
    ["netrc's word in a sentence", "default: password is kept"],
    ["--secrets-provider in config set", "pulumi config set gaia:region us-east-1 --secrets-provider passphrase"],
    ["--secret-provider in config set", "pulumi config set gaia:region us-east-1 --secret-provider passphrase"],
    ["docker run's port", "docker run -p 8080:80 nginx"],
    ["requirepass in a sentence", "requirepass is not set"],

    ["a service's role", '{"serviceRoles":{"auth":"arn:aws:iam::123456789012:role/auth","chat":"arn:aws:iam::123456789012:role/chat"}}'],
    ["a service's app", '{"apps":{"auth":"gaia-auth"}}'],
    ["a service's account", '    "auth": "auth@gaia-test-project.iam.gserviceaccount.com",'],
  ];
  it.each(KEPT)("leaves it as printed: %s", (_, line) => {
    expect(redact(line)).toBe(line);
  });

  it("under the name auth, a credential is still taken: docker's base64, a password", () => {
    expect(redact('{"auths":{"ghcr.io":{"auth":"Z2FpYTpodW50ZXIy"}}}')).toBe('{"auths":{"ghcr.io":{"auth":"[secret]"}}}');
    expect(redact('{"auth": "Hunter2-x9"}')).toBe('{"auth": "[secret]"}');
  });
});

describe("redact on what Pulumi prints", () => {
  /**
   * Every line the Pulumi CLI prints for every stack on every platform (types, URNs, property
   * titles, non-secret values, outputs), rendered with the CLI's rules from the project's own
   * plans: withProgress shows each through redact(), which must leave it exactly as printed.
   */
  it("leaves every line of every stack's preview and update, config and outputs exactly as printed", async () => {
    const changed = new Map<string, string>();
    for (const stack of stackNames()) {
      const { secretKeys } = readStackFile(stack);
      for (const platform of CLOUD_PLATFORMS) {
        const plan = await planOn(stack, platform);
        for (const line of [...pulumiDisplayLines(plan), ...pulumiListingLines(plan, stackOn(stack, platform), secretKeys)]) {
          const out = redact(line);
          if (out !== line) changed.set(line.trim(), out.trim());
        }
      }
    }
    expect([...changed].slice(0, 300).map(([line, out]) => `${line}\n  -> ${out}`)).toEqual([]);
  }, 120_000);
});
