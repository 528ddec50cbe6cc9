import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkPrivileges } from "../../ops/lib/privileges";
import { environmentNames } from "../../policy/naming";
import type { EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { registerSecret } from "../support/canary";
import { startTestPostgres } from "../support/embedded";
import { outputValues } from "../../scripts/lib/automation";
import { planStack, type StackPlan } from "../../scripts/lib/offline";
import { readStackConfig, readStackFile } from "../../scripts/lib/stackFile";
import { ReviewError, automationWorkspace, review, type ReviewWorkspace } from "../../scripts/review-env";
import { withClient, withDatabase } from "../support/postgres";
import { cliProject } from "../support/pulumiCli";
import { withRedis } from "../support/redis";
import { applyLocalPlan, destroyLocalPlan, serverSnapshot, startPrivateRedis } from "../support/servers";

/**
 * Review environments as the workflow runs them (`npm run review`), the stack's config through
 * the real Pulumi CLI (file backend), its `pulumi up` and `destroy` done for real on
 * PostgreSQL 17 (passwords checked) and a Redis of the machine's redis-server: the plan's roles
 * and database as the provider makes them, and every command script. Two review environments
 * and the local one side by side, then one destroyed.
 */
let server: EmbeddedServer;
let redis: { url: string; stop(): void };
const applied = new Map<string, StackPlan>();

beforeAll(async () => {
  server = await startTestPostgres("review-pg");
  redis = await startPrivateRedis();
});

afterAll(async () => {
  redis?.stop();
  await server?.stop();
});

/** The Automation API on a CLI project of its own; `up` and `destroy` applied here, with the config the CLI holds. */
let projectRoot = "";
async function workspace(): Promise<ReviewWorkspace> {
  const project = cliProject();
  projectRoot = project.root;
  const pulumiRoot = path.dirname(path.dirname(project.cli));
  const envVars = Object.fromEntries(Object.entries(project.env).filter((e): e is [string, string] => e[1] !== undefined));
  const real = await automationWorkspace(project.root, { pulumiRoot, envVars });
  return {
    stacks: real.stacks,
    remove: real.remove,
    open: async (name) => {
      const stack = await real.open(name);
      const planned = async () => {
        const { config, secretKeys } = readStackConfig(name, { root: project.root, pulumi: project.cli, env: project.env });
        return planStack(name, config, secretKeys);
      };
      return {
        setConfig: stack.setConfig,
        up: async () => {
          const plan = await planned();
          await applyLocalPlan(plan, server.url, applied.has(name) ? "update" : "create");
          applied.set(name, plan);
          return outputValues(plan.outputs);
        },
        destroy: async () => {
          await destroyLocalPlan(applied.get(name)!, server.url);
          applied.delete(name);
        },
      };
    },
  };
}

const env = () => ({ GAIA_REVIEW_POSTGRES_URL: server.url, GAIA_REVIEW_REDIS_URL: redis.url });
const urlsOf = (plan: StackPlan) => plan.outputs.connectionUrls!.value as Record<string, string>;
const refusal = (work: Promise<unknown>) => work.then(() => "allowed", (error: Error) => error.message);

describe("review environments on the review server", () => {
  it("stand side by side with the local one, refuse each other's credentials, and leave the servers as they were when destroyed", { timeout: 300_000 }, async () => {
    const ws = await workspace();
    const { config } = readStackFile("local");
    const local = await planStack("local", { ...config, "gaia:local": JSON.stringify({ postgresUrl: server.url, redisUrl: redis.url }) }, ["gaia:local"]);
    await applyLocalPlan(local, server.url, "create");
    applied.set("local", local);

    expect(await review(["up", "2"], { workspace: ws, env: env() })).toEqual(["review environment pr-2 is up: database gaia_pr_2, Redis keys gaia:pr-2:*"]);
    // A push: the same stack updated, every command's update run again.
    expect(await review(["up", "2"], { workspace: ws, env: env() })).toEqual(["review environment pr-2 is up: database gaia_pr_2, Redis keys gaia:pr-2:*"]);
    // The review server's admin URLs are in the stack file only encrypted.
    const stackFile = readFileSync(path.join(projectRoot, "Pulumi.pr-2.yaml"), "utf8");
    expect(stackFile).toMatch(/gaia:local:\n\s+secure: /);
    expect(stackFile).not.toContain(new URL(server.url).password);
    const before = await serverSnapshot(server.url, redis.url);
    await review(["up", "1"], { workspace: ws, env: env() });
    const [one, two] = [applied.get("pr-1")!, applied.get("pr-2")!];

    // Each environment has exactly its policy's privileges on its own database.
    for (const environment of ["pr-1", "pr-2", "local"]) {
      const names = environmentNames(environment);
      await withClient(withDatabase(server.url, names.database), async (c) => expect((await checkPrivileges(c, names)).problems).toEqual([]));
    }
    // Its credentials log in to its own database and are refused by the others'.
    const chat = new URL(urlsOf(one).chat!);
    await withClient(chat.toString(), (c) => c.query("select 1"));
    for (const other of ["gaia_pr_2", "gaia_local"]) {
      expect(await refusal(withClient(withDatabase(chat.toString(), other), (c) => c.query("select 1")))).toMatch(new RegExp(`permission denied for database "${other}"`));
    }
    // Its Redis user reaches its own keys only.
    const redisOf = (plan: StackPlan) => String(plan.outputs.redisUrl!.value);
    await withRedis(redisOf(one), (c) => c.set("gaia:pr-1:session:1", "x"));
    for (const prefix of ["gaia:pr-2:", "gaia:local:"]) {
      expect(await refusal(withRedis(redisOf(one), (c) => c.get(`${prefix}session:1`)))).toMatch(/^NOPERM/);
      expect(await refusal(withRedis(redisOf(two), (c) => c.get("gaia:pr-1:session:1")))).toMatch(/^NOPERM/);
    }

    // Closing the pull request: destroyed, its stack removed, the servers as before it existed.
    expect(await review(["destroy", "1"], { workspace: ws })).toEqual(["review environment pr-1 destroyed and its stack removed"]);
    expect(await serverSnapshot(server.url, redis.url)).toEqual(before);
    expect((await ws.stacks()).map((s) => s.name).sort()).toEqual(["pr-2"]);
    expect(await review(["destroy", "1"], { workspace: ws })).toEqual(["review environment pr-1 does not exist: nothing to destroy"]);
  });
});

describe("npm run review prune", () => {
  /** Stacks as `pulumi stack ls` lists them; destroys recorded, nothing applied. */
  function listed(stacks: { name: string; lastUpdate?: string }[]) {
    const destroyed: string[] = [];
    const workspace: ReviewWorkspace = {
      stacks: async () => stacks.filter((s) => !destroyed.includes(s.name)),
      open: async (name) => ({ setConfig: async () => undefined, up: async () => ({}), destroy: async () => void destroyed.push(name) }),
      remove: async () => undefined,
    };
    return { destroyed, workspace };
  }

  it("destroys what a closed pull request left, and what no push updated for the TTL, and nothing else", async () => {
    const now = new Date("2026-12-02T00:00:00Z");
    const { destroyed, workspace } = listed([
      { name: "dev" },
      { name: "production", lastUpdate: "2026-01-01T00:00:00Z" },
      { name: "pr-7", lastUpdate: "2026-12-01T00:00:00Z" },
      { name: "pr-8", lastUpdate: "2026-12-01T00:00:00Z" },
      { name: "pr-9", lastUpdate: "2026-11-20T00:00:00Z" },
    ]);
    expect(await review(["prune", "--open", "8,9", "--ttl-days", "7"], { workspace, now })).toEqual([
      "review environment pr-7 destroyed and its stack removed (its pull request is closed)",
      "review environment pr-9 destroyed and its stack removed (no update for 7 days)",
    ]);
    expect(destroyed).toEqual(["pr-7", "pr-9"]);
  });

  it.each([
    [["up", "x"], {}, 'name the pull request by its number (got "x"): npm run review -- up <pr> | destroy <pr> | prune --open <n,…> [--ttl-days <days>]'],
    [["up", "3"], {}, "GAIA_REVIEW_POSTGRES_URL and GAIA_REVIEW_REDIS_URL must hold the admin URLs of the review server (never dev's): set them from the `review` environment's secrets."],
    [["prune"], {}, '--open must list the open pull requests\' numbers, comma-separated (none: --open ""): npm run review -- up <pr> | destroy <pr> | prune --open <n,…> [--ttl-days <days>]'],
    [["prune", "--open", "1", "--ttl-days", "0"], {}, '--ttl-days must be a whole number of days, 1 or more (got "0").'],
  ])("refuses %j in one sentence, touching no stack", async (args, extra, message) => {
    const { destroyed, workspace } = listed([{ name: "pr-1" }]);
    await expect(review(args, { workspace, env: extra })).rejects.toThrow(new ReviewError(message));
    expect(destroyed).toEqual([]);
  });
});

describe("the servers' admin URLs in a review stack's config", () => {
  /**
   * A `pulumi` (bin/ under a root, as the Automation API runs it) that writes down every argument
   * list it is given and, for `config set … --secret` with no value after `--`, the standard
   * input it passes on, then runs the real CLI; or, with GAIA_TEST_CLI_FAIL set, fails quoting
   * that input as an error could.
   * Its folder is removed after each test: the input it kept is the secret.
   */
  const shims: string[] = [];
  afterEach(() => {
    for (const dir of shims.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  async function shimmed(extraEnv: Record<string, string> = {}) {
    const project = cliProject();
    const shim = mkdtempSync(path.join(tmpdir(), "gaia-pulumi-shim-"));
    shims.push(shim);
    mkdirSync(path.join(shim, "bin"));
    const argvLog = path.join(shim, "argv.log");
    const stdinLog = path.join(shim, "stdin.log");
    writeFileSync(
      path.join(shim, "bin", "pulumi"),
      [
        "#!/bin/sh",
        `printf '%s\\n' "$*" >> ${argvLog}`,
        'case " $* " in',
        '  *" -- "*) ;;',
        '  *" --secret "*)',
        '    if [ -n "${GAIA_TEST_CLI_FAIL:-}" ]; then printf \'error: could not set the value %s\\n\' "$(cat)" >&2; exit 1; fi',
        `    tee -a ${stdinLog} | ${project.cli} "$@"; exit $? ;;`,
        "esac",
        `exec ${project.cli} "$@"`,
        "",
      ].join("\n"),
    );
    chmodSync(path.join(shim, "bin", "pulumi"), 0o755);
    const envVars = Object.fromEntries(Object.entries({ ...project.env, ...extraEnv }).filter((e): e is [string, string] => e[1] !== undefined));
    const workspace = await automationWorkspace(project.root, { pulumiRoot: shim, envVars });
    const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");
    return { project, workspace, argv: () => read(argvLog), stdin: () => read(stdinLog) };
  }
  /** Admin URLs with fresh passwords; registered with the canary unless the test makes a command print them on purpose. */
  const adminUrls = (register = true) => {
    const password = () => (register ? registerSecret : (s: string) => s)(randomBytes(18).toString("base64url"));
    const [postgres, redis] = [password(), password()];
    const value = JSON.stringify({ postgresUrl: `postgresql://postgres:${postgres}@127.0.0.1:5432/postgres`, redisUrl: `redis://default:${redis}@127.0.0.1:6379` });
    return { passwords: [postgres, redis], value };
  };

  it("reach the Pulumi CLI only on its standard input, never its arguments, and are stored encrypted, exactly", { timeout: 120_000 }, async () => {
    const { project, workspace, argv, stdin } = await shimmed();
    const { passwords, value } = adminUrls();
    const stack = await workspace.open("pr-77");
    await stack.setConfig("gaia:local", value, true);
    await stack.setConfig("gaia:platform", "local", false);

    // Booleans, so that a failure does not print the secret it found.
    for (const password of passwords) expect(argv().includes(password), "a password in an argument list of the CLI").toBe(false);
    expect(stdin() === value, "the CLI's standard input is the value, exactly").toBe(true);
    expect(argv()).toContain("config set gaia:local --secret --stack pr-77");
    expect(argv()).toContain("config set gaia:platform --stack pr-77 --plaintext");
    const stackFile = readFileSync(path.join(project.root, "Pulumi.pr-77.yaml"), "utf8");
    expect(stackFile).toMatch(/gaia:local:\n\s+secure: v1:/);
    for (const password of passwords) expect(stackFile.includes(password), "a password in the stack file").toBe(false);
    const read = readStackConfig("pr-77", { root: project.root, pulumi: project.cli, env: project.env });
    expect(read.config["gaia:local"] === value, "the value the CLI stored").toBe(true);
    expect(read.secretKeys).toContain("gaia:local");
  });

  it("are not in the error when the CLI fails quoting them: its message comes redacted", { timeout: 120_000 }, async () => {
    const { workspace } = await shimmed({ GAIA_TEST_CLI_FAIL: "1" });
    // Not registered: the failing CLI prints them on its stderr, which the canary would find.
    const { passwords, value } = adminUrls(false);
    const stack = await workspace.open("pr-78");
    const message = await stack.setConfig("gaia:local", value, true).then(
      () => "no error",
      (error: Error) => (error instanceof ReviewError ? error.message : `not a ReviewError: ${error.name}`),
    );
    for (const password of passwords) expect(message.includes(password), "a password in the error").toBe(false);
    expect(message).toMatch(/^pulumi config set gaia:local --secret --stack pr-78 failed: error: could not set the value \{"postgresUrl":"postgresql:\/\/postgres:\[secret\]@/);
  });
});
