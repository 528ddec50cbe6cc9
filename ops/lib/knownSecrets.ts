/**
 * The secrets this process has held, taken out of any text by value before redact()'s patterns
 * run (./redact.ts). The patterns find a credential by the name printed before it, and a tool
 * can print one in a form none of them reads (prose, another tool's flag, a wrapped line); a
 * value this process was given or read cannot hide that way, whatever surrounds it. Each value
 * is taken as printed and in the encodings a tool applies to it: JSON's escapes (once and
 * twice, a JSON string quoted in another), a URL's percent-encoding (both encoders' forms), and
 * libpq's quoting (\' and \\).
 *
 * What is remembered: the environment's credentials when a command starts (names as redact()'s
 * credential names, and any URL's password), the values a script reads from the stack's secret
 * outputs or sets as secret config, what flyctl is given on standard input and prints under a
 * credential's name. Values shorter than MIN_LENGTH are not: every generated credential here is
 * far longer (components/credentials: 32 and more), and a short one would take words out of text.
 */
const known = new Set<string>();

/** Shorter than this, a value is left to the patterns: "1" or "dev" would take words out of every line. */
export const MIN_LENGTH = 8;

/** Remembers each value (strings only; shorter than MIN_LENGTH ignored); a URL, its password and its userinfo too. */
export function rememberSecret(...values: unknown[]): void {
  for (const value of values) {
    if (typeof value !== "string" || value.length < MIN_LENGTH) continue;
    known.add(value);
    for (const part of userinfo(value)) if (part.length >= MIN_LENGTH) known.add(part);
  }
}

/**
 * Remembers every string under a credential's name in an object (a parsed JSON response, a
 * stack's outputs), and every URL that carries a password, at any depth.
 */
export function rememberSecretsIn(value: unknown, isCredentialName: (name: string) => boolean, name = ""): void {
  if (typeof value === "string") {
    if (isCredentialName(name) || userinfo(value).length > 0) rememberSecret(value);
  } else if (Array.isArray(value)) {
    for (const item of value) rememberSecretsIn(item, isCredentialName, name);
  } else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) rememberSecretsIn(item, isCredentialName, key);
  }
}

/** The password and the whole userinfo of each URL in the text that carries one, decoded and as written. */
function userinfo(text: string): string[] {
  const parts: string[] = [];
  for (const match of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/([^\s/@]*)@/gi)) {
    const info = match[1]!;
    const password = info.includes(":") ? info.slice(info.indexOf(":") + 1) : info;
    parts.push(password, decoded(password));
  }
  return parts.filter((part) => part.length > 0);
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** How a tool may have written the value: as is, JSON-escaped once and twice, percent-encoded, quoted for libpq. */
function encodings(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  return [
    value,
    json,
    JSON.stringify(json).slice(1, -1),
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    value.replace(/['\\]/g, "\\$&"),
  ];
}

/** The text with each remembered value, in each of its encodings, replaced by "[secret]"; the longest first, so no part of one is left. */
export function withoutKnownSecrets(text: string): string {
  if (known.size === 0) return text;
  const forms = [...new Set([...known].flatMap(encodings))].filter((form) => form.length >= MIN_LENGTH).sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join("[secret]");
  return out;
}

/** For tests: forgets every remembered value. */
export function forgetSecrets(): void {
  known.clear();
}
