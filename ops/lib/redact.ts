import { existsSync } from "node:fs";
import { rememberSecretsIn, withoutKnownSecrets } from "./knownSecrets";

export { forgetSecrets, rememberSecret, rememberSecretsIn, rememberUrlPasswords } from "./knownSecrets";

/**
 * Credentials taken out of text a tool printed before it reaches a log or an error message:
 * flyctl's output (./flyctl.ts), the Pulumi CLI's and the engine's errors and progress
 * (scripts/review-env.ts, scripts/rotate.ts, scripts/lib/automation.ts), an ops script's error (./env.ts).
 *
 * Two layers. First by value: every credential this process was given or read (its environment,
 * the stack's secret outputs, what flyctl was handed or printed) is taken out wherever it stands
 * and however it is encoded (./knownSecrets.ts; test/unit/known-secrets.test.ts holds it with
 * fast-check over any surrounding text). That is what makes the rest a second line: a credential
 * this process never held (one a tool made and printed in an error) is found by the name before it.
 * The forms, each with its pattern below:
 * JSON fields (also JSON quoted in a string), XML elements, form-encoded fields, YAML (block,
 * list item, flow mapping, quoted values), "Key: value" lines, tables as flyctl and others print
 * them, Pulumi's properties and diffs, key=value (DSNs, env files) and Go's %+v, a command's
 * credential flags (and the short ones of redis-cli, valkey-cli, mysql, docker login, curl -u and -H),
 * `pulumi config set --secret`, `pulumi config --json --show-secrets`, a variable's name and value in
 * the next field (ECS, SSM, Kubernetes), Secret Manager's payload, netrc, Redis's requirepass and
 * AUTH, a PEM private key, a presigned URL's signature, Authorization headers, Bearer and FlyV1
 * tokens, Fly's token formats anywhere, and a URL's userinfo, percent-encoded too. Every form is tested with 400 generated secrets (any
 * printable ASCII: spaces, @ : / " ' \ % + = among them, where the form can hold them) in
 * test/unit/redact.test.ts, for the secret gone and the rest of the line kept; and every line
 * `pulumi up`, `pulumi config` and `pulumi stack output` print for every stack of this project is
 * held to coming back exactly as printed.
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
 *   space unencoded (percent-encoded, as URL builders write them, it is handled); a password
 *   holding an "@" and after it a "/" or a quote, unencoded: it is read as ending at that "@"; a
 *   password of digits and then a quote or "/", unencoded: read as a port;
 * - a credential in prose, after a word mid-sentence (`… is not a valid password: x`, `secret x`):
 *   "key: text" within a sentence is left, or every "Error: the password: it must …" would lose its words;
 * - a name that points at a credential (REFERENCE, below: secretVersion, secretId) holding the value itself;
 * - a JSON field whose value is on the line after its name, when withProgress receives the two
 *   lines in different chunks (each chunk's whole lines are redacted alone);
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
 * git URLs carry a key there); `PWD=` (the shell's directory; "pwd" is ODBC's password key); the
 * word after `--secret` (Pulumi's `config set --secret KEY` names a key there; other tools' --secret,
 * and gcloud's `--secret=NAME`, are read as holding one); a row of `gcloud secrets list` whose name
 * holds a credential's word (read as `pulumi config`'s KEY and VALUE columns).
 * Left under the bare name "auth": a lower-case name, an email or an ARN (namesAService, below),
 * the Gaia service called auth, whose app, role and account the stack's settings name.
 */

/**
 * Names whose value is a credential, case-insensitive, a prefix allowed (PGPASSWORD, client_secret):
 * password, passwd, passphrase, passcode, passkey, pass and pwd (not passenger, passive), secret, token, credential,
 * api key, private key, auth key; and auth as a name's last part (auth, REDISCLI_AUTH, basic-auth;
 * not author, authority, oauth_url, auth_method). Every pattern needs a delimiter right after the
 * name (= : " > a table's separator), which is what keeps "author" from matching "auth". Parts before
 * and after the word are at most 64 characters: a name, not a blob of base64 to scan again from each "-".
 *
 * Not a credential's name: the word followed by one that makes the name point at a credential or
 * describe it (REFERENCE): secretId, secretArn, secretNames, SecretVersion, secretsmanager,
 * passwordLength, tokenUrl, skipCredentialsValidation, authTokenUpdateStrategy, the names Pulumi
 * prints in every plan of this project (test/unit/redact.test.ts renders them all).
 */
