import { exec, execFile, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { deflateSync, gzipSync } from "node:zlib";
import { Client } from "pg";
import { createClient } from "redis";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/stackFile";
import { canaryDir, findLeaks, findLeaksIn, isRegistry, processesOf } from "../support/canary";
import CanaryReporter from "../support/canaryReporter";
import { redisLeaks } from "../support/globalSetup";
import { SHARED_SERVER } from "../support/postgres";
import { holdSetting, releaseSetting } from "../support/sharedSetting";

/**
 * The secret canary's own parts (test/support/canary.ts), each shown to catch what it is for
 * with a planted secret; the whole run's search is in test/support/globalSetup.ts.
 */
const generated = () => `mock-${randomBytes(12).toString("hex")}`;
/** A secret this run does not register: planted where the run's own search must not count it. */
const unregistered = (tag = "plant") => `${tag}-${randomBytes(9).toString("base64url")}`;
const recorded = () => {
  const outputs = path.join(canaryDir()!, "outputs");
  return readdirSync(outputs).map((f) => readFileSync(path.join(outputs, f), "utf8")).join("\n");
};

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
      // Written before the run began: not read when searching what changed since.
      writeFileSync(path.join(root, "before.txt"), registered);
      const since = Date.now() + 20;
      while (Date.now() < since + 20); // the clock moves on, so the files below change after `since`
      mkdirSync(path.join(root, "a", "b"), { recursive: true });
      writeFileSync(path.join(root, "a", "b", "flyctl.log"), `{"password":"${secret}"}`);
      writeFileSync(path.join(root, "a", "out.txt"), `postgresql://u:${registered}@h/db`);
      writeFileSync(path.join(root, "clean.txt"), "nothing here");
      // Written during the run but dated in the past, as tar and cp -p date a file: read, by its change time.
      const old = path.join(root, "old.txt");
      writeFileSync(old, registered);
      utimesSync(old, new Date(0), new Date(0));
      const found = findLeaks([root], [registered], { since });
      expect(found.map((l) => path.relative(root, l.file)).sort()).toEqual(["a/b/flyctl.log", "a/out.txt", "old.txt"]);
      // Without `since` (the run's own folder), every file is read.
      expect(findLeaks([root], [registered]).map((l) => path.relative(root, l.file)).sort()).toEqual(["a/b/flyctl.log", "a/out.txt", "before.txt", "old.txt"]);
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

  it("finds a secret hex-encoded in either case and at either alignment, and as UTF-16LE", () => {
    const secret = generated();
    const registered = unregistered();
    for (const encode of [(t: string) => Buffer.from(t).toString("hex"), (t: string) => Buffer.from(t).toString("hex").toUpperCase()]) {
      for (const prefix of ["", "x"]) {
        expect(findLeaksIn("dump", `\\x${encode(`${prefix}${secret}`)}`, []).length, `prefix ${JSON.stringify(prefix)}`).toBeGreaterThan(0);
        expect(findLeaksIn("dump", `0${encode(`${prefix}${registered}`)}`, [registered]).length).toBeGreaterThan(0);
      }
    }
    expect(findLeaksIn("log", Buffer.from(`pw ${secret}`, "utf16le").toString("latin1"), [])).toHaveLength(1);
    expect(findLeaksIn("log", Buffer.from(`pw ${registered}`, "utf16le").toString("latin1"), [registered])).toHaveLength(1);
    expect(findLeaksIn("clean", Buffer.from("nothing here, just hex deadbeefdeadbeef", "utf16le").toString("latin1"), [registered])).toEqual([]);
  });

  it("finds a secret in a gzip or zlib file, inflated, and in a git repository's objects, loose or packed", () => {
    inFolder((root) => {
      const [zipped, deflated, committed] = [unregistered("gz"), unregistered("zl"), unregistered("git")];
      writeFileSync(path.join(root, "app.log.gz"), gzipSync(`password=${zipped}`));
      writeFileSync(path.join(root, "object"), deflateSync(`blob 30\0${deflated}`));
      const found = (secret: string) => findLeaks([root], [secret]).map((l) => path.relative(root, l.file));
      expect(found(zipped)).toEqual(["app.log.gz (inflated)"]);
      expect(found(deflated)).toEqual(["object (inflated)"]);

      const repo = path.join(root, "repo");
      mkdirSync(repo);
      const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo, stdio: "pipe" });
      git("init", "-q");
      writeFileSync(path.join(repo, "config.env"), `PASSWORD=${committed}\n`);
      git("add", "config.env");
      git("commit", "-qm", "add");
      rmSync(path.join(repo, "config.env"));
      expect(found(committed).some((f) => f.startsWith("repo/.git/objects/") && f.endsWith("(inflated)")), "a loose object").toBe(true);
      git("gc", "-q", "--prune=now");
      expect(readdirSync(path.join(repo, ".git", "objects", "pack")).some((f) => f.endsWith(".pack"))).toBe(true);
      expect(found(committed), "packed").toContain("repo/.git (git objects)");
    });
  });

  it("leaves out only the registries of the run's own folder and of runs nested in its temporary folder", () => {
    const dir = "/tmp/gaia-canary-abc";
    for (const kept of ["/secrets", "/provider-side", "/tmp/gaia-canary-x1/secrets", "/tmp/gaia-canary-x1/tmp/gaia-canary-y2/provider-side"]) {
      expect(isRegistry(dir, `${dir}${kept}`), kept).toBe(true);
    }
    for (const searched of ["/outputs/secrets", "/tmp/secrets", "/tmp/work/gaia-canary-x1/secrets", "/tmp/gaia-canary-x1/logs/provider-side", "/secrets/more", "/logs"]) {
      expect(isRegistry(dir, `${dir}${searched}`), searched).toBe(false);
    }
    expect(isRegistry(dir, "/tmp/gaia-canary-other/secrets")).toBe(false);
    expect(isRegistry(dir, `${dir}-2/secrets`)).toBe(false);
  });

  it("reads every database of a Redis, not only the first", async () => {
    const secret = unregistered("redis");
    const key = `gaia-canary-test:${randomBytes(4).toString("hex")}`;
    const url = process.env.GAIA_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
    const client = createClient({ url, database: 5 });
    await client.connect();
    try {
      await client.set(key, `requirepass ${secret}`);
      expect((await redisLeaks(url, [secret])).map((l) => l.file)).toEqual([`redis db 5 key ${key}`]);
    } finally {
      await client.del(key);
      await client.quit();
    }
  });

  it("lists the processes a run started that still run, by the canary folder in their environment", async () => {
    const dir = `/tmp/gaia-canary-${randomBytes(4).toString("hex")}`;
    const child = spawn("sleep", ["30"], { detached: true, stdio: "ignore", env: { ...process.env, GAIA_CANARY_DIR: dir } });
    try {
      await new Promise((resolve) => child.on("spawn", resolve));
      expect(processesOf(dir), "a child of the runner's main process is the runner's own").toEqual([]);
      expect(processesOf(dir, 0)).toEqual([{ pid: child.pid, command: "sleep 30" }]);
      expect(processesOf(`${dir}0`, 0)).toEqual([]);
    } finally {
      child.kill("SIGKILL");
    }
    await new Promise((resolve) => child.on("exit", resolve));
    expect(processesOf(dir, 0)).toEqual([]);
  });
});

