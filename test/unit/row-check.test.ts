import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COMMIT_ORDER_SLACK_US, checkRows, recoveryPointSeconds, rowProblems, type CommittedRow } from "../../scripts/lib/rowCheck";

/** Commit times (µs) of a run of rows, in any order, some equal (commits in the same microsecond). */
const oracleArb = fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 200 }).map((times) =>
  times.map((t, i): CommittedRow => ({ id: `row-${i}`, committedUs: BigInt(t) })),
);

const restoredAt = (oracle: CommittedRow[], target: bigint) => oracle.filter((r) => r.committedUs <= target).map((r) => r.id);

/** A target at one of the oracle's commit times (`t`), the rows on each side of it, and one row before it (`pick`). */
function cut(oracle: CommittedRow[], t: number, pick: number) {
  const times = oracle.map((r) => r.committedUs).sort((a, b) => (a < b ? -1 : 1));
  const target = times[t % times.length]!;
  const before = oracle.filter((r) => r.committedUs <= target);
  const after = oracle.filter((r) => r.committedUs > target);
  return { target, before, after, dropped: before[pick % before.length]! };
}

describe("the restore drill's row check (scripts/lib/rowCheck.ts)", () => {
  it("passes a restore that holds exactly the rows committed at or before the target, for every target", () => {
    fc.assert(
      fc.property(oracleArb, fc.integer({ min: -1, max: 10_000_001 }), (oracle, t) => {
        const target = BigInt(t);
        const check = checkRows(oracle, restoredAt(oracle, target), target);
        expect(rowProblems(check, "T")).toEqual([]);
        expect(check.kept + check.lost).toBe(oracle.length);
        expect(check.lost).toBe(oracle.filter((r) => r.committedUs > target).length);
      }),
      { seed: 29, numRuns: 300 },
    );
  });

  it("names a row committed before the target that is missing, one after it that is present, and one never committed", () => {
    fc.assert(
      fc.property(oracleArb, fc.nat(), fc.nat(), (oracle, t, pick) => {
        const { target, after, dropped: { id: dropped } } = cut(oracle, t, pick);
        const restored = restoredAt(oracle, target);
        // Without slack: commit-time order taken as WAL order.
        expect(checkRows(oracle, restored.filter((id) => id !== dropped), target, 0n).missing).toEqual([dropped]);
        if (after.length) {
          const extra = after[pick % after.length]!.id;
          expect(checkRows(oracle, [...restored, extra], target).afterTarget).toEqual([extra]);
        }
        expect(checkRows(oracle, [...restored, "phantom"], target).unknown).toEqual(["phantom"]);
      }),
      { seed: 29, numRuns: 300 },
    );
  });

  it("lets a row stamped within the slack before the cut be on either side of it (commit time is taken before the WAL record), and no further", () => {
    fc.assert(
      fc.property(oracleArb, fc.nat(), fc.nat(), (oracle, t, pick) => {
        const { target, dropped } = cut(oracle, t, pick);
        const check = checkRows(oracle, restoredAt(oracle, target).filter((id) => id !== dropped.id), target);
        const inSlack = dropped.committedUs > target - COMMIT_ORDER_SLACK_US;
        expect(check.missing).toEqual(inSlack ? [] : [dropped.id]);
        expect(check.atCut).toBe(inSlack ? 1 : 0);
      }),
      { seed: 29, numRuns: 300 },
    );
  });

  it("to the archive's end: passes any prefix of the commit order, and finds a gap in it", () => {
    const oracle = [1, 2, 3, 4, 5].map((s): CommittedRow => ({ id: `r${s}`, committedUs: BigInt(s * 1_000_000) }));
    const prefix = checkRows(oracle, ["r1", "r2", "r3"]);
    expect(rowProblems(prefix, "the end")).toEqual([]);
    expect(prefix.lost).toBe(2);
    // RPO: from the newest row kept (3 s) to the newest committed row lost (5 s).
    expect(recoveryPointSeconds(prefix)).toBe(2);
    const gap = checkRows(oracle, ["r1", "r3"]);
    expect(rowProblems(gap, "the end")).toEqual(["1 row(s) committed before the end are missing (r2)"]);
    expect(recoveryPointSeconds(checkRows(oracle, ["r1", "r2", "r3", "r4", "r5"]))).toBe(0);
    expect(recoveryPointSeconds(checkRows(oracle, []))).toBe(Number.POSITIVE_INFINITY);
  });
});
