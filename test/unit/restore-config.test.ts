/** gaia:restore (components/core/restore.ts): each refusal with its sentence, before any resource. */
import { describe, expect, it } from "vitest";
import { GaiaConfigError, resolveConfig } from "../../components/config";
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
    expect(config!.restore).toMatchObject({ at: new Date(at).toISOString().replace(".000Z", "Z"), previous: "keep" });
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

  it("refuses a moment older than the recovery window: staging keeps 3 days, production 7", () => {
    const fourDays = iso(Date.now() - 4 * 24 * HOUR);
    const [problem] = resolve("aws", { restore: { pointInTime: fourDays } }).problems;
    expect(problem).toMatch(new RegExp(`^gaia:restore\\.pointInTime ${fourDays} is older than the recovery window of 3 day\\(s\\) \\(gaia:backups\\.pitrDays\\): set a moment after .+\\.$`));
    expect(resolve("aws", { restore: { pointInTime: fourDays } }, "production").problems).toEqual([]);
    expect(resolve("aws", { restore: { pointInTime: iso(Date.now() - 8 * 24 * HOUR) } }, "production").problems[0]).toMatch(/older than the recovery window of 7 day\(s\)/);
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
