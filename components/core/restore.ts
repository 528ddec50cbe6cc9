/**
 * Restore to a point in time, as a stack operation (`gaia:restore`; docs/restore.md). The
 * environment's PostgreSQL is brought back as its cloud does it, into a new instance beside the
 * one it is restored from; the stack then points everything at the new one (roles, URLs, the
 * secret store, the schema command), and keeps the old one until it is let go:
 *   previous: keep     the old instance stays as it was, protected (the default)
 *   previous: release  its deletion protection and `protect` are lifted (one reviewed `up`)
 *   previous: drop     it leaves the program: the next `up` deletes it (final snapshot as configured)
 * Switching back is removing the block: the old instance is the environment's again (if kept).
 */
import { z } from "zod";

export const PREVIOUS_INSTANCE = ["keep", "release", "drop"] as const;
export type PreviousInstance = (typeof PREVIOUS_INSTANCE)[number];

export interface RestoreConfig {
  /** The moment restored to, as given (RFC 3339 with an offset). */
  pointInTime: string;
  /** The same moment, in UTC with the offset Z, as the clouds' APIs take it. */
  at: string;
  /** What names the restored instance: `r` and the moment's UTC minute (`r202612051030`). */
  label: string;
  previous: PreviousInstance;
}

export const restoreSchema = z.object({ pointInTime: z.string(), previous: z.enum(PREVIOUS_INSTANCE) }).partial().strict();

/**
 * RFC 3339 with an explicit offset, as RDS (restore_time: "UTC format", ValidUTCTimestamp),
 * Cloud SQL (clone.point_in_time: RFC 3339) and flyctl (`--pitr-time`: time.Parse(time.RFC3339),
 * internal/command/mpg/restore.go) take it; a time without an offset would mean another moment
 * on each.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Each field within its range, as RFC 3339 section 5.7 has them: a date parser rolls the rest
 * over (JavaScript's Date reads "2026-02-30" as 2 March and "24:00" as the next day's midnight),
 * and a restore would go to another moment than the one written. A leap second (60) is refused:
 * none of the clouds' APIs takes one.
 */
function fieldsInRange(match: RegExpExecArray): boolean {
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const offset = match[8] === "Z" ? undefined : match[8]!.slice(1).split(":").map(Number);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23 && minute <= 59 && second <= 59 && (!offset || (offset[0]! <= 23 && offset[1]! <= 59));
}

/** Where a restore's label goes: RDS identifiers are at most 63 characters, and a replica adds `-replica-N`. */
export const restoredName = (name: string, restore: RestoreConfig | undefined) => (restore ? `${name}-${restore.label}` : name);

/**
 * The restore block resolved, or its problems. `now` is the plan's moment: a point in time must
 * lie in the past and inside the recovery window the environment keeps.
 */
export function resolveRestore(
  given: z.infer<typeof restoreSchema> | undefined,
  /** platformWindow: the platform's recovery window (PlatformCapabilities.pitrDays): days, "platform" (its own terms), or null (no backups). */
  environment: { pitr: boolean; pitrDays: number; platformWindow: { min: number; max: number } | "platform" | null; platform: string },
  now: Date,
): { restore?: RestoreConfig; problems: string[] } {
  if (given === undefined) return { problems: [] };
  const problems: string[] = [];
  if (environment.platformWindow === null) {
    return { problems: [`gaia:restore: ${environment.platform} keeps no backups to restore from: remove gaia:restore (a local server's backups are its own; docs/restore.md).`] };
  }
  if (given.pointInTime === undefined) return { problems: ['gaia:restore.pointInTime is required: set the moment to restore to, e.g. "2026-12-05T10:30:00Z" (RFC 3339, with Z or an offset).'] };
  const match = RFC3339.exec(given.pointInTime);
  const moment = match && fieldsInRange(match) ? new Date(given.pointInTime) : undefined;
  if (!match || !moment || Number.isNaN(moment.getTime())) {
    return { problems: [`gaia:restore.pointInTime "${given.pointInTime}" is not an RFC 3339 time with an offset: write it as "2026-12-05T10:30:00Z" (Z for UTC, or +hh:mm).`] };
  }
  if (moment.getTime() > now.getTime()) {
    problems.push(`gaia:restore.pointInTime ${given.pointInTime} is in the future (now ${now.toISOString()}): set a moment that has passed.`);
  }
  if (environment.platformWindow !== "platform") {
    if (!environment.pitr) {
      problems.push(`gaia:restore: the environment keeps no point-in-time recovery (gaia:backups.pitr is false), so there is no log to restore ${given.pointInTime} from: restore from a snapshot by hand (docs/restore.md), or remove gaia:restore.`);
    } else if (moment.getTime() < now.getTime() - environment.pitrDays * 86_400_000) {
      problems.push(`gaia:restore.pointInTime ${given.pointInTime} is older than the recovery window of ${environment.pitrDays} day(s) (gaia:backups.pitrDays): set a moment after ${new Date(now.getTime() - environment.pitrDays * 86_400_000).toISOString()}.`);
    }
  }
  const at = moment.toISOString().replace(/\.000Z$/, "Z");
  const label = `r${at.slice(0, 16).replace(/[-T:]/g, "")}`;
  return { restore: { pointInTime: given.pointInTime, at, label, previous: given.previous ?? "keep" }, problems };
}

/** What a stack's last update applied of a restore (its `restore` output), to compare the stack file with. */
export interface AppliedRestore {
  label: string;
  previous: PreviousInstance;
}

/**
 * A restore that dropped the previous instance cannot be undone by the stack file: without the
 * block (or with another moment), the program would make a new, empty instance under the old
 * name, or restore from the instance that is gone. Refused before any resource, in the terms of
 * the file.
 */
export function restoreStepProblems(applied: AppliedRestore | null | undefined, restore: RestoreConfig | undefined): string[] {
  if (applied?.previous !== "drop" || restore?.label === applied.label) return [];
  return [
    `gaia:restore: the last update dropped the previous instance and serves the one restored as ${applied.label}; ` +
      (restore
        ? `a restore to ${restore.pointInTime} would restore from the instance that is gone: restore from ${applied.label}'s backups by hand (docs/restore.md), or set gaia:restore.pointInTime back.`
        : "without gaia:restore the stack would make a new, empty instance under the old name: keep the gaia:restore block as it was."),
  ];
}
