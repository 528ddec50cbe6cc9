/**
 * Restore to a point in time, as a stack operation (`gaia:restore`; docs/restore.md). The
 * environment's PostgreSQL is brought back as its cloud does it, into a new instance beside the
 * one it is restored from; the stack then points everything at the new one (roles, URLs, the
 * secret store, the schema command), and keeps the old one until it is let go:
 *   previous: keep     the old instance stays as it was, protected (the default)
 *   previous: release  its deletion protection and `protect` are lifted (one reviewed `up`)
 *   previous: drop     it leaves the program: the next `up` deletes it (final snapshot as configured)
 * Switching back takes two updates: `serve: previous` (the old instance serves again, the
 * restored one's protection lifted), then the block removed (the restored one deleted). What an
 * update applied is compared with the file by restoreStepProblems, so no step is skipped.
 */
import { z } from "zod";

export const PREVIOUS_INSTANCE = ["keep", "release", "drop"] as const;
export type PreviousInstance = (typeof PREVIOUS_INSTANCE)[number];
export const SERVING_INSTANCE = ["restored", "previous"] as const;
export type ServingInstance = (typeof SERVING_INSTANCE)[number];

export interface RestoreConfig {
  /** The moment restored to, as given (RFC 3339 with an offset). */
  pointInTime: string;
  /** The same moment, in UTC with the offset Z, as the clouds' APIs take it. */
  at: string;
  /** What names the restored instance: `r` and the moment's UTC minute (`r202612051030`). */
  label: string;
  previous: PreviousInstance;
  /** Which instance serves: the restored one (the default), or the previous one again (switching back). */
  serve: ServingInstance;
}

export const restoreSchema = z.object({ pointInTime: z.string(), previous: z.enum(PREVIOUS_INSTANCE), serve: z.enum(SERVING_INSTANCE) }).partial().strict();

/** The restore label of the instance that serves, where a restored one does; undefined where the environment's own serves. */
export const servingRestore = (restore: RestoreConfig | undefined): string | undefined => (restore?.serve === "restored" ? restore.label : undefined);

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

/** An instance's part in a restore: restored from `from`, or `released` (let go). */
export interface RestoreRole {
  from?: string;
  released?: boolean;
}

/**
 * The tags (AWS) or labels (GCP) the policy pack reads of a restore (policy-pack/rules.ts): the
 * instance restored and from where, and the instance let go.
 */
export function restoreMarks(restore: RestoreConfig | undefined, role: RestoreRole): Record<string, string> {
  return {
    ...(restore && role.from ? { "restored-from": role.from, "restored-to": restore.label } : {}),
    ...(restore && role.released ? { "released-for": restore.label } : {}),
  };
}

/** Deletion protection and `protect` for an instance, both lifted where the restore let it go. */
export function restoreProtection<O extends object>(role: RestoreRole, deletionProtection: boolean, stateful: O): { deletionProtection: boolean; options: O & { protect?: boolean } } {
  return role.released ? { deletionProtection: false, options: { ...stateful, protect: false } } : { deletionProtection, options: stateful };
}

/**
 * The restore block resolved, or its problems: what the file alone shows (the format, a moment to
 * come, an environment without point-in-time recovery, a contradiction). The recovery window is
 * checked where the restore is new (restoreStepProblems): once made, a restore stays in the file
 * long after its moment has left the window.
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
  if (environment.platformWindow !== "platform" && !environment.pitr) {
    problems.push(`gaia:restore: the environment keeps no point-in-time recovery (gaia:backups.pitr is false), so there is no log to restore ${given.pointInTime} from: restore from a snapshot by hand (docs/restore.md), or remove gaia:restore.`);
  }
  if (given.serve === "previous" && given.previous === "drop") {
    problems.push("gaia:restore: serve: previous asks the previous instance to serve, and previous: drop deletes it: to switch back, set previous: keep; to let it go, serve: restored.");
  }
  const at = moment.toISOString().replace(/\.000Z$/, "Z");
  const label = `r${at.slice(0, 16).replace(/[-T:]/g, "")}`;
  return { restore: { pointInTime: given.pointInTime, at, label, previous: given.previous ?? "keep", serve: given.serve ?? "restored" }, problems };
}

/** What a stack's last update applied of a restore (its `restore` output), to compare the stack file with. */
export interface AppliedRestore {
  label: string;
  /** The moment, in UTC (RestoreConfig.at); absent in what updates before it was recorded applied. */
  at?: string;
  previous: PreviousInstance;
  serve?: ServingInstance;
}

