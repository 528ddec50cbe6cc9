/**
 * How long redact() (ops/lib/redact.ts) takes on 100 KB of text built to make its patterns
 * backtrack: each the start of a form repeated with no end, or a long run of what a pattern
 * scans. A figure, never a test (timings vary with the machine); test/unit/redact-redos.test.ts
 * holds the patterns to linear time by recheck's judgement. `npm run bench:redact`.
 */
import { performance } from "node:perf_hooks";
import { redact, rememberSecret } from "../ops/lib/redact";

const SIZE = 100 * 1024;
const fill = (unit: string, head = "", tail = "") => head + unit.repeat(Math.ceil((SIZE - head.length - tail.length) / unit.length)) + tail;

/** The inputs of the attack of 2026-12-05 and the start of each form. */
const INPUTS: Record<string, string> = {
  "spaces": fill(" "),
  "a table row, spaces before its closing border": fill(" ", " DATABASE_PASSWORD │ 3f2a9c", "│ Deployed "),
  "a table row, tabs and spaces": fill("\t ", "| password |", "|x"),
  "spaces, then a column-aligned name": fill(" ", "", "gaia:dbPassword  x"),
  "'<token x' lines": fill("<token x\n"),
  "'<password ' repeated": fill("<password "),
  "an unclosed CDATA repeated": fill("<password><![CDATA["),
  "'x://' repeated": fill("x://"),
  "'a://b:' repeated": fill("a://b:"),
  "'://::' repeated": fill("://::"),
  "a URL's userinfo with no '@'": fill("p", "postgres://u:"),
  "'\"password\":\"' repeated": fill('"password":"'),
  "'password=' repeated": fill("password="),
  "'TPWDUPD-TEI' repeated (many names in one)": fill("TPWDUPD-TEI"),
  "'{password: ' repeated": fill("{password: "),
  "'- password: ' lines": fill("- password: x\n"),
  "'redis-cli ' repeated": fill("redis-cli "),
  "percent-encoded URL starts": fill("%3A%2F%2Fa%3A"),
  "OSC escapes with no end": fill("\x1b]0;"),
  "'[secret] => ' repeated": fill("[secret] => "),
  "'--password ' repeated": fill("--password "),
  "a JSON array left open": fill('"x",', '"passwords": ['),
  "base64 without a break": fill("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkrLw=="),
  // The forms added after the second attack of 2026-12-05, and a process holding 200 remembered secrets.
  "'config set ' repeated, --secret last": fill("config set ", "", " --secret"),
  "'docker login ' repeated": fill("docker login "),
  "'-H \"X-Api-Key: ' repeated": fill('-H "X-Api-Key: '),
  "'\"value\": \"' repeated": fill('"value": "'),
  "'\"name\": \"PGPASSWORD\", ' repeated": fill('"name": "PGPASSWORD", '),
  "a PEM key left open": fill("QUJD\n", "-----BEGIN PRIVATE KEY-----\n"),
  "'AUTH a ' lines": fill("AUTH a \n"),
  "'.S' repeated": fill(".S"),
  "'\\\"passcode\\\":[' repeated": fill('\\"passcode\\":['),
  "a staircase of config values, none secret": Array.from({ length: 440 }, (_, i) => `${"\t".repeat(i)}"value": "x",\n`).join("") + '"secret": true',
};
for (let i = 0; i < 200; i += 1) rememberSecret(`remembered-${i}-${"k".repeat(24)}`);

const rows = Object.entries(INPUTS).map(([name, text]) => {
  const times: number[] = [];
  for (let run = 0; run < 3; run += 1) {
    const start = performance.now();
    redact(text);
    times.push(performance.now() - start);
  }
  return { name, kb: Math.round(text.length / 1024), ms: Math.min(...times) };
});
const width = Math.max(...rows.map((r) => r.name.length));
for (const { name, kb, ms } of rows) console.log(`${name.padEnd(width)}  ${String(kb).padStart(4)} KB  ${ms.toFixed(1).padStart(8)} ms`);
console.log(`slowest: ${Math.max(...rows.map((r) => r.ms)).toFixed(1)} ms (best of 3 runs each)`);
