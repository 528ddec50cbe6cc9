/** gaia:restore (components/core/restore.ts): each refusal with its sentence, before any resource. */
import { describe, expect, it } from "vitest";
import { GaiaConfigError, resolveConfig } from "../../components/config";
import { appliedRestore, restoreStepProblems } from "../../components/core/restore";
import { PLATFORM_FIXTURES } from "../support/stacks";

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function resolve(platform: "aws" | "gcp" | "fly" | "local", extra: Record<string, unknown>, preset = "staging") {
  const fixture = platform === "local" ? undefined : PLATFORM_FIXTURES[platform];
  const raw = {
    platform, preset, adminEmail: "admin@gaia.example",
    ...(fixture ? { region: fixture.region, [platform]: fixture.settings, ...("alerts" in fixture ? { alerts: fixture.alerts } : {}) } : { local: {}, backups: { enabled: false } }),
    ...extra,
  };
  try {
    // The stack is named for its preset: an environment named staging must use the staging preset.
    return { config: resolveConfig(preset === "staging" ? "staging" : `${preset}-x`, raw), problems: [] as string[] };
  } catch (error) {
    expect(error).toBeInstanceOf(GaiaConfigError);
    return { config: undefined, problems: (error as GaiaConfigError).problems };
  }
}

describe("gaia:restore", () => {
  it("takes an RFC 3339 moment inside the recovery window, with an offset, and keeps the previous instance by default", () => {
    const at = Date.now() - 2 * HOUR;
    const { config, problems } = resolve("aws", { restore: { pointInTime: new Date(at).toISOString().replace("Z", "+00:00") } });
    expect(problems).toEqual([]);
    expect(config!.restore).toMatchObject({ at: new Date(at).toISOString().replace(".000Z", "Z"), previous: "keep", serve: "restored" });
    expect(config!.restore!.label).toMatch(/^r\d{12}$/);
    // An offset other than Z names the same moment in UTC: two hours ago, written at +02:00.
    const utc = Math.floor((Date.now() - 2 * HOUR) / 1000) * 1000;
    const atPlusTwo = `${iso(utc + 2 * HOUR).slice(0, 19)}+02:00`;
    const offset = resolve("gcp", { restore: { pointInTime: atPlusTwo } });
    expect(offset.problems).toEqual([]);
    expect(offset.config!.restore!.at).toBe(iso(utc));
    expect(offset.config!.restore!.pointInTime).toBe(atPlusTwo);
  });

  it("refuses a block without pointInTime", () => {
    expect(resolve("aws", { restore: { previous: "keep" } }).problems).toEqual([
      'gaia:restore.pointInTime is required: set the moment to restore to, e.g. "2026-12-05T10:30:00Z" (RFC 3339, with Z or an offset).',
    ]);
  });

  // Fields out of range too, which a date parser would roll over into another moment (30 February: 2 March; 24:00: the next day).
  it.each(["2026-12-05 10:30:00", "2026-12-05T10:30:00", "yesterday", "2026-13-05T10:30:00Z", "2026-02-30T10:30:00Z", "2026-11-31T10:30:00Z", "2026-12-05T24:00:00Z", "2026-12-05T10:60:00Z", "2026-12-05T10:30:60Z", "2026-12-05T10:30:00+24:00"])("refuses %s: not RFC 3339 with an offset", (pointInTime) => {
    expect(resolve("aws", { restore: { pointInTime } }).problems).toEqual([
      `gaia:restore.pointInTime "${pointInTime}" is not an RFC 3339 time with an offset: write it as "2026-12-05T10:30:00Z" (Z for UTC, or +hh:mm).`,
    ]);
  });

  it("refuses a moment in the future", () => {
    const future = iso(Date.now() + 24 * HOUR);
    const [problem] = resolve("aws", { restore: { pointInTime: future } }).problems;
    expect(problem).toMatch(new RegExp(`^gaia:restore\\.pointInTime ${future} is in the future \\(now .+\\): set a moment that has passed\\.$`));
  });

  it("leaves the recovery window to the update that makes the restore: a restore made stays in the file after its moment leaves the window", () => {
    // Four days ago: past staging's 3-day window, yet the file resolves (the check is restoreStepProblems').
    expect(resolve("aws", { restore: { pointInTime: iso(Date.now() - 4 * 24 * HOUR) } }).problems).toEqual([]);
  });

  it("refuses serving the previous instance while dropping it", () => {
    expect(resolve("aws", { restore: { pointInTime: iso(Date.now() - HOUR), previous: "drop", serve: "previous" } }).problems).toEqual([
      "gaia:restore: serve: previous asks the previous instance to serve, and previous: drop deletes it: to switch back, set previous: keep; to let it go, serve: restored.",
    ]);
  });

  it("refuses a restore where the environment keeps no point-in-time recovery (dev)", () => {
    expect(resolve("aws", { restore: { pointInTime: iso(Date.now() - HOUR) } }, "dev").problems).toEqual([
      `gaia:restore: the environment keeps no point-in-time recovery (gaia:backups.pitr is false), so there is no log to restore ${iso(Date.now() - HOUR)} from: restore from a snapshot by hand (docs/restore.md), or remove gaia:restore.`,
    ]);
  });

  it("refuses a restore on local, which keeps no backups", () => {
    expect(resolve("local", { restore: { pointInTime: iso(Date.now() - HOUR) } }, "dev").problems).toEqual([
      "gaia:restore: local keeps no backups to restore from: remove gaia:restore (a local server's backups are its own; docs/restore.md).",
    ]);
  });

  it("leaves Fly's window to Fly (its own terms), refusing only a moment to come", () => {
    expect(resolve("fly", { restore: { pointInTime: iso(Date.now() - 30 * 24 * HOUR) } }).problems).toEqual([]);
    expect(resolve("fly", { restore: { pointInTime: iso(Date.now() + HOUR) } }).problems[0]).toMatch(/is in the future/);
  });

  it("refuses an unknown previous and an unknown key, naming the choices", () => {
    const at = iso(Date.now() - HOUR);
    expect(resolve("aws", { restore: { pointInTime: at, previous: "delete" } }).problems[0]).toMatch(/^gaia:restore\.previous: Invalid option: expected one of "keep"\|"release"\|"drop" \(got "delete"\)\.$/);
    expect(resolve("aws", { restore: { pointInTime: at, previus: "keep" } }).problems[0]).toBe("gaia:restore.previus is not a known setting: did you mean gaia:restore.previous?");
  });
});

