/**
 * Credentials taken out of text a tool printed before it reaches a log or an error message:
 * flyctl's output (./flyctl.ts), the Pulumi CLI's and the engine's errors and progress
 * (scripts/review-env.ts, scripts/lib/automation.ts). The forms, each with its pattern below:
 * JSON fields (also JSON quoted in a string), XML elements, form-encoded fields, YAML (block,
 * list item, flow mapping, quoted values), "Key: value" lines, tables as flyctl and others print
 * them, key=value (DSNs, env files) and Go's %+v, Authorization headers, Bearer and FlyV1 tokens,
 * Fly's token formats anywhere, and a URL's userinfo. Every form is tested with 400 generated
 * secrets (any printable ASCII: spaces, @ : / " ' \ % + = among them, where the form can hold
 * them) in test/unit/flyctl.test.ts, for the secret gone and the rest of the line kept.
 *
 * Terminal escapes are dropped first (ANSI, below), and the text comes back without them: a
 * colour code glued to a URL or cutting a name in two hides it from every pattern, and flyctl
 * colours what it prints unless NO_COLOR is set (iostreams/color.go:36-42; `fly redis
 * reset-password` prints the new URL green: internal/command/redis/reset_password.go:59, flyctl ad0172fac).
 *
 * Not handled (left as printed):
 * - a YAML block scalar, `password: |` or `>-` with the value on the lines below: only the
 *   indicator is replaced;
 * - a URL whose password holds a space unencoded; a userinfo without ":" holding / ? # " \ or a
 *   space unencoded (percent-encoded, as URL builders write them, it is handled);
 * - a CSI whose final byte is a name's first letter, `\x1b[` + "password=x": a terminal shows
 *   "assword=x", and so does this;
 * - Python's repr escaping a quote, {'password': 'it\'s "x"'}: "key: '...'" is read as YAML, where
 *   a backslash is no escape, so the value ends at \' (key='...' is read as libpq, where it is one).
 * Replaced beyond the value, as the safe side: a form-encoded body's fields after its first when
 * that is the credential (its value runs to the next space: an unquoted libpq value may hold "&");
 * a value that opens with a quote and does not close it, to the line's end; a table row's cells
 * after the credential name's (a secret's digest, `fly secrets list`).
 * Replaced though not always a secret, as the safe side: a URL's userinfo without ":" (redis-cli
 * reads `redis://X@host` as the password: parseRedisUri, redis src/cli_common.c; Sentry DSNs and
 * git URLs carry a key there); `PWD=` (the shell's directory; "pwd" is ODBC's password key).
 */

/**
 * Names whose value is a credential, case-insensitive, a prefix allowed (PGPASSWORD, client_secret):
 * password, passwd, passphrase, passcode, passkey, pass and pwd (not passenger, passive), secret, token, credential,
 * api key, private key, auth key; and auth as a name's last part (auth, REDISCLI_AUTH, basic-auth;
 * not author, authority, oauth_url, auth_method). Every pattern needs a delimiter right after the
 * name (= : " > a table's separator), which is what keeps "author" from matching "auth". Parts before
 * and after the word are at most 64 characters: a name, not a blob of base64 to scan again from each "-".
 */
const KEY = String.raw`(?:[\w-]{0,64}(?:pass(?:w(?:or)?d|phrase|code|key)|pass(?![a-z])|pwd|secret|token|credential|api[_-]?key|private[_-]?key|auth[_-]?key)[\w-]{0,64}|(?:[\w-]{0,64}[_-])?auth)`;
/** A name, perhaps namespaced as Pulumi's config keys are (gaia:dbPassword) or XML's tags. */
const NAME = String.raw`(?:[\w.-]{1,64}:)?${KEY}`;
/** A quoted value, its escaped characters included (\" in JSON, \' in libpq, '' in YAML); unclosed, to the line's end. For key=value. */
const QUOTED = String.raw`"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.|'')*'?`;
/**
 * A table's column separators: "│" (U+2502) as flyctl prints tables since v0.4.33 (tablewriter
 * v1.1.4, StyleLight: tablewriter tw/symbols.go:255-259@a0dea8a9; borders off, so no "│" at the
 * line's ends: flyctl internal/render/render.go:32-46,74-97@ad0172fac), "|" and "┃" as others do.
 */
const SEP = "[|│┃]";

/** Terminal escapes: OSC (a title, a hyperlink's target) to BEL or ST, CSI (colours, cursor moves), a charset choice, a lone ESC. */
const ANSI = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b[ -/]+[0-~]|\x1b/g;

/**
 * In this order: the forms with structure first, then the whole-line forms (a table's value may
 * open with a quote that never closes), then key=value, which takes what those left.
 */