const REFERENCE = String.raw`s?[_-]?(?:ids?|arns?|names?|versions?|polic(?:y|ies)|providers?|manager|validation|update\w{0,16}|length|type|ur[il]s?|file|path|expir\w{0,16}|ttl|rotation\w{0,16}|count|kind|ref|encryption|last\w{0,16})(?![a-z])`;
const WORD = String.raw`pass(?:w(?:or)?d|phrase|code|key)|pass(?![a-z])|pwd|secret|token|credential|api[_-]?key|private[_-]?key|auth[_-]?key`;
const KEY = String.raw`(?:[\w.-]{0,64}(?:${WORD})(?!${REFERENCE})[\w-]{0,64}|(?:[\w.-]{0,64}[_.-])?auth)`;
/** A name, perhaps namespaced as Pulumi's config keys are (gaia:dbPassword) or XML's tags. */
const NAME = String.raw`(?:[\w.-]{1,64}:)?${KEY}`;
/** A JSON field's name, words and spaces before it allowed: "Database Password". */
const JSON_NAME = String.raw`(?:[\w.-]{1,64}[ \t]{1,8}){0,4}${NAME}`;
/** A quoted value, its escaped characters included (\" in JSON, \' in libpq, '' in YAML); unclosed, to the line's end. */
const QUOTED = String.raw`"(?:[^"\\\r\n]|\\.)*"?|'(?:[^'\\\r\n]|\\.|'')*'?`;
/**
 * A table's column separators: "│" (U+2502) as flyctl prints tables since v0.4.33 (tablewriter
 * v1.1.4, StyleLight: tablewriter tw/symbols.go:255-259@a0dea8a9; borders off, so no "│" at the
 * line's ends: flyctl internal/render/render.go:32-46,74-97@ad0172fac), "|" and "┃" as others do.
 */
const SEP = "[|│┃]";
/**
 * Where a key starts a line's text: its indentation, a YAML list's "-", a Markdown "*", the ">" and
 * "<" curl -v puts before the headers it sends and receives (`> X-Api-Key: …`), or the mark a diff
 * puts before a changed property (+ - ~ +- ++ -- > < = and more, as Pulumi's: pkg/resource/deploy/step.go:2475-2520@v3.274.1 Prefix).
 */
const LINE_START = String.raw`^[ \t]*(?:[-*<>~+=]{1,2}[ \t]+)?`;

/**
 * A value that names a credential rather than holding it, under a credential's name: an ARN, a Google secret's
 * resource name (GCP's SecretVersion `secret: "projects/p/secrets/s"`), a counter of up to three digits (the
 * stack's `rotation` output, the generation of each credential, a diff's `auth: 0 => 1`), true, false or null (a
 * setting about a credential: `getPasswordData: false`, `manageMasterUserPassword: true`), or "[secret]" as Pulumi masks one.
 */
const REFERENCE_VALUE = String.raw`(?!["']?(?:arn:aws[\w-]*:|projects\/[\w-]+\/secrets\/)|(?:\d{1,3}|true|false|null)[ \t]*(?:$|=>|[,}\]])|\[secret\](?=["']?(?:[ \t,;}\]]|$)))`;
/** The same after a JSON field's colon: the value ends at , } ] or the line's end. */
const JSON_REFERENCE_VALUE = String.raw`(?!"(?:arn:aws[\w-]*:|projects\/[\w-]+\/secrets\/)|(?:\d{1,3}|true|false|null)[ \t]*(?:[,}\]\r\n]|$)|"\[secret\]"(?=[ \t]*(?:[,}\]\r\n]|$)))`;
/**
 * Terminal escapes (ECMA-48): OSC (a title, a hyperlink's target) and the other strings, DCS, SOS, PM and APC, to BEL,
 * ST or the line's end; CSI (colours, cursor moves); a charset choice (ESC ( B); an escape of one character (ESC = ,
 * the keypad's mode; ESC 7, saving the cursor); a lone ESC.
 */
const ANSI = /\x1b[\]P^_X][^\x07\x1b\n]*(?:\x07|\x1b\\)?|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b[ -/]+[0-~]|\x1b[0-~]?/g;

