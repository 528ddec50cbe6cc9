/**
 * The restore drill (scripts/drill-restore.ts) on a real PostgreSQL 17 with WAL archiving: a
 * short run must pass every check, and a run whose restored databases are broken must fail each
 * check that should see it. The drill's full run is `npm run drill:restore` (CI's full tier).
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { describe, expect, it } from "vitest";
import { RPO_LIMIT_SECONDS, restoreDrill, verdict, type DrillOptions } from "../../scripts/drill-restore";
import { environmentNames } from "../../policy/naming";

const short: DrillOptions = { writers: 4, warmUpMs: 500, writeMs: 2_500, log: () => undefined };
const names = environmentNames("restore-drill");

async function asAdmin(url: string, sql: string) {
  const client = new Client({ connectionString: url.replace(/\/postgres$/, `/${names.database}`) });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe("the restore drill", () => {
  it("restores to the latest and to a point in time, each passing the schema, privilege and row checks", async () => {
    const result = await restoreDrill(short);
    const { line, problems } = verdict(result, RPO_LIMIT_SECONDS);
    expect(problems).toEqual([]);
    expect(line).toMatch(/^restore drill: RPO \d+\.\d\d s, RTO \d+\.\d s, \d+ rows checked, privileges ok$/);
    expect(result.rpoSeconds).toBeLessThanOrEqual(5);
    const [latest, pointInTime] = result.restores;
    for (const restore of [latest!, pointInTime!]) {
      expect(restore.schemaNoOp).toBe(true);
      expect(restore.privilegesOk).toBe(true);
      expect(restore.rows.missing).toEqual([]);
      expect(restore.rows.afterTarget).toEqual([]);
      expect(restore.rows.unknown).toEqual([]);
      // The oracle holds every acknowledged row (and perhaps a few committed but never acknowledged).
      expect(restore.rows.checked).toBeGreaterThanOrEqual(result.written);
    }
    // The target lies inside the writing: rows on both sides of it, so "none after" was tested.
    expect(pointInTime!.rows.kept).toBeGreaterThan(0);
    expect(pointInTime!.rows.lost).toBeGreaterThan(0);
    expect(latest!.rows.kept).toBeGreaterThan(pointInTime!.rows.kept);
  }, 120_000);

  it("fails in a sentence, not a crash and not as if the server had been lost, when the writers are refused before it is lost", async () => {
    const drill = restoreDrill({
      ...short,
      beforeWriters: async ({ adminUrl }) => asAdmin(adminUrl, `revoke insert on audit.security_events from ${names.groupRole("auth")}`),
    });
    await expect(drill).rejects.toThrow(/^4 writers failed before the server was lost: permission denied for table security_events$/);
  }, 120_000);

  it("fails, naming each, when a restored database lacks a row, holds one never committed, or lets analytics into the auth service's group", async () => {
    const result = await restoreDrill({
      ...short,
      beforeChecks: async ({ adminUrl, kind }) => {
        if (kind === "point in time") {
          await asAdmin(adminUrl, "delete from audit.security_events where id = (select id from audit.security_events where event_type = 'restore-drill' order by created_at limit 1)");
        } else {
          await asAdmin(adminUrl, "insert into audit.security_events (event_type) values ('restore-drill')");
          await asAdmin(adminUrl, `grant ${names.groupRole("auth")} to ${names.groupRole("analytics")}`);
        }
      },
    });
    const { line, problems } = verdict(result, RPO_LIMIT_SECONDS);
    expect(line).toMatch(/privileges NOT ok$/);
    expect(problems).toEqual([
      expect.stringMatching(/^latest: the privilege check failed: .*analytics_[ab] can read auth\.\w+\.\w+; policy says it may not/),
      expect.stringMatching(/^latest: 1 row\(s\) the lost server never committed are present/),
      expect.stringMatching(/^point in time: 1 row\(s\) committed before .* are missing/),
    ]);
  }, 120_000);
  it("cut short by Ctrl-C (SIGINT to its process group), stops its servers and removes its folder", async () => {
    // Its own TMPDIR, to see what it leaves; its own process group, as a terminal's Ctrl-C reaches it.
    const scratch = mkdtempSync(path.join(tmpdir(), "gaia-drill-interrupted-"));
    chmodSync(scratch, 0o711);
    try {
      const root = path.resolve(__dirname, "../..");
      // One process (tsx as a loader, not its CLI, whose parent may exit before the drill is done).
      const child = spawn(path.join(root, "node_modules/.bin/node"), ["--import", "tsx", "scripts/drill-restore.ts"], {
        cwd: root, detached: true, env: { ...process.env, TMPDIR: scratch, GAIA_DRILL_WRITERS: "2", GAIA_DRILL_WRITE_MS: "20000" }, stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      for (let waited = 0; !out.includes("base backup taken"); waited += 100) {
        if (waited > 90_000) throw new Error(`the drill never took its base backup: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      process.kill(-child.pid!, "SIGINT");
      expect(await exited, out).toBe(130);
      expect(out).toContain("restore drill interrupted (SIGINT): its servers stopped and its folder removed");
      expect(readdirSync(scratch).filter((f) => f.startsWith("gaia-")), "left in TMPDIR").toEqual([]);
      // No server of its left running (a postmaster's command line names its data directory).
      const running = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(scratch);
        } catch {
          return false;
        }
      });
      expect(running.map((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ").slice(0, 160)), "left running").toEqual([]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});