describe("runs at once share the machine's statement logging", () => {
  it("the first to hold it records what was there, only the last to let go puts it back, and a holder that died counts as gone", async () => {
    const state = path.join(mkdtempSync(path.join(tmpdir(), "shared-setting-")), "state.json");
    const applied: string[] = [];
    const restored: string[] = [];
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    await new Promise((resolve) => other.on("spawn", resolve));
    try {
      await holdSetting(state, async () => "before", async () => void applied.push("on"));
      // Another run joins: it finds logging on already, and must not take "on" as what was there before.
      const joined = JSON.parse(readFileSync(state, "utf8")) as { previous: string; holders: number[] };
      writeFileSync(state, JSON.stringify({ ...joined, holders: [...joined.holders, other.pid] }));
      await holdSetting(state, async () => "on", async () => void applied.push("on"));
      expect(JSON.parse(readFileSync(state, "utf8")).previous).toBe("before");
      expect(await releaseSetting(state, async (previous: string) => void restored.push(previous))).toBe(false);
      expect(restored, "another run still holds it").toEqual([]);
      // That run dies without letting go: the next release puts back what was there before any run.
      other.kill("SIGKILL");
      await new Promise((resolve) => other.on("exit", resolve));
      await holdSetting(state, async () => "on", async () => void applied.push("on"));
      expect(await releaseSetting(state, async (previous: string) => void restored.push(previous))).toBe(true);
      expect(restored).toEqual(["before"]);
      expect(existsSync(state)).toBe(false);
    } finally {
      other.kill("SIGKILL");
      rmSync(path.dirname(state), { recursive: true, force: true });
    }
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

  it("records what asynchronous commands print, inherited or piped, and still hands piped output to its reader", async () => {
    const [inherited, piped, callback, promised, shell] = ["inherited", "piped", "callback", "promised", "shell"].map((kind) => `${kind}-marker-${randomBytes(6).toString("hex")}`);
    const closed = (child: ReturnType<typeof spawn>) => new Promise((resolve) => child.on("close", resolve));
    await closed(spawn("sh", ["-c", `echo ${inherited}; echo ${inherited}-err >&2`], { stdio: "inherit" }));
    const reader = spawn("sh", ["-c", `echo ${piped}`]);
    let read = "";
    reader.stdout.on("data", (chunk: Buffer) => (read += chunk));
    await closed(reader);
    expect(read.trim(), "the caller still reads all of it").toBe(piped);
    await new Promise((resolve) => execFile("sh", ["-c", `echo ${callback}`], resolve));
    expect(await promisify(execFile)("sh", ["-c", `echo ${promised} >&2`]), "promisified as Node's own").toEqual({ stdout: "", stderr: `${promised}\n` });
    await new Promise((resolve) => exec(`echo ${shell}`, resolve));
    const all = recorded();
    for (const marker of [inherited, `${inherited}-err`, piped, callback, promised, shell]) expect(all, marker).toContain(marker);
  });

  it("records what a test writes to process.stdout and process.stderr directly", () => {
    const [out, err] = ["stdout", "stderr"].map((kind) => `${kind}-marker-${randomBytes(6).toString("hex")}`);
    process.stdout.write(`${out}\n`);
    process.stderr.write(Buffer.from(`${err}\n`));
    expect(recorded()).toContain(out);
    expect(recorded()).toContain(err);
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

describe("the whole run", () => {
  const vitest = path.join(PROJECT_ROOT, "node_modules", "vitest", "vitest.mjs");
  const nested = (plant: object, env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [vitest, "run", "--config", "test/fixtures/canary/vitest.config.mts"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env, GAIA_PLANT: JSON.stringify(plant) },
      encoding: "utf8",
      timeout: 60_000,
    });

  it("fails on a leak planted in each channel, names each, keeps no secret for inspection, and leaves this run's statement logging on", async () => {
    // Distinct four-letter starts: the report shows a secret's first four characters only.
    const channels = [
      "spawnInherit", "stdoutWrite", "tmpFile", "gzipFile", "hexFile", "utf16File", "redisDb7",
      "hookError", "syncInherit", "forkInherit", "commandLine", "base64Wrapped", "jsonEscaped", "mtimeBack",
    ];
    const secrets = Object.fromEntries(channels.map((channel, i) => [channel, `p${String(i).padStart(2, "0")}-${randomBytes(9).toString("base64url")}`]));
    // Straight in /tmp, not in the run's temporary folder: where a tool that ignores TMPDIR writes.
    const dir = mkdtempSync("/tmp/gaia-plant-");
    const redisKey = `gaia-canary-plant:${randomBytes(4).toString("hex")}`;
    const logStatement = async () => {
      const client = new Client({ connectionString: SHARED_SERVER });
      await client.connect();
      return (await client.query<{ log_statement: string }>("SHOW log_statement").finally(() => client.end())).rows[0]!.log_statement;
    };
    const before = await logStatement();
    try {
      const run = nested({ secrets, dir, redisKey });
      const output = `${run.stdout}${run.stderr}`;
      expect(run.status, output).not.toBe(0);
      expect(output).toContain("secret canary:");
      for (const [channel, secret] of Object.entries(secrets)) expect(output, channel).toContain(`${secret.slice(0, 4)}…(${secret.length} characters)`);
      for (const secret of Object.values(secrets)) expect(output.replace(/echo \S+/g, ""), "the report shows no secret whole").not.toMatch(new RegExp(`secret canary[^]*${secret}`));
      const kept = /kept for inspection in (\S+)\)/.exec(output)![1]!;
      expect(existsSync(path.join(kept, "outputs"))).toBe(true);
      expect(existsSync(path.join(kept, "secrets")), "the registry is removed even on a failure").toBe(false);
      rmSync(kept, { recursive: true, force: true });
      // The nested run let go of the machine's statement logging, which this run still holds (test/support/sharedSetting.ts).
      expect(await logStatement(), "log_statement after the nested run").toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      const client = createClient({ url: process.env.GAIA_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", database: 7 });
      await client.connect();
      await client.del(redisKey);
      await client.quit();
    }
  });

  it("fails while a process a test started still runs, naming it", () => {
    const run = nested({ detached: true }, { GAIA_CANARY_GRACE_MS: "500" });
    const output = `${run.stdout}${run.stderr}`;
    try {
      expect(run.status, output).not.toBe(0);
      expect(output).toMatch(/secret canary: 1 process\(es\) the run started still run[^\n]*\n\s+\d+ sleep 60/);
    } finally {
      const pid = /(\d+) sleep 60/.exec(output)?.[1];
      if (pid) process.kill(Number(pid), "SIGKILL");
    }
  });
});