describe("a restore against what the last update applied (restoreStepProblems)", () => {
  const window = { pitrDays: 3, platformWindow: { min: 1, max: 35 } } as const;
  const now = new Date();
  /** A whole minute, `minutesAgo` before now, as RFC 3339 in UTC; and its label. */
  const minute = (minutesAgo: number) => iso(Math.floor((now.getTime() - minutesAgo * 60_000) / 60_000) * 60_000);
  const labelOf = (at: string) => `r${at.slice(0, 16).replace(/[-T:]/g, "")}`;
  const config = (pointInTime: string, extra: Record<string, unknown> = {}) => resolve("aws", { restore: { pointInTime, ...extra } }).config!.restore!;
  const T = minute(90);
  const made = config(T);
  const applied = appliedRestore(made)!;
  const by = `the last update restored to ${T} (${labelOf(T)})`;

  it("checks a new restore against the recovery window, where the update knows none was applied (null); an offline plan (undefined) does not", () => {
    const fourDays = minute(4 * 24 * 60);
    const old = config(fourDays);
    const [problem] = restoreStepProblems(null, old, window, now);
    expect(problem).toBe(`gaia:restore.pointInTime ${fourDays} is older than the recovery window of 3 day(s) (gaia:backups.pitrDays): set a moment after ${new Date(now.getTime() - 3 * 86_400_000).toISOString()}.`);
    expect(restoreStepProblems(null, made, window, now)).toEqual([]);
    expect(restoreStepProblems(undefined, old, window, now)).toEqual([]);
    // Production keeps 7 days; Fly keeps its window on its own terms (flyctl says).
    expect(restoreStepProblems(null, old, { pitrDays: 7, platformWindow: { min: 1, max: 35 } }, now)).toEqual([]);
    expect(restoreStepProblems(null, old, { pitrDays: 0, platformWindow: "platform" }, now)).toEqual([]);
    // The same restore, made: long past the window later, and nothing to check.
    expect(restoreStepProblems(applied, made, window, new Date(now.getTime() + 30 * 86_400_000))).toEqual([]);
  });

  it("refuses another moment while a restore serves, which would delete it and restore from the previous instance", () => {
    const other = minute(150);
    expect(restoreStepProblems(applied, config(other), window, now)).toEqual([
      `gaia:restore.pointInTime: ${by}; a restore to ${other} would delete that instance, writes since included, and restore from the previous one: set it back, or switch back first (serve: previous, then remove the block) and restore anew.`,
    ]);
    // Within the same minute the label is the same: the moment is compared too.
    expect(restoreStepProblems(applied, config(T.replace(":00Z", ":40Z")), window, now)).toHaveLength(1);
  });

  it("switches back in two updates: the block goes only once the previous instance serves again", () => {
    expect(restoreStepProblems(applied, undefined, window, now)).toEqual([
      `gaia:restore: ${by}, and that instance serves and is protected: to switch back, first set gaia:restore.serve: previous (the previous instance serves again, the restored one's protection is lifted), then remove the block in the next update.`,
    ]);
    const switched = config(T, { serve: "previous" });
    expect(restoreStepProblems(applied, switched, window, now)).toEqual([]);
    expect(restoreStepProblems(appliedRestore(switched), undefined, window, now)).toEqual([]);
    // Switched back, the previous instance took writes the restored one lacks: serving it again would lose them.
    expect(restoreStepProblems(appliedRestore(switched), made, window, now)).toEqual([
      `gaia:restore.serve: ${by} and then switched back, so the previous instance has taken writes the restored one lacks; serving the restored one again would lose them: remove the block (the restored instance is deleted), then restore anew to the moment you need.`,
    ]);
  });

  it("never brings a dropped previous instance back: not without the block, not with keep, not from another moment", () => {
    const dropped = appliedRestore(config(T, { previous: "drop" }))!;
    expect(restoreStepProblems(dropped, undefined, window, now)).toEqual([
      `gaia:restore: ${by} and dropped the previous instance; without gaia:restore the stack would make a new, empty instance under the old name: keep the gaia:restore block as it was.`,
    ]);
    expect(restoreStepProblems(dropped, made, window, now)).toEqual([
      `gaia:restore.previous: ${by} and dropped the previous instance; keep would make a new, empty one under its name: keep previous: drop.`,
    ]);
    expect(restoreStepProblems(dropped, config(minute(150), { previous: "drop" }), window, now)[0]).toMatch(new RegExp(`would restore from the instance that is gone: restore from ${labelOf(T)}'s backups by hand`));
    expect(restoreStepProblems(dropped, config(T, { previous: "drop" }), window, now)).toEqual([]);
  });

  it("drops the previous instance only once an update released it while the restored one served: dropping a protected instance is refused", () => {
    const drop = config(T, { previous: "drop" });
    const refusal = /^gaia:restore\.previous: drop deletes the previous instance, which the last update left protected .*: set previous: release first .*, then drop in the next update\.$/;
    expect(restoreStepProblems(null, drop, window, now)).toEqual([expect.stringMatching(refusal)]);
    expect(restoreStepProblems(applied, drop, window, now)).toEqual([expect.stringMatching(refusal)]);
    // From a switch back, serving the restored one again is refused as well (the writes since).
    expect(restoreStepProblems(appliedRestore(config(T, { serve: "previous" })), drop, window, now)).toEqual([expect.stringMatching(/^gaia:restore\.serve: /), expect.stringMatching(refusal)]);
    expect(restoreStepProblems(appliedRestore(config(T, { previous: "release", serve: "previous" })), drop, window, now)).toEqual([expect.stringMatching(/^gaia:restore\.serve: /), expect.stringMatching(refusal)]);
    expect(restoreStepProblems(appliedRestore(config(T, { previous: "release" })), drop, window, now)).toEqual([]);
    // An offline plan knows nothing applied and checks nothing.
    expect(restoreStepProblems(undefined, drop, window, now)).toEqual([]);
  });
});
