import { accessChanges, readAccess, type AccessChange } from "./planAccess";
import { wrapLine } from "./planWidth";

/**
 * The head of a plan diff, read before the resources: what changes in the summary (pools,
 * class, backups, cost) and in the access section (who may do what), both from the plan texts.
 * A stack with no committed plan gets its summary and access in full.
 */
export interface HeadDiff {
  lines: string[];
  access: AccessChange[];
}

/** Each summary entry of a plan text (`  key:  value` under `summary (…):`), by key; the title as `preset`. */
export function readSummary(text: string): Map<string, string> {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("summary ("));
  const found = new Map<string, string>();
  if (start < 0) return found;
  found.set("preset", lines[start]!.replace(/^summary \((.*)\):$/, "$1"));
  let last: string | undefined;
  for (const line of lines.slice(start + 1)) {
    // A value too long for one line goes on over the next, indented past the keys (planSummary.ts).
    if (last !== undefined && /^ {3,}\S/.test(line)) {
      found.set(last, `${found.get(last)!} ${line.trim()}`);
      continue;
    }
    const m = /^ {2}([A-Za-z][A-Za-z ]*):\s+(.*)$/.exec(line);
    if (!m) break;
    found.set(m[1]!, m[2]!);
    last = m[1]!;
  }
  return found;
}

/** No line of the head is wider than this (the plan's width, less the diff's indent). */
const WIDTH = 150;

export function headDiff(beforeText: string, afterText: string): HeadDiff {
  const after = readSummary(afterText);
  if (beforeText.trim() === "") {
    const lines = afterText.split("\n");
    const start = lines.findIndex((l) => l.startsWith("summary ("));
    const end = lines.findIndex((l, i) => i > start && l.startsWith("+ "));
    const head = start < 0 ? [] : lines.slice(start, end < 0 ? undefined : end).filter((l) => l.trim() !== "");
    // The plan's lines, up to its width, one level deeper: a longer one goes on over the next lines.
    return { lines: ["a new stack: its summary and access in full", ...head.flatMap((l) => wrapLine(`  ${l}`, WIDTH, `${" ".repeat(l.length - l.trimStart().length + 2)}    `))], access: accessChanges(new Map(), readAccess(afterText)) };
  }
  const before = readSummary(beforeText);
  const lines: string[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])]) {
    const was = before.get(key);
    const now = after.get(key);
    if (was === now) continue;
    // A class that moved with the pools: say what the pools need now. The pools' line also holds
    // the server's limit and headroom, which a class set by hand changes: only what they need counts.
    const needs = (line: string | undefined) => /= (\d+) connections/.exec(line ?? "")?.[1];
    const needed = needs(after.get("pools"));
    const why = key === "server" && needed && needs(before.get("pools")) !== needed ? `, because the pools need ${needed} connections` : key === "cost" ? costChange(was, now) : "";
    lines.push(changed(key, was ?? "(none)", now ?? "(none)", why));
  }
  const access = accessChanges(readAccess(beforeText), readAccess(afterText));
  return { lines: [...(lines.length ? ["summary:", ...lines.map((l) => `  ${l}`)] : []), ...(access.length ? ["access:", ...access.map((a) => `  ${a.line}`)] : [])], access };
}


/**
 * `key: before -> after`, within WIDTH: a long value is cut to the words around what differs
 * (the common start and end elided), so a pool change in a long line still shows the pools;
 * `why` (the pools behind a class) is kept whole.
 */
function changed(key: string, was: string, now: string, why: string): string {
  const whole = `${key}: ${was} -> ${now}${why}`;
  if (whole.length <= WIDTH) return whole;
  const a = was.split(" ");
  const b = now.split(" ");
  let head = 0;
  while (head < Math.min(a.length, b.length) && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < Math.min(a.length, b.length) - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const cut = (words: string[]) => `${head ? "… " : ""}${words.slice(head, words.length - tail).join(" ")}${tail ? " …" : ""}`;
  const short = `${key}: ${cut(a)} -> ${cut(b)}`;
  if (short.length + why.length <= WIDTH) return `${short}${why}`;
  // Still too long: the runs of words both sides share elided wherever they are (the pools'
  // middle), keeping a word either side of each difference, so the differences at both ends show.
  const [x, y] = elided(a, b);
  const middle = `${key}: ${x} -> ${y}`;
  if (middle.length + why.length <= WIDTH) return `${middle}${why}`;
  // Still too long: each side cut to its half of the room, so both stay in view.
  const room = Math.floor((WIDTH - why.length - key.length - 6) / 2);
  const half = (text: string) => (text.length <= room ? text : `${text.slice(0, room - 1)}…`);
  return `${key}: ${half(cut(a))} -> ${half(cut(b))}${why}`;
}

/** Both sides' words with the runs they share (longest common subsequence) elided, a word of context kept at each side of a difference. */
function elided(a: string[], b: string[]): [string, string] {
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const sharedA = new Array<boolean>(a.length).fill(false);
  const sharedB = new Array<boolean>(b.length).fill(false);
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) {
      sharedA[i++] = true;
      sharedB[j++] = true;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) i++;
    else j++;
  }
  const side = (words: string[], shared: boolean[]) => {
    // A shared word is kept when it is next to one that differs.
    const keep = words.map((_, i) => !shared[i] || (i > 0 && !shared[i - 1]) || (i < words.length - 1 && !shared[i + 1]));
    const out: string[] = [];
    words.forEach((word, i) => {
      if (keep[i]) out.push(word);
      else if (out.at(-1) !== "…") out.push("…");
    });
    return out.join(" ");
  };
  return [side(a, sharedA), side(b, sharedB)];
}

/**
 * The month's change in dollars, from the two cost lines' totals ("at least $29/month" -> "at least $53/month": " (+$24/month)").
 * Only where both price the same parts: a total that is a floor moves when a part loses or gains
 * its price (a class without a verified figure), so a bigger server would read as a saving.
 */
function costChange(was: string | undefined, now: string | undefined): string {
  const total = (line: string | undefined) => Number(/\$([\d,]+)\/month/.exec(line ?? "")?.[1]?.replaceAll(",", "") ?? NaN);
  const unpriced = (line: string | undefined) => /unpriced: ([^;)]*)/.exec(line ?? "")?.[1]?.split(", ") ?? [];
  if (!Number.isFinite(total(was)) || !Number.isFinite(total(now))) return "";
  const [before, after] = [unpriced(was), unpriced(now)];
  const newly = after.filter((part) => !before.includes(part));
  const priced = before.filter((part) => !after.includes(part));
  if (newly.length || priced.length) {
    const said = [newly.length ? `${newly.join(", ")} ${newly.length > 1 ? "are" : "is"} not priced` : "", priced.length ? `${priced.join(", ")} ${priced.length > 1 ? "were" : "was"} not priced` : ""];
    return ` (${said.filter(Boolean).join("; ")}: the change in cost is not known)`;
  }
  const delta = total(now) - total(was);
  if (!Number.isFinite(delta) || delta === 0) return "";
  return ` (${delta > 0 ? "+" : "-"}$${Math.abs(delta).toLocaleString("en-US")}/month)`;
}
