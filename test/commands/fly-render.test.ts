import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readRegions } from "../../ops/lib/flyctl";

/**
 * The double's text output against what flyctl v0.4.87 prints (test/fixtures/flyctl: its
 * render.go through tablewriter v1.1.4, recorded), byte for byte, and ops' reading of it.
 */
const DOUBLE = path.resolve(__dirname, "../support/flyctl-double.cjs");
const fixture = (name: string) => readFileSync(path.resolve(__dirname, "../fixtures/flyctl", name), "utf8");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const render = require("../support/flyctl-render.cjs") as { table(rows: string[][], cols: string[]): string; verticalTable(title: string, values: string[], cols: string[]): string };

const STATUS_COLUMNS = ["ID", "Name", "Plan", "Primary Region", "Read Regions", "Eviction", "Auto-Upgrade", "ProdPack", "Private URL"];
const redis = (replicas: string[]) => ({ id: "Xy7abc", name: "gaia-production-redis", org: "gaia", region: "iad", replicas, password: "PASSWORD" });

/** The double run with Fly's side holding `redis`. */
function double(args: string[], databases: object[]): string {
  const stateFile = path.join(mkdtempSync(path.join(tmpdir(), "gaia-fly-render-")), "state.json");
  writeFileSync(stateFile, JSON.stringify({ clusters: [], redis: databases, secrets: {}, calls: [], failed: [] }));
  const run = spawnSync(process.execPath, [DOUBLE, ...args], { env: { ...process.env, FAKE_FLY_STATE: stateFile, FLY_CONFIG_DIR: path.dirname(stateFile) }, encoding: "utf8" });
  expect(run.stderr).toBe("");
  return run.stdout;
}

describe("flyctl's tables", () => {
  it.each([
    ["redis-status-no-replicas.txt", [] as string[]],
    ["redis-status-replicas.txt", ["ord", "sjc"]],
  ])("fly redis status prints %s as flyctl does", (file, replicas) => {
    const r = redis(replicas);
    expect(render.verticalTable("Redis", [r.id, r.name, "Pay-as-you-go", r.region, replicas.join(",") || "None", "Disabled", "Disabled", "Disabled", `redis://default:${r.password}@fly-${r.name}.upstash.io:6379`], STATUS_COLUMNS)).toBe(fixture(file));
    expect(double(["redis", "status", r.name], [r])).toBe(fixture(file));
  });

  it("fly redis list prints its table as flyctl does, an empty list as a header alone", () => {
    const cols = ["Name", "Org", "Plan", "Eviction", "Primary Region", "Read Regions"];
    const rows = [["gaia-production-redis", "gaia", "Pay-as-you-go", "Disabled", "iad", "ord,sjc"], ["gaia-dev-redis", "gaia", "Pay-as-you-go", "Disabled", "iad", ""]];
    expect(render.table(rows, cols) + render.table([], cols)).toBe(fixture("redis-list.txt"));
    const databases = [redis(["ord", "sjc"]), { ...redis([]), name: "gaia-dev-redis" }];
    expect(double(["redis", "list", "--org", "gaia"], databases) + double(["redis", "list", "--org", "gaia"], [])).toBe(fixture("redis-list.txt"));
  });

  it("reads the read regions ops/fly.ts compares from each form flyctl has printed", () => {
    expect(readRegions(fixture("redis-status-no-replicas.txt"))).toEqual([]);
    expect(readRegions(fixture("redis-status-replicas.txt"))).toEqual(["ord", "sjc"]);
    // Before v0.4.33 (tablewriter's "=" separator).
    expect(readRegions("Redis\n  Read Regions   = sjc,ord\n")).toEqual(["ord", "sjc"]);
    expect(() => readRegions("Redis\n ID │ x \n")).toThrow('`fly redis status` printed no "Read Regions" row: flyctl\'s output changed; check the installed flyctl (v0.4.84 or later).');
  });
});
