/**
 * Credentials taken out of text a tool printed before it reaches a log or an error message:
 * flyctl's output (./flyctl.ts), the Pulumi CLI's and the engine's errors (scripts/review-env.ts).
 * Every form is tested with 400 generated secrets in test/unit/flyctl.test.ts.
 */
/** Names whose value is a credential: password, passwd, pass, secret(s), token, access_token, credentials. */
const KEY = String.raw`[\w-]*(?:pass|secret|token|credential)[\w-]*`;
/** A quoted value, its escaped characters included. */
const QUOTED = String.raw`"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?`;
const REDACTIONS: [RegExp, string][] = [
  // A JSON string field, spaced or not: "password": "a\"b".
  [new RegExp(String.raw`("${KEY}"\s*:\s*")(?:[^"\\]|\\.)*"?`, "gi"), '$1[secret]"'],
  // The same JSON quoted inside a string, as an error quoting a response body: \"password\":\"a\\\"b\".
  [new RegExp(String.raw`(\\"${KEY}\\"\s*:\s*\\")(?:[^"\\]|\\\\(?:\\\\|\\"|[^"\\]))*(?:\\")?`, "gi"), String.raw`$1[secret]\"`],
  // key=value (a DSN, a query string, an env file) and Go's %+v key:value; not "key: text" within a sentence.
  [new RegExp(String.raw`(\b${KEY}(?:\s*=\s*|:(?=\S)))(?:${QUOTED}|\S*)`, "gi"), "$1[secret]"],
  // A "Key: value" line whose key is a credential word, as a detail view prints one: "Password: x".
  [new RegExp(String.raw`^(\s*${KEY}:[ \t]+)\S.*$`, "gim"), "$1[secret]"],
  // An HTTP Authorization header, whatever its scheme, to the end of the line or its quote.
  [/(\bAuthorization"?\s*[:=]\s*"?)[^"\n]*/gi, "$1[secret]"],
  // A token after its scheme word, however it got there (FlyV1 macaroons may be a comma-separated list).
  [/\b(Bearer|FlyV1)\s+[^\s"'\\]+/g, "$1 [secret]"],
  // Fly's token formats wherever they appear, the prefixes flyctl's own agent redacts (agent/server/session.go:675, ad0172fac), "=" anywhere.
  [/\b(?:fo1_|fm1[ar]_|fm2_)[a-zA-Z0-9/+=_-]+/g, "[secret]"],
  // A URL's password, its slashes perhaps escaped as JSON may: scheme://user:password@host, up to the last "@".
  [/(\b[a-z][\w+.-]*:(?:\\?\/){2}[^\s:/@"\\]*:)\S*@/gi, "$1[secret]@"],
];

/** The text, without the credentials it can hold in the forms flyctl, URLs, headers and DSNs print them. */
export function redact(text: string): string {
  return REDACTIONS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text);
}