/**
 * A value under the bare name "auth" that names something rather than holding a credential: the Gaia service
 * called auth has a role ARN, a service account's email and an app's name in the stack's settings
 * (`"serviceRoles": {"auth": "arn:aws:iam::…:role/auth"}`, `"apps": {"auth": "gaia-auth"}`). A name is lower-case
 * words joined by "-" (a DNS label with at least one "-", as apps' names are here) or an email; docker's
 * `"auth": "<base64>"`, a hex token (`openssl rand -hex`) and other credentials are not, and under any longer name
 * (password, REDISCLI_AUTH) nothing is taken as a name.
 */
function namesAService(key: string, value: string): boolean {
  return /^\\?"?auth\\?"?[ \t]*:/i.test(key) && /^(?:arn:aws[\w-]*:\S+|[a-z][a-z0-9]*(?:-[a-z0-9]+)+|[a-z][a-z0-9-]{0,62}@[a-z0-9-]+(?:\.[a-z0-9-]+)+)$/.test(value);
}

/** The text without its trailing spaces and tabs; by hand, as /[ \t]*$/ rescans a long run of blanks from each of its starts. */
function withoutTrailingBlanks(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === " " || text[end - 1] === "\t")) end -= 1;
  return text.slice(0, end);
}
/** A value's trailing blanks (a table's padding), kept after "[secret]". */
const keepTrailing = (kept: string, value: string) => `${kept}[secret]${value.slice(withoutTrailingBlanks(value).length)}`;

type Replacement = string | ((match: string, ...groups: string[]) => string);

/** In a command's text, the value after each `flag` (its pattern, with the gap before the value), as a shell passes it: quoted or a word. */
function flagValue(flag: string): (command: string) => string {
  const pattern = new RegExp(String.raw`((?:^|[ \t])${flag})(?:"(?:[^"\\]|\\.)*"?|'[^']*'?|\S+)`, "g");
  return (command) => command.replace(pattern, "$1[secret]");
}

/**
 * In this order: the forms with structure first, then the whole-line forms (a table's value may
 * open with a quote that never closes), then key=value, which takes what those left. Every pattern
 * runs in time linear in the text: test/unit/redact.test.ts has recheck judge each one, and
 * scripts/bench-redact.ts times them on 100 KB built to make them backtrack.
 */
