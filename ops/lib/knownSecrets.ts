/**
 * The secrets this process has held, taken out of any text by value before redact()'s patterns
 * run (./redact.ts). The patterns find a credential by the name printed before it, and a tool
 * can print one in a form none of them reads (prose, another tool's flag, a wrapped line); a
 * value this process was given or read cannot hide that way, whatever surrounds it. Each value
 * is taken as printed and in the encodings a tool applies to it (encodings, below).
 *
 * What is remembered: the environment's credentials when a command starts (names as redact()'s
 * credential names, and any URL's password), the values a script reads from the stack's secret
 * outputs or sets as secret config, what flyctl is given on standard input, prints under a
 * credential's name or in a URL. Not a value shorter than MIN_LENGTH nor one without both letters
 * and digits (isDistinctive): every generated credential here is longer and mixed (components/credentials),
 * and a word such as "postgres" (a local server's password) would take every name holding it out
 * of every line, the credential names the patterns read among them ("password").
 *
 * Not found: a remembered value that overlaps another (the longer goes, the rest of the shorter
 * stays); an encoding not listed below (hex, HTML entities, another Unicode normalisation).
 */
const known = new Set<string>();
/** Every encoding of every remembered value, longest first; made again when a value is added. */
let cachedForms: string[] | undefined;

function keep(value: string): void {
  if (known.has(value)) return;
  known.add(value);
  cachedForms = undefined;
}

/** Shorter than this, a value is left to the patterns: "1" or "dev" would take words out of every line. */
export const MIN_LENGTH = 8;

/**
 * Remembers each value (strings only), trimmed of surrounding blanks (a token file's newline); a URL's
 * password too, and `user:password` as HTTP Basic carries it. Not what would take words out of text
 * rather than a secret (isDistinctive, below).
 */
export function rememberSecret(...values: unknown[]): void {
  for (const value of values) {
    if (typeof value !== "string") continue;
    for (const candidate of new Set([value, value.trim()])) if (isDistinctive(candidate)) keep(candidate);
    rememberUrlPasswords(value);
  }
}

/**
 * Long enough, with letters and digits both: what can be taken out of any text without taking words with it. Not
 * a word ("postgres", "password"), a name ("gaia_dev", "gaia-dev": a local URL whose password is its database's),
 * nor a date or a number ("2026-12-05"). A generated credential has both (32 random characters of 62 or more).
 */
function isDistinctive(value: string): boolean {
  return value.length >= MIN_LENGTH && /[A-Za-z]/.test(value) && /\d/.test(value);
}

/** The passwords that URLs in the text carry, read as WHATWG's parser reads them (the last "@" ends the userinfo), decoded. */
export function rememberUrlPasswords(text: string): void {
  for (const { password, basic } of credentialsInUrls(text)) {
    if (!isDistinctive(password)) continue;
    keep(password);
    if (basic) keep(basic);
  }
}

/**
 * Remembers every string under a credential's name in an object (a parsed JSON response, a
 * stack's outputs), and every URL that carries a password, at any depth.
 */
export function rememberSecretsIn(value: unknown, isCredentialName: (name: string) => boolean, name = ""): void {
  if (typeof value === "string") {
    if (isCredentialName(name)) rememberSecret(value);
    else rememberUrlPasswords(value);
  } else if (Array.isArray(value)) {
    for (const item of value) rememberSecretsIn(item, isCredentialName, name);
  } else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) rememberSecretsIn(item, isCredentialName, key);
  }
}

/**
 * Each URL's password in the text, decoded, and `user:password` (HTTP Basic's form, before base64). A
 * userinfo without ":" is a password only for Redis (redis-cli and node-redis read `redis://PASSWORD@host`
 * so); for libpq and the rest it is the user's name.
 */
function credentialsInUrls(text: string): { password: string; basic?: string }[] {
  const found: { password: string; basic?: string }[] = [];
  for (const [candidate] of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/\S+/gi)) {
    let url: URL;
    try {
      url = new URL(candidate.replace(/["')\],;]+$/, ""));
    } catch {
      continue;
    }
    const user = decoded(url.username);
    if (url.password) found.push({ password: decoded(url.password), basic: `${user}:${decoded(url.password)}` });
    else if (user && /^rediss?:$/.test(url.protocol)) found.push({ password: user });
  }
  return found;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * How a tool may have written the value: as is; JSON-escaped once and twice, and as Go's encoding/json
 * escapes HTML by default (& < > as \u0026 \u003c \u003e: flyctl's render.JSON); percent-encoded as
 * encodeURIComponent, a form, and a URL's userinfo (WHATWG and Go leave $&+,;= there); quoted for libpq;
 * escaped for a shell; in base64 (a header, a Kubernetes secret).
 */
function encodings(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const userinfo = new URL("x://h");
  userinfo.password = value;
  return [
    value,
    json,
    JSON.stringify(json).slice(1, -1),
    json.replace(/&/g, "\\u0026").replace(/</g, "\\u003c").replace(/>/g, "\\u003e"),
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    userinfo.password,
    value.replace(/['\\]/g, "\\$&"),
    value.replace(/[^\w@%+=:,./-]/g, "\\$&"),
    Buffer.from(value).toString("base64"),
    Buffer.from(value).toString("base64").replace(/=+$/, ""),
  ];
}

/** The text with each remembered value, in each of its encodings, replaced by "[secret]"; the longest first, so no part of one is left. */
export function withoutKnownSecrets(text: string): string {
  if (known.size === 0) return text;
  const forms = (cachedForms ??= [...new Set([...known].flatMap(encodings))].filter((form) => form.length >= MIN_LENGTH).sort((a, b) => b.length - a.length));
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join("[secret]");
  return out;
}

/** For tests: forgets every remembered value. */
export function forgetSecrets(): void {
  known.clear();
  cachedForms = undefined;
}