const REDACTIONS: [RegExp, string][] = [
  // A JSON string field, spaced or not: "password": "a\"b".
  [new RegExp(String.raw`("${NAME}"\s*:\s*")(?:[^"\\]|\\.)*"?`, "gi"), '$1[secret]"'],
  // The same JSON quoted inside a string, as an error quoting a response body: \"password\":\"a\\\"b\".
  [new RegExp(String.raw`(\\"${NAME}\\"\s*:\s*\\")(?:[^"\\]|\\\\(?:\\\\|\\"|[^"\\]))*(?:\\")?`, "gi"), String.raw`$1[secret]\"`],
  // An XML element's text, attributes and namespace allowed: <Password>a&amp;b</Password>, <password><![CDATA[a<b]]></password>;
  // not an element holding others (<Secret><user>, spaces between them or not).
  [new RegExp(String.raw`(<${NAME}(?:\s[^>]*)?>)(?=\s*(?:[^<\s]|<!\[CDATA\[))(?:<!\[CDATA\[[\s\S]*?\]\]>|[^<])+`, "gi"), "$1[secret]"],
  // A form-encoded field after ? or & (a query string, a POST body): the value ends at "&", the next field kept.
  [new RegExp(String.raw`((?<=[?&])${KEY}=)[^&\s#"\\]*`, "gi"), "$1[secret]"],
  // A quoted value after "key: " anywhere, as YAML quotes it (\" within "", '' within ''; a backslash is
  // no escape within ''): password: "a b", 'token': 'x'. The quotes kept.
  [new RegExp(String.raw`(\b${NAME}["']?[ \t]*:[ \t]+)(?:(")(?:[^"\\\n]|\\.)*"?|(')(?:[^'\n]|'')*'?)`, "gi"), "$1$2$3[secret]$2$3"],
  // A plain value in a YAML flow mapping: {user: u, password: a b, dbname: d}; it ends at , ] or } as YAML's does.
  [new RegExp(String.raw`([{,][ \t]*["']?${NAME}["']?[ \t]*:[ \t]+)[^\s"',\[\]{}](?:[^,\[\]{}\n]*[^\s,\[\]{}])?`, "gi"), "$1[secret]"],
  // A "Key: value" line whose key is a credential word, as a detail view or YAML prints one, a YAML list item too: "  Password: x", "- password: x".
  [new RegExp(String.raw`^([ \t]*(?:-[ \t]+)?${NAME}:[ \t]+)\S.*$`, "gim"), "$1[secret]"],
  // A table row whose first cell is a credential name: " Password │ a b " (flyctl VerticalTable), "| password | a|b |".
  // The value runs to the line's end, or to a closing border when the row opens with one.
  [new RegExp(String.raw`^([ \t]*(${SEP}?)[ \t]*(?:[\w.-]+ )*${NAME}[ \t]*${SEP}[ \t]*)\S.*?([ \t]*\2[ \t]*)$`, "gim"), "$1[secret]$3"],
  // The same before flyctl v0.4.33 (tablewriter 0.0.5): "  Password = a b " (VerticalTable's "=" separator),
  // "password\ta b \t" (Table's tab padding): flyctl internal/render/render.go:48-50,77@3803c1f1d.
  // And columns aligned by spaces, as `pulumi config` prints them: "gaia:dbPassword  a b".
  [new RegExp(String.raw`^([ \t]*(?:[\w.-]+ )*${NAME}[ \t]+=[ \t]+)\S.*?([ \t]*)$`, "gim"), "$1[secret]$2"],
  [new RegExp(String.raw`^([ \t]*${NAME}(?:[ \t]*\t|[ \t]{2,})[ \t]*)(?!(?:${SEP}|=)[ \t])\S.*?([ \t]*)$`, "gim"), "$1[secret]$2"],
  // key=value (a DSN, an env file) and Go's %+v key:value; not "key: text" within a sentence, nor a form-encoded field (above).
  [new RegExp(String.raw`(\b(?<![?&][\w-]{0,64})${KEY}(?:\s*=\s*|:(?=\S)))(?:${QUOTED}|\S*)`, "gi"), "$1[secret]"],
  // An HTTP Authorization header, whatever its scheme, and a Cookie or Set-Cookie header (session tokens), to the end of the line or its quote.
  [/(\b(?:Authorization|Cookie|Set-Cookie)"?\s*[:=]\s*"?)[^"\n]*/gi, "$1[secret]"],
  // A JSON array under a credential's name: "passwords": ["a", "b"].
  [new RegExp(String.raw`("${NAME}"\s*:\s*\[)(?:\s*"(?:[^"\\]|\\.)*"\s*,?)*`, "gi"), "$1[secret]"],
  // A token after its scheme word, however it got there (FlyV1 macaroons may be a comma-separated list).
  [/\b(Bearer|FlyV1)\s+[^\s"'\\]+/g, "$1 [secret]"],
  // Fly's token formats wherever they appear, the prefixes flyctl's own agent redacts (agent/server/session.go:675, ad0172fac), "=" anywhere.
  [/\b(?:fo1_|fm1[ar]_|fm2_)[a-zA-Z0-9/+=_-]+/g, "[secret]"],
  // A URL's password, its slashes perhaps escaped as JSON may: scheme://user:password@host, user empty or not, up to the last "@" (a password may hold "@" and "/").
  // At most 1024 characters from the user's ":" to that "@": unbounded, a line of "x://" repeated took seconds (each start scanned to the line's end).
  [/(:(?:\\?\/){2}[^\s:/@"\\]{0,256}:)\S{0,1024}@/g, "$1[secret]@"],
  // A URL's userinfo without ":", a password or a key: redis://PASSWORD@host, https://KEY@o1.ingest.sentry.io/1; up to its last "@".
  [/(:(?:\\?\/){2})[^\s:/?#"\\]+@/g, "$1[secret]@"],
];

/** The text, without terminal escapes and without the credentials it can hold in the forms above. */
export function redact(text: string): string {
  return REDACTIONS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement), text.replace(ANSI, ""));
}