export const appliedRestore = (restore: RestoreConfig | undefined): AppliedRestore | null =>
  restore ? { label: restore.label, at: restore.at, previous: restore.previous, serve: restore.serve } : null;

/**
 * The stack file against what the last update applied: `applied` null when it applied no restore,
 * undefined when that is not known (an offline plan, which has no state): then nothing here is
 * checked, and `pulumi preview`/`up` check it. Each refusal says the step to take instead.
 *   - A new restore: its moment inside the recovery window the environment keeps, now.
 *   - A restore made: its moment never changes (another moment would delete the restored instance,
 *     writes since included, and restore from the previous one); a dropped previous instance never
 *     comes back (without the block, or with keep, the program would make a new, empty one under
 *     its name); the block goes only once the previous instance serves again (serve: previous),
 *     so the restored one is no longer protected when it is deleted.
 */
export function restoreStepProblems(
  applied: AppliedRestore | null | undefined,
  restore: RestoreConfig | undefined,
  window: { pitrDays: number; platformWindow: { min: number; max: number } | "platform" | null },
  now: Date,
): string[] {
  if (applied === undefined) return [];
  // The previous instance is deleted only once an update lifted its protection (previous: release
  // while the restored one served): otherwise Pulumi or the cloud refuses the delete at the end
  // of an update whose other steps (the restore, the URLs moved) have already run.
  const released = applied !== null && (applied.previous === "drop" || (applied.previous === "release" && applied.serve !== "previous"));
  const dropProblems =
    restore?.previous === "drop" && !released && (!applied || ((applied.at ?? restore.at) === restore.at && applied.label === restore.label))
      ? [`gaia:restore.previous: drop deletes the previous instance, which the last update left protected (${applied ? `previous: ${applied.previous}, serve: ${applied.serve ?? "restored"}` : "no restore applied"}): set previous: release first (serve: restored; its protection lifted in one reviewed update), then drop in the next update.`]
      : [];
  if (!applied) {
    // Fly keeps its window on its own terms (PlatformCapabilities.pitrDays "platform"): flyctl says whether it covers the moment.
    if (!restore || window.platformWindow === "platform" || window.platformWindow === null) return dropProblems;
    const earliest = now.getTime() - window.pitrDays * 86_400_000;
    return new Date(restore.at).getTime() < earliest
      ? [`gaia:restore.pointInTime ${restore.pointInTime} is older than the recovery window of ${window.pitrDays} day(s) (gaia:backups.pitrDays): set a moment after ${new Date(earliest).toISOString()}.`, ...dropProblems]
      : dropProblems;
  }
  const made = `the last update restored to ${applied.at ?? applied.label} (${applied.label})`;
  if (!restore) {
    if (applied.previous === "drop") {
      return [`gaia:restore: ${made} and dropped the previous instance; without gaia:restore the stack would make a new, empty instance under the old name: keep the gaia:restore block as it was.`];
    }
    if (applied.serve !== "previous") {
      return [`gaia:restore: ${made}, and that instance serves and is protected: to switch back, first set gaia:restore.serve: previous (the previous instance serves again, the restored one's protection is lifted), then remove the block in the next update.`];
    }
    return [];
  }
  const problems: string[] = [];
  if ((applied.at ?? restore.at) !== restore.at || applied.label !== restore.label) {
    problems.push(
      applied.previous === "drop"
        ? `gaia:restore: ${made} and dropped the previous instance; a restore to ${restore.pointInTime} would restore from the instance that is gone: restore from ${applied.label}'s backups by hand (docs/restore.md), or set gaia:restore.pointInTime back.`
        : `gaia:restore.pointInTime: ${made}; a restore to ${restore.pointInTime} would delete that instance, writes since included, and restore from the previous one: set it back, or switch back first (serve: previous, then remove the block) and restore anew.`,
    );
  }
  if (applied.previous === "drop" && restore.previous !== "drop") {
    problems.push(`gaia:restore.previous: ${made} and dropped the previous instance; ${restore.previous} would make a new, empty one under its name: keep previous: drop.`);
  }
  // Switched back, the previous instance took the writes since: the restored one lacks them.
  if (applied.serve === "previous" && restore.serve === "restored") {
    problems.push(`gaia:restore.serve: ${made} and then switched back, so the previous instance has taken writes the restored one lacks; serving the restored one again would lose them: remove the block (the restored instance is deleted), then restore anew to the moment you need.`);
  }
  return [...problems, ...dropProblems];
}
