import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { canaryDir, findLeaks, findLeaksIn } from "../support/canary";
import CanaryReporter from "../support/canaryReporter";

/**
 * The secret canary's own parts (test/support/canary.ts), each shown to catch what it is for
 * with a planted secret; the whole run's search is in test/support/globalSetup.ts.
 */
const generated = () => `mock-${randomBytes(12).toString("hex")}`;

function inFolder<T>(action: (root: string) => T): T {
  const root = mkdtempSync(path.join(tmpdir(), "gaia-canary-plant-"));
  try {
    return action(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe("the canary's search", () => {
  it("finds generated secrets and registered ones in any file under a folder, and only files changed since a time when asked", () => {
    inFolder((root) => {
      const secret = generated();
      const registered = `reg-${randomBytes(9).toString("base64url")}`;
      mkdirSync(path.join(root, "a", "b"), { recursive: true });
      writeFileSync(path.join(root, "a", "b", "flyctl.log"), `{"password":"${secret}"}`);
      writeFileSync(path.join(root, "a", "out.txt"), `postgresql://u:${registered}@h/db`);
      writeFileSync(path.join(root, "clean.txt"), "nothing here");
      const old = path.join(root, "old.txt");
      writeFileSync(old, registered);
      utimesSync(old, new Date(0), new Date(0));
      const found = findLeaks([root], [registered], { since: Date.now() - 60_000 });
      expect(found.map((l) => path.relative(root, l.file)).sort()).toEqual(["a/b/flyctl.log", "a/out.txt"]);
      // Without `since` (the run's own folder), a file dated in the past is read too.
      expect(findLeaks([root], [registered]).map((l) => path.relative(root, l.file)).sort()).toEqual(["a/b/flyctl.log", "a/out.txt", "old.txt"]);
      // The report never prints a secret again.
      expect(JSON.stringify(found)).not.toContain(secret);
      expect(JSON.stringify(found)).not.toContain(registered);
    });
  });

  it("finds a secret base64-encoded at any alignment, base64url-encoded, or percent-encoded", () => {
    const secret = generated();
    const registered = `p@ss/w:rd+${randomBytes(6).toString("hex")}`;
    for (const prefix of ["", "u", "us", "usr"]) {
      const basic = Buffer.from(`${prefix}:${secret}`).toString("base64");
      expect(findLeaksIn("header", `Authorization: Basic ${basic}`, []).length, `prefix ${JSON.stringify(prefix)}`).toBeGreaterThan(0);
      const reg = Buffer.from(`${prefix}${registered}`).toString("base64url");
      expect(findLeaksIn("har", `{"value":"${reg}"}`, [registered]).length, `prefix ${JSON.stringify(prefix)}`).toBeGreaterThan(0);
    }
    expect(findLeaksIn("url", `postgresql://app:${encodeURIComponent(registered)}@db/gaia`, [registered]).length).toBeGreaterThan(0);
    expect(findLeaksIn("clean", `Authorization: Basic ${Buffer.from("user:not-a-secret").toString("base64")}`, [registered])).toEqual([]);
  });
});

describe("what the run prints is kept for the search", () => {
  it("records what every synchronous command prints, through any of child_process's functions, failed or not", () => {
    const dir = canaryDir();
    expect(dir, "vitest runs with the canary's global setup").toBeDefined();
    const markers = ["spawnSync", "execFileSync", "failed"].map((kind) => `${kind}-marker-${randomBytes(6).toString("hex")}`);
    spawnSync("sh", ["-c", `echo ${markers[0]}`]);
    execFileSync("sh", ["-c", `echo ${markers[1]}`]);
    expect(() => execFileSync("sh", ["-c", `echo ${markers[2]} >&2; exit 3`], { stdio: "pipe" })).toThrow();
    const outputs = path.join(dir!, "outputs");
    const recorded = readdirSync(outputs).map((f) => readFileSync(path.join(outputs, f), "utf8")).join("\n");
    for (const marker of markers) expect(recorded).toContain(marker);
  });

  it("keeps only the standard error of a command asked to print secrets for its caller (`--show-secrets`)", () => {
    const [data, error] = ["data", "error"].map((kind) => `${kind}-marker-${randomBytes(6).toString("hex")}`);
    spawnSync("sh", ["-c", `echo ${data}; echo ${error} >&2`, "sh", "--show-secrets"]);
    const outputs = path.join(canaryDir()!, "outputs");
    const recorded = readdirSync(outputs).map((f) => readFileSync(path.join(outputs, f), "utf8")).join("\n");
    expect(recorded).toContain(error);
    expect(recorded).not.toContain(data);
  });

  it("the reporter keeps every console line and every failed test's error", () => {
    const saved = process.env.GAIA_CANARY_DIR;
    const dir = mkdtempSync(path.join(tmpdir(), "gaia-canary-reporter-"));
    process.env.GAIA_CANARY_DIR = dir;
    try {
      const [logged, failed] = [generated(), generated()];
      const reporter = new CanaryReporter();
      reporter.onUserConsoleLog({ content: `url ${logged}` });
      reporter.onTestCaseResult({ result: () => ({ state: "failed", errors: [{ message: `expected ${failed}`, stack: "", diff: "" }] }) } as never);
      const found = findLeaks([path.join(dir, "outputs")], []);
      expect(found.map((l) => path.basename(l.file).split("-")[0]).sort()).toEqual(["console", "test"]);
    } finally {
      process.env.GAIA_CANARY_DIR = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
