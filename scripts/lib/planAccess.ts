import type { GaiaConfig } from "../../components/config";
import { platformOf } from "../../components/platforms";
import { mayDo, stackReach } from "../../components/access";
import { PRIVILEGES, type Reach } from "../../policy/access";
import { PLAN_WIDTH, wrapLine } from "./planWidth";

/**
 * The access policy in the plan, in the clear: the schema command carries it in an environment
 * that is secret as a whole (it holds the owner's URL), so without this section a grant change
 * would be "no change" in every diff. One line per role and table, what the role may do there,
 * `!` where the table holds credentials; the diff reads these lines back (`readAccess`).
 */
const TITLE = "access (policy/access.ts): what each role may do, per table; ! marks a table holding credentials";
const WRITES = new Set<string>(PRIVILEGES.filter((p) => p !== "SELECT"));


export function accessLines(config: GaiaConfig): string[] {
  return renderAccess(stackReach(config), platformOf(config).capabilities.perTableGrants ? "" : ` (on ${config.platform}, each user's role kind over every table)`);
}

/** The section for `reach`, its title followed by `note`. */
export function renderAccess(reach: readonly Reach[], note = ""): string[] {
  const roleWidth = Math.max(...reach.map((r) => r.role.length));
  const tableWidth = Math.max(...reach.map((r) => r.table.length)) + 2;
  return [`${TITLE}${note}`, ...reach.flatMap((r) => // A long column list goes on past the privileges' column (`readAccess` joins it back).
    wrapLine(`  ${r.role.padEnd(roleWidth)}  ${`${r.table}${r.credentials ? " !" : ""}`.padEnd(tableWidth)}  ${mayDo(r)}`, PLAN_WIDTH, " ".repeat(4 + roleWidth + tableWidth + 2)))];
}



interface ReadReach {
  privileges: string[];
  columns?: string[];
  credentials: boolean;
}

/** A plan text's access section, read back: "role table" -> what it may do there. Empty for a plan without one. */
export function readAccess(text: string): Map<string, ReadReach> {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("access ("));
  const found = new Map<string, ReadReach>();
  if (start < 0) return found;
  // The section runs to the blank line after it; a line indented past the entries' two spaces goes on from the one before.
  const entries: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith("  ")) break;
    if (line.startsWith("   ") && entries.length) entries[entries.length - 1] += ` ${line.trim()}`;
    else entries.push(line);
  }
  for (const entry of entries) {
    const m = /^ {2}(\S+) +(\S+)( !)? +([A-Z, ]+?)(?: \(columns ([^)]*)\))?$/.exec(entry);
    // Never stop at a line it cannot read: what follows would drop out of every diff unseen.
    if (!m) throw new Error(`the plan's access section has a line it cannot read, "${entry.trim()}": fix scripts/lib/planAccess.ts (renderAccess, readAccess).`);
    found.set(`${m[1]} ${m[2]}`, { privileges: m[4]!.split(", "), ...(m[5] ? { columns: m[5].split(", ") } : {}), credentials: m[3] !== undefined });
  }
  return found;
}

/** No access change is wider than this: the diff indents it by 4, within the plan's 160 columns and the head's 150 (summaryDiff.ts). */
export const ACCESS_CHANGE_WIDTH = 146;

export interface AccessChange {
  line: string;
  /** A write privilege the role did not have on that table. */
  newWrite: boolean;
  /** More reach into a table that holds credentials. */
  credentials: boolean;
}

/** What changes in who may do what, a line per role and table: "assets: + INSERT, UPDATE, DELETE on auth.users". */
export function accessChanges(before: Map<string, ReadReach>, after: Map<string, ReadReach>, width = ACCESS_CHANGE_WIDTH): AccessChange[] {
  const changes: AccessChange[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const [role, table] = key.split(" ") as [string, string];
    const was = before.get(key);
    const now = after.get(key);
    const added = (now?.privileges ?? []).filter((p) => !was?.privileges.includes(p));
    const removed = (was?.privileges ?? []).filter((p) => !now?.privileges.includes(p));
    // Columns: the whole table (none listed) is wider than any columns.
    const widened = now !== undefined && was !== undefined && was.columns !== undefined && (now.columns === undefined || now.columns.some((c) => !was.columns!.includes(c)));
    const narrowed = now !== undefined && was !== undefined && now.columns !== undefined && (was.columns === undefined || was.columns.some((c) => !now.columns!.includes(c)));
    const credentials = Boolean(now?.credentials);
    // A table that comes to hold credentials (a secret column added to the policy) is new reach
    // into credentials for every role that keeps reading it, though no grant changed.
    const holds = was !== undefined && now !== undefined && was.credentials !== now.credentials ? (now.credentials ? "now holds" : "no longer holds") : "";
    const parts: string[] = [];
    if (added.length) parts.push(`+ ${added.join(", ")}`);
    if (removed.length) parts.push(`- ${removed.join(", ")}`);
    // What the columns gain and lose, not both lists (a table's list alone nears the line's width),
    // each list cut to its first `shown` names where the line would be too wide.
    const columnParts = (shown: number): string[] => {
      if (!widened && !narrowed) return [];
      const list = (names: readonly string[]) => (names.length <= shown ? names.join(", ") : `${names.slice(0, shown).join(", ")} and ${names.length - shown} more`);
      const [from, to] = [was!.columns, now!.columns];
      if (to === undefined) return [`columns all (were ${from!.length} listed)`];
      if (from === undefined) return [`columns only ${list(to)} (were all)`];
      const gained = to.filter((c) => !from.includes(c));
      const lost = from.filter((c) => !to.includes(c));
      return [...(gained.length ? [`columns + ${list(gained)}`] : []), ...(lost.length ? [`columns - ${list(lost)}`] : [])];
    };
    if (parts.length === 0 && columnParts(Infinity).length === 0 && holds) parts.push(`keeps ${now!.privileges.join(", ")}`);
    if (parts.length === 0 && columnParts(Infinity).length === 0) continue;
    const newWrite = added.some((p) => WRITES.has(p));
    const reachesCredentials = credentials && (added.length > 0 || widened || holds === "now holds");
    const flags = [newWrite ? "a new write" : "", reachesCredentials ? "the table holds credentials" : ""].filter(Boolean);
    const where = ` on ${table}${holds ? `, which ${holds} credentials` : ""}${flags.length ? `  [${flags.join("; ")}]` : ""}`;
    // Within `width`: what changes is cut, never the role, the table or the flags.
    const room = width - role.length - 2 - where.length;
    let shown = Infinity;
    const whatWith = (n: number) => [...parts, ...columnParts(n)].join("; ");
    for (let n = 8; whatWith(shown).length > room && n >= 1; n--) shown = n;
    const what = whatWith(shown);
    changes.push({
      line: `${role}: ${what.length <= room ? what : `${what.slice(0, Math.max(room - 1, 0))}…`}${where}`,
      newWrite,
      credentials: reachesCredentials,
    });
  }
  return changes;
}
