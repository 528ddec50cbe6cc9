/**
 * Review environments: one stack `pr-<number>` per pull request, on the dev environment's
 * servers through the local platform's existing-server mode (its own database, roles, schema
 * and Redis ACL user confined to its key prefix; nothing shared with another environment).
 *
 *   npm run review -- up <pr>        creates or updates stack pr-<pr> (on open and each push)
 *   npm run review -- destroy <pr>   destroys it and removes the stack (on close)
 *   npm run review -- prune --open <n,…> [--ttl-days <days>]
 *                                    destroys every pr-* stack whose pull request is not open,
 *                                    or that no push updated for the TTL (default 7 days)
 *
 * `up` needs GAIA_REVIEW_POSTGRES_URL and GAIA_REVIEW_REDIS_URL: admin URLs of the dev servers
 * (a role with CREATEDB and CREATEROLE; a Redis user allowed ACL), stored in the stack as
 * secrets. Runs the Pulumi CLI through the Automation API, as `npm run rotate` does.
 */
import { execFileSync } from "node:child_process";
import { redact, rememberEnvironmentSecrets, rememberSecret } from "../ops/lib/redact";
import { automation, outputValues, withProgress, type AutomationOptions } from "./lib/automation";
import { PROJECT_ROOT } from "./lib/stackFile";

export interface ReviewStack {
  setConfig(key: string, value: string, secret: boolean): Promise<void>;
  up(): Promise<Record<string, unknown>>;
  destroy(): Promise<void>;
}

/** What review environments need of Pulumi: the Automation API's workspace, or a test's. */
export interface ReviewWorkspace {
  stacks(): Promise<{ name: string; lastUpdate?: string }[]>;
  open(stack: string): Promise<ReviewStack>;
  remove(stack: string): Promise<void>;
}

export class ReviewError extends Error {}

export const REVIEW_DEFAULT_TTL_DAYS = 7;
const reviewStack = (pr: number) => `pr-${pr}`;

export interface ReviewOptions {
  workspace?: ReviewWorkspace;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

export async function review(args: string[], options: ReviewOptions = {}): Promise<string[]> {
  const [action, ...rest] = args;
  const env = options.env ?? process.env;
  const usage = "npm run review -- up <pr> | destroy <pr> | prune --open <n,…> [--ttl-days <days>]";
  const prNumber = (text: string | undefined) => {
    if (!text || !/^[1-9][0-9]{0,6}$/.test(text)) throw new ReviewError(`name the pull request by its number (got ${JSON.stringify(text ?? "")}): ${usage}`);
    return Number(text);
  };
  if (action === "up") {
    const pr = prNumber(rest[0]);
    const postgresUrl = env.GAIA_REVIEW_POSTGRES_URL;
    const redisUrl = env.GAIA_REVIEW_REDIS_URL;
    if (!postgresUrl || !redisUrl) throw new ReviewError("GAIA_REVIEW_POSTGRES_URL and GAIA_REVIEW_REDIS_URL must hold the admin URLs of the review server (never dev's): set them from the `review` environment's secrets.");
    const workspace = options.workspace ?? (await automationWorkspace());
    const stack = await workspace.open(reviewStack(pr));
    // Everything a review environment is, said in its own stack: nothing read from another's.
    const settings: [string, string, boolean][] = [
      ["gaia:environment", reviewStack(pr), false],
      ["gaia:platform", "local", false],
      ["gaia:preset", "dev", false],
      ["gaia:adminEmail", env.GAIA_REVIEW_ADMIN_EMAIL ?? `review+pr-${pr}@gaia.example`, false],
      ["gaia:backups", JSON.stringify({ enabled: false }), false],
      ["gaia:local", JSON.stringify({ postgresUrl, redisUrl }), true],
    ];
    for (const [key, value, secret] of settings) {
      if (secret) rememberSecret(value);
      await stack.setConfig(key, value, secret);
    }
    const outputs = await stack.up();
    return [`review environment ${reviewStack(pr)} is up: database ${String(outputs.databaseName)}, Redis keys ${String(outputs.redisKeyPrefix)}*`];
  }
  if (action === "destroy") {
    const pr = prNumber(rest[0]);
    const workspace = options.workspace ?? (await automationWorkspace());
    return [await destroyReview(workspace, reviewStack(pr))];
  }
  if (action === "prune") {
    const open = flag(rest, "--open");
    if (open === undefined || !/^([1-9][0-9]*(,[1-9][0-9]*)*)?$/.test(open)) throw new ReviewError(`--open must list the open pull requests' numbers, comma-separated (none: --open ""): ${usage}`);
    const ttlText = flag(rest, "--ttl-days") ?? String(REVIEW_DEFAULT_TTL_DAYS);
    if (!/^[1-9][0-9]*$/.test(ttlText)) throw new ReviewError(`--ttl-days must be a whole number of days, 1 or more (got ${JSON.stringify(ttlText)}).`);
    const openStacks = new Set(open.split(",").filter(Boolean).map((n) => reviewStack(Number(n))));
    const cutoff = (options.now ?? new Date()).getTime() - Number(ttlText) * 86_400_000;
    const workspace = options.workspace ?? (await automationWorkspace());
    const lines: string[] = [];
    for (const { name, lastUpdate } of await workspace.stacks()) {
      if (!/^pr-[1-9][0-9]*$/.test(name)) continue;
      const stale = lastUpdate !== undefined && Date.parse(lastUpdate) < cutoff;
      if (openStacks.has(name) && !stale) continue;
      lines.push(`${await destroyReview(workspace, name)} (${openStacks.has(name) ? `no update for ${ttlText} days` : "its pull request is closed"})`);
    }
    return lines.length ? lines : ["no review environment left behind"];
  }
  throw new ReviewError(usage);
}

async function destroyReview(workspace: ReviewWorkspace, name: string): Promise<string> {
  if (!(await workspace.stacks()).some((s) => s.name === name)) return `review environment ${name} does not exist: nothing to destroy`;
  await (await workspace.open(name)).destroy();
  await workspace.remove(name);
  return `review environment ${name} destroyed and its stack removed`;
}

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? (args[at + 1] ?? "") : undefined;
}

