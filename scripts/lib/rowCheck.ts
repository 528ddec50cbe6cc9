/**
 * The restore drill's row check: a restore to a target keeps exactly the rows committed at or
 * before it. The oracle is every row the lost server had committed, with its commit time (read
 * from the lost server's own data directory, recovered from its own WAL after the crash); the
 * restored rows are what the restore holds.
 */
export interface CommittedRow {
  id: string;
  /** Commit time in microseconds since the epoch (pg_xact_commit_timestamp). */
  committedUs: bigint;
}

export interface RowCheck {
  /** Rows the check compared: every row the lost server committed. */
  checked: number;
  kept: number;
  /** Committed at or before the target, and missing from the restore. */
  missing: string[];
  /** Committed after the target, and present in the restore. */
  afterTarget: string[];
  /** In the restore, and never committed by the lost server. */
  unknown: string[];
  /** Committed after the target (rightly absent); for the latest restore: what the restore lost. */
  lost: number;
  /** Of those, stamped within COMMIT_ORDER_SLACK_US before the cut (after it in WAL order). */
  atCut: number;
  /** Commit time of the newest kept row; undefined when none was kept. */
  newestKeptUs?: bigint;
  /** Commit time of the newest lost row. */
  newestLostUs?: bigint;
}

/**
 * Compares the restore with the oracle. `targetUs` is the recovery target (commits at or before
 * it kept: recovery_target_inclusive); undefined for a restore to the archive's end, where the
 * target is what the restore reached: the newest row it kept, and every row committed before
 * that must be there too (the restore is a prefix of the commit order, with no gap).
 */
/**
 * How far commit-time order may stray from WAL order. A commit's time is taken before its record
 * goes into the WAL (src/backend/access/transam/xact.c RecordTransactionCommit:
 * `XactLogCommitRecord(GetCurrentTransactionStopTimestamp(), …)`), and concurrent commits enter
 * the WAL in the order they get its insert lock: a commit stamped a little earlier may land
 * after one stamped later. Recovery stops at the first commit record past the target in WAL
 * order, so a row stamped within this much before the cut may rightly be on either side of it.
 */
export const COMMIT_ORDER_SLACK_US = 10_000n;

export function checkRows(oracle: readonly CommittedRow[], restored: readonly string[], targetUs?: bigint, slackUs = COMMIT_ORDER_SLACK_US): RowCheck {
  const committed = new Map(oracle.map((r) => [r.id, r.committedUs]));
  const present = new Set(restored);
  const unknown = restored.filter((id) => !committed.has(id));
  let target = targetUs;
  if (target === undefined) {
    for (const row of oracle) if (present.has(row.id) && (target === undefined || row.committedUs > target)) target = row.committedUs;
  }
  const check: RowCheck = { checked: oracle.length, kept: 0, missing: [], afterTarget: [], unknown, lost: 0, atCut: 0 };
  for (const row of oracle) {
    const before = target !== undefined && row.committedUs <= target;
    if (present.has(row.id)) {
      check.kept++;
      if (!before) check.afterTarget.push(row.id);
      else if (check.newestKeptUs === undefined || row.committedUs > check.newestKeptUs) check.newestKeptUs = row.committedUs;
    } else if (before && row.committedUs <= target! - slackUs) {
      check.missing.push(row.id);
    } else {
      // Stamped at or within the slack before the cut, yet after it in WAL order: rightly absent.
      if (before) check.atCut++;
      check.lost++;
      if (check.newestLostUs === undefined || row.committedUs > check.newestLostUs) check.newestLostUs = row.committedUs;
    }
  }
  return check;
}

/** What a check found wrong, in sentences; empty when the restore holds exactly what it should. */
export function rowProblems(check: RowCheck, target: string): string[] {
  const sample = (ids: string[]) => `${ids.slice(0, 3).join(", ")}${ids.length > 3 ? `, and ${ids.length - 3} more` : ""}`;
  return [
    ...(check.missing.length ? [`${check.missing.length} row(s) committed before ${target} are missing (${sample(check.missing)})`] : []),
    ...(check.afterTarget.length ? [`${check.afterTarget.length} row(s) committed after ${target} are present (${sample(check.afterTarget)})`] : []),
    ...(check.unknown.length ? [`${check.unknown.length} row(s) the lost server never committed are present (${sample(check.unknown)})`] : []),
  ];
}

/**
 * RPO, in seconds: the span of committed data the restore lost, from the newest row it kept to
 * the newest committed row it lost; 0 when it lost none, infinite when it kept none.
 */
export function recoveryPointSeconds(check: RowCheck): number {
  if (check.newestLostUs === undefined) return 0;
  if (check.newestKeptUs === undefined) return Number.POSITIVE_INFINITY;
  return Number(check.newestLostUs - check.newestKeptUs) / 1e6;
}