const REDACTIONS: [RegExp, Replacement][] = [
  // A JSON field, spaced or not, its value a string (quotes kept), a number, true, false or null: "password": "a\"b", "pin":1234.
  // The value may be on the next line, as a pretty-printer that wraps writes it. Not a setting's true, false or null, a
  // counter, an ARN or a Google secret's name ("rotation": {"auth": 0}, "secret": true as `pulumi config --json` marks one).
  [
    new RegExp(String.raw`("${JSON_NAME}"[ \t]*:[ \t]*(?:\r?\n[ \t]*)?)${JSON_REFERENCE_VALUE}(?:"(?:[^"\\\r\n]|\\.)*"?|[^\s"\[{,}\]]+)`, "gi"),
    (match: string, key: string) => {
      const value = match.slice(key.length);
      if (namesAService(key, value.replace(/^"|"$/g, ""))) return match;
      return `${key}${value.startsWith('"') ? '"[secret]"' : "[secret]"}`;
    },
  ],
  // The same JSON quoted inside a string, as an error quoting a response body: \"password\":\"a\\\"b\".
  [
    new RegExp(String.raw`(\\"${JSON_NAME}\\"[ \t]*:[ \t]*\\")(?:[^"\\\r\n]|\\\\(?:\\\\|\\"|[^"\\\r\n]))*(?:\\")?`, "gi"),
    (match: string, key: string) => (namesAService(key, match.slice(key.length).replace(/\\"$/, "")) ? match : String.raw`${key}[secret]\"`),
  ],
  // ... its value a number, or an array of strings: \"pin\":123456, \"passwords\":[\"a\",\"b\"].
  [new RegExp(String.raw`(\\"${JSON_NAME}\\"[ \t]*:[ \t]*)(?!\\"|\[|(?:\d{1,3}|true|false|null)\b)[^\s"\\,}\]]+`, "gi"), "$1[secret]"],
  [new RegExp(String.raw`(\\"${JSON_NAME}\\"[ \t]*:[ \t]*\[)[ \t]*(?:\\"(?:[^"\\\r\n]|\\\\(?:\\\\|\\"|[^"\\\r\n]))*(?:\\")?[ \t]*,?[ \t]*)+`, "gi"), "$1[secret]"],
  // A value marked secret beside it, as `pulumi config --json --show-secrets` prints each key: {"value": "x", "secret": true},
  // an object's JSON in "value" and again, parsed, in "objectValue" between them (pkg/cmd/pulumi/config/config.go:1200-1206,
  // 1326-1353@v3.274.1). On one line here; printed indented, by shownConfigSecrets (below).
  [/("value"[ \t]*:[ \t]*")(?:[^"\\\r\n]|\\.)*("[ \t]*,[ \t]*"secret"[ \t]*:[ \t]*true\b)/g, '$1[secret]$2'],
  // A credential named in one field and held in the next, as AWS, ECS and Kubernetes list variables: {"Name": "DB_PASSWORD",
  // "Value": "x"}, {"name": "PGPASSWORD", "value": "x"}; `- name: DB_PASSWORD` then `value: x` in YAML. And Secret Manager's
  // payload, {"payload": {"data": "eDE="}} as `gcloud secrets versions access --format=json` prints it.
  [new RegExp(String.raw`("(?:name|key)"[ \t]*:[ \t]*"${NAME}"[ \t]*,\s*"value"[ \t]*:[ \t]*")(?:[^"\\\r\n]|\\.)*"?`, "gi"), '$1[secret]"'],
  [new RegExp(String.raw`(^[ \t]*(?:-[ \t]+)?name:[ \t]*["']?${NAME}["']?[ \t]*\r?\n[ \t]*value:[ \t]*)(\S.*)$`, "gim"), "$1[secret]"],
  [/("payload"[ \t]*:[ \t]*\{\s*"data"[ \t]*:[ \t]*")[^"\r\n]*"?/g, '$1[secret]"'],
  [/(^[ \t]*payload:[ \t]*\r?\n[ \t]+data:[ \t]*)(\S.*)$/gm, "$1[secret]"],
  // An XML element's text, attributes and namespace allowed: <Password>a&amp;b</Password>, <password><![CDATA[a<b]]></password>;
  // not an element holding others (<Secret><user>, spaces between them or not). A CDATA section unclosed runs to the text's end.
  [new RegExp(String.raw`(<${NAME}(?:\s[^<>]*)?>)(?=\s*(?:[^<\s]|<!\[CDATA\[))(?:<!\[CDATA\[(?:[^\]]|\](?!\]>))*(?:\]\]>)?|[^<])+`, "gi"), "$1[secret]"],
  // A form-encoded field after ? or & (a query string, a POST body): the value ends at "&", the next field kept. A
  // presigned URL's signature too: S3's X-Amz-Signature, GCS's X-Goog-Signature, Azure's sig.
  [new RegExp(String.raw`((?<=[?&])(?:${KEY}|[\w-]{0,32}signature|sig)=)[^&\s#"\\]*`, "gi"), "$1[secret]"],
  // A quoted value after "key: " where a key stands (a line's start, after { , ( [ or another key's ": ", in quotes),
  // as YAML quotes it (\" within "", '' within ''; a backslash is no escape within ''): password: "a b", 'token': 'x'.
  // The quotes kept; not a sentence's word before a quoted name (could not find secret: "gaia:adminToken").
  [
    new RegExp(String.raw`(\b(?<=${LINE_START}|[{,(\[][ \t]*|:[ \t]+|["'])${NAME}["']?[ \t]*:[ \t]+)${REFERENCE_VALUE}(?:(")(?:[^"\\\r\n]|\\.)*"?|(')(?:[^'\r\n]|'')*'?)`, "gim"),
    (match: string, key: string, double = "", single = "") => {
      const quote = double || single;
      const value = match.slice(key.length + 1).replace(new RegExp(`${quote}$`), "");
      return namesAService(key.replace(/^[ \t]*/, ""), value) ? match : `${key}${quote}[secret]${quote}`;
    },
  ],
  // A plain value in a YAML flow mapping: {user: u, password: a b, dbname: d}; it ends at , ] or } as YAML's does.
  [new RegExp(String.raw`([{,][ \t]*["']?${NAME}["']?[ \t]*:[ \t]+)${REFERENCE_VALUE}[^\s"',\[\]{}](?:[^,\[\]{}\r\n]*[^\s,\[\]{}])?`, "gi"), "$1[secret]"],
  // A "Key: value" line whose key is a credential word: a detail view, YAML, a curl -v header, a property as Pulumi
  // prints it with its title padded ("password    : x", pkg/backend/display/object_diff.go:655-657@v3.274.1).
  // Not a lone "{" or "[", nor "(json) {" as Pulumi opens a JSON string's diff: the fields follow on their own lines, each judged there.
  [new RegExp(String.raw`(${LINE_START}${NAME}[ \t]*:[ \t]+)(?!(?:\(json\)[ \t]*)?[{\[][ \t]*$)${REFERENCE_VALUE}\S.*$`, "gim"), "$1[secret]"],
  // A table row whose first cell is a credential name: " Password │ a b " (flyctl VerticalTable), "| password | a|b |".
  // The value runs to the line's end, or to a closing border when the row opens with one.
  [
    new RegExp(String.raw`^([ \t]*(?:(${SEP})[ \t]*)?(?:[\w.-]+ )*${NAME}[ \t]*${SEP}[ \t]*)(\S.*)$`, "gim"),
    (_, kept: string, border: string | undefined, value: string) => {
      const trimmed = withoutTrailingBlanks(value);
      if (!border || !trimmed.endsWith(border)) return keepTrailing(kept, value);
      const inside = withoutTrailingBlanks(trimmed.slice(0, -border.length));
      return inside ? `${kept}[secret]${value.slice(inside.length)}` : keepTrailing(kept, value);
    },
  ],
  // The same before flyctl v0.4.33 (tablewriter 0.0.5): "  Password = a b " (VerticalTable's "=" separator),
  // "password\ta b \t" (Table's tab padding): flyctl internal/render/render.go:48-50,77@3803c1f1d.
  // And columns aligned by spaces, as `pulumi config` prints them: "gaia:dbPassword  a b" (a tab or two spaces).
  [new RegExp(String.raw`^([ \t]*(?:[\w.-]+ )*${NAME}[ \t]+=[ \t]+)(\S.*)$`, "gim"), (_, kept: string, value: string) => keepTrailing(kept, value)],
  [
    new RegExp(String.raw`^([ \t]*${NAME})([ \t]+)(?!(?:[:=]|${SEP})(?:[ \t]|$))(\S.*)$`, "gim"),
    (line: string, name: string, gap: string, value: string) => (/\t| {2}/.test(gap) ? keepTrailing(name + gap, value) : line),
  ],
  // key=value (a DSN, an env file, a command's --password=x); not a form-encoded field (above).
  [new RegExp(String.raw`((?<![\w.-])(?<![?&][\w.-]{0,64})${KEY}[ \t]*=[ \t]*)(?![ \t])${REFERENCE_VALUE}(?:${QUOTED}|\S*)`, "gim"), "$1[secret]"],
  // Go's %+v, {User:u Password:x}, and its maps, map[password:x]: a field at a line's start or after "{", "[" or a space,
  // its value glued to the colon; not a type token or a URN (aws:secretsmanager:SecretVersion, onepassword:index/item:Item,
  // random:index/randomPassword:RandomPassword::name).
  [new RegExp(String.raw`((?<=^|[{\[\s])${KEY}:)(?=[^\s:])(?!index\/)\S*`, "gim"), "$1[secret]"],
  // A command line's credential flag and its value, the word last in the flag's name: --password x, --auth-token x
  // (not --secrets-provider passphrase, nor --show-secrets, a switch). Pulumi's `config set --secret KEY VALUE` is a switch
  // too, read below; the KEY after it is replaced here, as the safe side: other tools' --secret takes the value.
  [new RegExp(String.raw`((?:^|[ \t])--?[\w-]{0,64}?(?:pass(?:w(?:or)?d|phrase)?|pwd|secret|token|credentials?|api[_-]?key|private[_-]?key|auth)(?<![ \t]--show-secrets)[ \t]+)(?!-)(?:${QUOTED}|\S+)`, "gim"), "$1[secret]"],
  // `pulumi config set KEY VALUE --secret` (flags anywhere): VALUE, the second word after `set` that is not a flag or a
  // flag's value (-s/--stack, -C/--cwd, --config-file take one): pkg/cmd/pulumi/config/config.go:756-841@v3.274.1
  // (`config set-all --secret key=value` takes its value, 1173-1181: the rule above replaces it whole).
  [/^.+$/gm, (line: string) => (/\bconfig[ \t]+set[ \t]/.test(line) && /[ \t]--secret(?![\w-])/.test(line) ? configSetValue(line) : line)],
  // A tool's own short flag for a password: redis-cli's, valkey-cli's and keydb-cli's -a x (redis src/redis-cli.c
  // parseOptions), mysql's and mariadb's -pSECRET (glued; client/mysql.cc my_long_options), docker login's -p x, curl's
  // -u user:password (the password after the first ":"), and a header curl sends, -H 'X-Api-Key: x'.
  [/^.*\b(?:redis|valkey|keydb)-cli\b.*$/gm, flagValue("-a[ \t]+")],
  [/^.*\b(?:mysql\w*|mariadb\w*)\b.*$/gm, flagValue("-p")],
  [/\bdocker[ \t]+login\b[^;&|\r\n]*/g, flagValue("-p[ \t]+")],
  [/^.*\bcurl\b.*$/gm, (line: string) => line.replace(/((?:^|[ \t])(?:-u|--user)[ \t]+["']?[^\s:"']*:)(?:[^\s"']*)/g, "$1[secret]")],
  [new RegExp(String.raw`((?:^|[ \t])(?:-H|--header)[ \t]+(["'])${NAME}[ \t]*:[ \t]*)(?:(?!\2)[^\r\n])*`, "gim"), "$1[secret]"],
  [new RegExp(String.raw`((?:^|[ \t])(?:-H|--header)[ \t]+${NAME}:)\S*`, "gim"), "$1[secret]"],
  // netrc's password (on a line naming a machine, or alone on its own: "password x"; not a sentence that starts with the word)
  // and Redis's requirepass and masterauth (redis.conf, CONFIG SET, MONITOR's "requirepass" "x"); AUTH [user] password
  // typed at a prompt (upper case, as a sentence's "Auth failed" is not) or as MONITOR quotes it ("auth" "x").
  [/^([ \t]*(?:machine[ \t]+\S+|default)[ \t].*[ \t](?:password|passwd)[ \t]+)\S+/gm, "$1[secret]"],
  [/(^[ \t]*(?:machine[ \t]+\S+|default)[ \t]*\r?\n(?:[ \t]*(?:login|account|port)[ \t][^\r\n]*\r?\n){0,4}[ \t]*(?:password|passwd)[ \t]+)\S+/gm, "$1[secret]"],
  [/^([ \t]*(?:requirepass|masterauth)[ \t]+)\S+(?=[ \t]*$)/gim, "$1[secret]"],
  [/(\bset"?[ \t]+"?(?:requirepass|masterauth)"?[ \t]+"?)(?:[^"\s\\]|\\.)+/gi, "$1[secret]"],
  [/(^[ \t]*(?:[\w.:-]+>[ \t]*)?AUTH[ \t]+(?:[^\s"]+[ \t]+)?)[^\s"]+(?=[ \t]*$)/gm, "$1[secret]"],
  [/("auth"[ \t]+(?:"(?:[^"\\]|\\.)*"[ \t]+(?="))?")(?:[^"\\\r\n]|\\.)*"?/gi, '$1[secret]"'],
  // An HTTP Authorization header, whatever its scheme, and a Cookie or Set-Cookie header (session tokens), to the end of the line or its quote.
  [/(\b(?:Authorization|Cookie|Set-Cookie)"?[ \t]*[:=][ \t]*"?)[^"\r\n]*/gi, "$1[secret]"],
  // A JSON array under a credential's name: "passwords": ["a", "b"].
  [new RegExp(String.raw`("${JSON_NAME}"\s*:\s*\[)(?=\s*")\s*(?:"(?:[^"\\\r\n]|\\.)*"?\s*(?:,\s*)?)*`, "gi"), "$1[secret]"],
  // A token after its scheme word, however it got there (FlyV1 macaroons may be a comma-separated list); not a challenge's
  // parameters (WWW-Authenticate: Bearer realm="x", RFC 6750 3) nor the word "token" in a sentence (missing Bearer token).
  [/\b(Bearer|FlyV1)[ \t]+(?!(?:realm|scope|error(?:_description|_uri)?)=|tokens?\b)[^\s"'\\]+/g, "$1 [secret]"],
  // A private key in PEM (RFC 7468): everything to its END line or the text's end, however its lines are indented,
  // escaped (\n in JSON) or headed (Proc-Type); a sentence quoting the BEGIN line loses what follows, the safe side.
  [/(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)(?:[^-]|-(?!----END ))*(-----END [A-Z0-9 ]*PRIVATE KEY-----)?/g, (_, begin: string, end: string | undefined) => `${begin}[secret]${end ?? ""}`],
  // Redis's ACL SETUSER: a password added (>x) or removed (<x), a verifier (#hex, !hex), plain or as MONITOR quotes it.
  [/\bACL"?[ \t]+"?SETUSER\b[^\r\n]*/gi, (command: string) => command.replace(/((?:^|[ \t])"?[<>#!])[^\s"]+/g, "$1[secret]")],
  // Fly's token formats wherever they appear, glued to a word or not (FLY_fm2_…), the prefixes flyctl's own agent
  // redacts (agent/server/session.go:675, ad0172fac), "=" anywhere.
  [/(?:fo1_|fm1[ar]_|fm2_)[a-zA-Z0-9/+=_-]+/g, "[secret]"],
  // A URL's password, its slashes perhaps escaped as JSON may: scheme://user:password@host, user empty or not. The
  // userinfo runs to the last "@" before the path's "/", as WHATWG's URL parser reads it (https://url.spec.whatwg.org/#authority-state;
  // libpq and redis-cli stop sooner), "?" and "#" taken as the password's (an ElastiCache token may hold "#":
  // components/platforms/aws/contracts.ts); an unescaped quote ends it too, the URL being a JSON string's. When no "@"
  // comes before the "/" (or a quote), a password holding "/" unencoded (base64) runs to the last "@" before a space or
  // another URL's "://", unless what follows the ":" is a port (host:5432/db?application_name=x@y).
  [/(:(?:\\?\/){2}[^\s:/@"\\]*:)(?:(?:[^\s/"\\]|\\[^/\s])*@|(?!\d+(?:[/?#"]|\\\/|$))(?:[^\s:]|:(?!(?:\\?\/){2}))+@)/g, "$1[secret]@"],
  // A URL's userinfo without ":", a password or a key: redis://PASSWORD@host, https://KEY@o1.ingest.sentry.io/1.
  [/(:(?:\\?\/){2})(?:[^\s:/?#"\\]|\\[^/\s])+@/g, "$1[secret]@"],
  // The same, percent-encoded as a whole, a URL in another's query: ?next=redis%3A%2F%2Fdefault%3Ap4ss%40host.
  [/(%3A%2F%2F(?:[^\s%&"]|%(?!3A|40|2F)[0-9A-F]{2})*%3A)(?:[^\s%&"/]|%(?!40|2F)[0-9A-F]{2})*%40/gi, "$1[secret]%40"],
  // A diff's new value after an old one taken above, as Pulumi shows a change: password: "[secret]" => "NEW".
  [new RegExp(String.raw`(\[secret\]["']?[ \t]*=>[ \t]*)(?!\[secret\])(?:${QUOTED}|\S+)`, "g"), "$1[secret]"],
];

/** The patterns themselves, for the tests' ReDoS check (recheck) and scripts/bench-redact.ts. */
export const REDACTION_PATTERNS: readonly RegExp[] = [ANSI, ...REDACTIONS.map(([pattern]) => pattern)];

/**
 * The text, without terminal escapes and without credentials: first every value this process
 * remembered (./knownSecrets.ts), whatever surrounds it, then the forms above. A no-break space
 * is read as a space (a terminal shows none apart).
 */
export function redact(text: string): string {
  const plain = shownConfigSecrets(withoutKnownSecrets(text.replace(ANSI, "").replace(/\u00a0/g, " ")));
  return REDACTIONS.reduce((out, [pattern, replacement]) => out.replace(pattern, replacement as string), plain);
}

/** A name redact() reads as a credential's: PGPASSWORD, gaia:adminToken, REDISCLI_AUTH; not secretArn, passwordLength. */
export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAME.test(name);
}
const CREDENTIAL_NAME = new RegExp(String.raw`^${NAME}$`, "i");

/**
 * Remembers the environment's credentials (./knownSecrets.ts): variables named as one, and every URL carrying a
 * password. Not PWD and OLDPWD, directories whose name only looks like ODBC's password key; nor, under a credential's
 * name, a path that exists: where a credential is (GOOGLE_APPLICATION_CREDENTIALS, GIT_ASKPASS on a GitHub runner), not
 * the credential (a secret key that merely starts with "/" names no file).
 */
export function rememberEnvironmentSecrets(env: NodeJS.ProcessEnv = process.env): void {
  const { PWD: _pwd, OLDPWD: _oldpwd, ...rest } = env;
  const pointsAtOne = (value: string | undefined) => value !== undefined && /^[~.]{0,2}\//.test(value) && existsSync(value);
  rememberSecretsIn(Object.fromEntries(Object.entries(rest).filter(([, value]) => !pointsAtOne(value))), isCredentialName);
  // A URL's password under any name (GAIA_REVIEW_POSTGRES_URL) is remembered by rememberSecretsIn.
}

/**
 * Each key of `pulumi config --json --show-secrets` marked secret, indented as Pulumi prints it: `"value": "…",`,
 * perhaps `"objectValue": {…}` over several lines, then `"secret": true` at the same indentation (the lines between
 * at that indentation or deeper, so a block never runs into the next key's). The value, and the object's lines, as
 * "[secret]". Line by line rather than one pattern: the block's indentation is a back-reference no ReDoS checker judges.
 */
function shownConfigSecrets(text: string): string {
  if (!/"secret"[ \t]*:[ \t]*true/.test(text)) return text;
  const lines = text.split("\n");
  const collapsed = new Set<number>();
  const DROPPED = "\u0000dropped";
  for (let i = 0; i < lines.length; i += 1) {
    const opening = /^([ \t]*)"value"[ \t]*:[ \t]*"/.exec(lines[i]!);
    if (!opening) continue;
    const indent = opening[1]!;
    let j = i + 1;
    while (j < lines.length && lines[j]!.startsWith(indent) && /^(?:[ \t]|"objectValue"|[}\]])/.test(lines[j]!.slice(indent.length))) j += 1;
    if (j >= lines.length || !/^"secret"[ \t]*:[ \t]*true\b/.test(lines[j]!.slice(indent.length)) || lines[j]!.slice(0, indent.length) !== indent) continue;
    const cr = (line: string) => (line.endsWith("\r") ? "\r" : "");
    lines[i] = `${indent}"value": "[secret]",${cr(lines[i]!)}`;
    for (let k = i + 1; k < j; k += 1) {
      const line = lines[k]!;
      if (line.startsWith(`${indent}"`)) lines[k] = /[{[][ \t]*\r?$/.test(line) ? line : line.replace(/^([ \t]*"objectValue"[ \t]*:[ \t]*)[^\r]*?(,?\r?)$/, "$1[secret]$2");
      else if (!line.startsWith(`${indent}}`) && !line.startsWith(`${indent}]`)) {
        // The object's inner lines become one.
        lines[k] = collapsed.has(k - 1) ? DROPPED : `${indent}  [secret]${cr(line)}`;
        collapsed.add(k);
      }
    }
    i = j;
  }
  return lines.filter((line) => line !== DROPPED).join("\n");
}

/** `pulumi config set KEY VALUE --secret`'s VALUE as "[secret]": the second word after `set` that is no flag nor a flag's value. */
function configSetValue(line: string): string {
  const words = /\bconfig[ \t]+set[ \t]/.exec(line)!;
  const start = words.index + words[0].length;
  const tokens = [...line.slice(start).matchAll(/"(?:[^"\\]|\\.)*"?|'[^']*'?|\S+/g)];
  const positional = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i]![0];
    if (/^(?:-s|--stack|-C|--cwd|--config-file)$/.test(token)) i += 1;
    else if (!token.startsWith("-")) positional.push(tokens[i]!);
  }
  const value = positional[1];
  if (!value) return line;
  const at = start + value.index!;
  return `${line.slice(0, at)}[secret]${line.slice(at + value[0].length)}`;
}