/** The project's stacks through Pulumi's Automation API (scripts/lib/automation.ts). */
export async function automationWorkspace(root = PROJECT_ROOT, options: AutomationOptions = {}): Promise<ReviewWorkspace> {
  const { LocalWorkspace, workspaceOptions } = await automation(options);
  const workspace = await LocalWorkspace.create({ workDir: root, ...workspaceOptions });
  return {
    stacks: async () => (await workspace.listStacks()).map((s) => ({ name: s.name, lastUpdate: s.lastUpdate })),
    open: async (name) => {
      const stack = await LocalWorkspace.createOrSelectStack({ stackName: name, workDir: root }, workspaceOptions);
      return {
        setConfig: async (key, value, secret) => {
          if (!secret) return stack.setConfig(key, { value, secret });
          setSecretThroughStdin(workspace.pulumiCommand.command, root, { ...process.env, ...workspace.envVars }, name, key, value);
        },
        up: async () => outputValues((await withProgress((onOutput) => stack.up({ onOutput }))).outputs),
        destroy: async () => void (await withProgress((onOutput) => stack.destroy({ onOutput }))),
      };
    },
    remove: (name) => workspace.removeStack(name),
  };
}

/**
 * A secret config value set through the CLI's standard input, never its arguments: the
 * Automation API's setConfig puts the value on the command line (@pulumi/pulumi 3.270.0
 * automation/localWorkspace.js:479-487: `config set <key> --stack <s> --secret --non-interactive
 * -- <value>`), where `ps` and /proc/<pid>/cmdline show it to every user of the runner.
 * `pulumi config set <key>` without a value reads all of a standard input that is not a terminal
 * (pulumi/pulumi v3.274.1 pkg/cmd/pulumi/config/config.go:872-883) and drops one trailing "\n"
 * (sdk/go/common/util/cmdutil/console.go:129-137, RemoveTrailingNewline): nothing is written
 * after the value, so it is stored exactly (a JSON text here, which never ends in a newline).
 */
function setSecretThroughStdin(pulumi: string, root: string, env: NodeJS.ProcessEnv, stack: string, key: string, value: string): void {
  try {
    execFileSync(pulumi, ["config", "set", key, "--secret", "--stack", stack, "--cwd", root, "--non-interactive"], { input: value, env, stdio: ["pipe", "ignore", "pipe"] });
  } catch (error) {
    // The CLI's own words, redacted: it may quote what it was given.
    const { stderr, message } = error as { stderr?: Buffer; message?: string };
    throw new ReviewError(`pulumi config set ${key} --secret --stack ${stack} failed: ${redact(String(stderr ?? "").trim() || String(message ?? error))}`);
  }
}

if (require.main === module) {
  rememberEnvironmentSecrets();
  review(process.argv.slice(2)).then(
    (lines) => console.log(lines.join("\n")),
    (error: unknown) => {
      // Only a sentence: an error from the engine or a driver can quote the servers' admin URLs.
      console.error(redact(error instanceof Error ? error.message : String(error)));
      process.exit(1);
    },
  );
}
