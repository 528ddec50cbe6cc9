import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

/**
 * The GitHub Actions workflows against the rules of docs/pipeline-security.md: what a pull
 * request's code can reach, how actions are pinned, where deploys may run from. Every file in
 * .github/workflows is checked (the list comes from the directory). Each rule is also run on a
 * small planted workflow that breaks it (and only it), so each is shown able to fail.
 *
 * These rules read the files; what a branch can change in its own copy of a file is only held
 * by the repository's settings (environments, branch protection, OIDC trust), which
 * docs/pipeline-security.md lists.
 */

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOWS = path.join(ROOT, ".github/workflows");

type Mapping = Record<string, unknown>;
interface Step {
  name?: string;
  uses?: string;
  run?: string;
  shell?: string;
  if?: unknown;
  with?: Mapping;
  env?: Mapping;
}
interface Job {
  environment?: unknown;
  if?: unknown;
  uses?: string;
  permissions?: unknown;
  secrets?: unknown;
  steps?: Step[];
  [key: string]: unknown;
}
interface Workflow {
  file: string;
  text: string;
  events: string[];
  doc: Mapping;
  jobs: [string, Job][];
}

function load(file: string, text: string): Workflow {
  const doc = (parse(text) ?? {}) as Mapping;
  const on = doc.on;
  const events = typeof on === "string" ? [on] : Array.isArray(on) ? on.map(String) : on && typeof on === "object" ? Object.keys(on) : [];
  const jobs = Object.entries((doc.jobs ?? {}) as Record<string, Job>);
  return { file, text, events, doc, jobs };
}

const workflowFiles = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const workflows = workflowFiles.map((f) => load(f, readFileSync(path.join(WORKFLOWS, f), "utf8")));
function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} missing`);
  return value;
}
const byName = (file: string): Workflow => must(workflows.find((w) => w.file === file), file);
const jobOf = (w: Workflow, id: string): Job => must(w.jobs.find(([j]) => j === id)?.[1], `${w.file}: job ${id}`);

/** Every string in a value (keys not included), depth first. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === "object") return Object.values(value).flatMap(strings);
  return [];
}

/** The expressions of a job: every `${{ … }}`, and the bare expressions of its `if:` keys. */
function expressions(job: Job): string[] {
  const wrapped = strings(job).flatMap((s) => [...s.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1] ?? ""));
  const bare = [job.if, ...(job.steps ?? []).map((s) => s.if)].filter((x): x is string => typeof x === "string" && !x.includes("${{"));
  return [...wrapped, ...bare];
}

/** The secrets a job names: `secrets.X`, `secrets['X']`, the whole `secrets` object ("*"), and what a reusable-workflow call passes on. */
function secretsNamed(job: Job): string[] {
  const named = expressions(job).flatMap((e) =>
    [...e.matchAll(/\bsecrets\b(?:\s*\.\s*([A-Za-z_][\w-]*)|\s*\[\s*['"]([^'"]+)['"]\s*\])?/g)].map((m) => m[1] ?? m[2] ?? "*"),
  );
  if (job.secrets === "inherit") named.push("inherit");
  else if (job.secrets && typeof job.secrets === "object") named.push(...Object.keys(job.secrets));
  return named;
}

const DEFAULT_BRANCH = "format('refs/heads/{0}', github.event.repository.default_branch)";
const normalise = (s: unknown): string => (typeof s === "string" ? s.replace(/^\s*\$\{\{|\}\}\s*$/g, "").replace(/"/g, "'").replace(/\s+/g, " ").trim() : "");

/** A step that changes a deployed stack: `pulumi up`/`destroy`, the rotation, or pulumi/actions with command up/destroy. */
function deploys(step: Step): boolean {
  const run = step.run ?? "";
  if (/\bpulumi\s+(?:up|update|destroy)\b/.test(run) || /\bnpm\s+run\b[^\n]*\brotate\b/.test(run)) return true;
  return (step.uses ?? "").startsWith("pulumi/actions@") && ["up", "update", "destroy"].includes(String(step.with?.command ?? ""));
}

/** The job runs only on the default branch: its `if:` requires it, or a step before any deploy fails (exit 1) when github.ref is another. */
function checksDefaultBranch(job: Job): boolean {
  if (normalise(job.if).includes(`github.ref == ${DEFAULT_BRANCH}`)) return true;
  const steps = job.steps ?? [];
  const firstDeploy = steps.findIndex(deploys);
  return steps.some((s, i) => (firstDeploy < 0 || i < firstDeploy) && normalise(s.if).includes(`github.ref != ${DEFAULT_BRANCH}`) && /\bexit\s+1\b/.test(s.run ?? ""));
}

const OIDC_ACTIONS = ["aws-actions/configure-aws-credentials@", "pulumi/auth-actions@"];
const permissionsOf = (p: unknown): Record<string, string> =>
  p === "write-all" || p === "read-all" ? { "*": p.slice(0, -4) } : p && typeof p === "object" ? (p as Record<string, string>) : {};
const onPullRequests = (w: Workflow): boolean => w.events.includes("pull_request") || w.events.includes("pull_request_target");

/** Actions that put a credential in the job for the steps after them. */
const CREDENTIAL_ACTIONS = [...OIDC_ACTIONS, "google-github-actions/auth@"];
/** A value that names a credential: any secret, or the job's GitHub token. */
const namesCredential = (value: Job): boolean => secretsNamed(value).length > 0 || expressions(value).some((e) => /\bgithub\s*\.\s*token\b/.test(e));

/**
 * Where a job's credentials start: the index of the first step that obtains or names one, -1 when
 * the workflow's or the job's env (or its container) holds one for every step, undefined when
 * none does; and whether any step can mint an OIDC token (id-token: write: the runner gives every
 * step, `run:` ones too, ACTIONS_ID_TOKEN_REQUEST_TOKEN: actions/runner
 * src/Runner.Worker/Handlers/ScriptHandler.cs, RunAsync, at 002caa1e).
 */
function credentialsOf(w: Workflow, job: Job): { credential?: number; mintable: boolean } {
  const perms = permissionsOf(job.permissions ?? w.doc.permissions);
  const mintable = perms["id-token"] === "write" || perms["*"] === "write";
  if (namesCredential({ env: w.doc.env } as Job) || namesCredential({ env: job.env, container: job.container } as Job)) return { credential: -1, mintable };
  const first = (job.steps ?? []).findIndex((s) => CREDENTIAL_ACTIONS.some((a) => (s.uses ?? "").startsWith(a)) || namesCredential({ steps: [s] }));
  return { credential: first < 0 ? undefined : first, mintable };
}

/**
 * npm's commands that install packages, and so run their install scripts unless told not to, by
 * every name npm accepts for them (npm help install, ci, install-test, install-ci-test, update),
 * and `rebuild` (rb), which runs the install scripts of the packages it names, or of all.
 */
const NPM_INSTALLING = ["ci", "clean-install", "ic", "install-clean", "isntall-clean", "install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add",
  "install-test", "it", "install-ci-test", "cit", "clean-install-test", "sit", "update", "up", "upgrade", "udpate"];
const NPM_COMMAND = new RegExp(String.raw`\bnpm((?:\s+-{1,2}[\w-]+(?:[= ](?!-)[^\s;&|]+)?)*)\s+(${[...NPM_INSTALLING, "rebuild", "rb"].join("|")})(?![\w-])([^\n;&|]*)`, "g");

/** The packages whose install scripts a job with credentials may run (`npm rebuild <name>`), and why each is needed. */
const NEEDS_INSTALL_SCRIPT: Record<string, string> = {
  node: "its preinstall is what puts Node.js at node_modules/.bin/node, which the ops commands run (components/commands.ts)",
};

/** Each npm install or rebuild in a job's `run:` steps: its step, its words, and for a rebuild the packages named. */
function npmInstalls(job: Job): { step: number; command: string; rebuild?: string[] }[] {
  return (job.steps ?? []).flatMap((s, step) =>
    [...String(s.run ?? "").matchAll(NPM_COMMAND)].map(([command, , verb = "", rest = ""]) => ({
      step,
      command: command.trim(),
      ...(verb === "rebuild" || verb === "rb" ? { rebuild: rest.split(/\s+/).filter((word) => word && !word.startsWith("-")) } : {}),
    })),
  );
}

interface Rule {
  id: string;
  what: string;
  check(w: Workflow): string[];
  /** A workflow that breaks this rule and no other. */
  planted: string;
}

// Pieces of the planted workflows, each clean on its own.
const CHECKOUT = [
  "      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0",
  "        with:",
  "          persist-credentials: false",
].join("\n");
const GUARD = [
  "      - if: github.ref != format('refs/heads/{0}', github.event.repository.default_branch)",
  "        run: exit 1",
].join("\n");
const planted = (...lines: string[]): string => `${lines.join("\n")}\n`;
/**
 * A planted workflow of one job, `build`, on push: permissions {} at the top, the job's own
 * permissions (contents: read unless given), then the checkout and the steps given.
 */
function buildOnPush(
  steps: string[],
  { permissions = ["contents: read"], checkout = CHECKOUT, jobEnv = [] as string[], workflowEnv = [] as string[] } = {},
): string {
  return planted(
    "on: [push]",
    "permissions: {}",
    ...(workflowEnv.length ? ["env:", ...workflowEnv.map((e) => `  ${e}`)] : []),
    "jobs:",
    "  build:",
    "    runs-on: ubuntu-latest",
    "    permissions:",
    ...permissions.map((p) => `      ${p}`),
    ...(jobEnv.length ? ["    env:", ...jobEnv.map((e) => `      ${e}`)] : []),
    "    steps:",
    checkout,
    ...steps,
  );
}

const RULES: Rule[] = [
  {
    id: "no-pull-request-target",
    what: "no workflow runs on pull_request_target (the base repository's secrets and a write token next to a pull request's code)",
    check: (w) => (w.events.includes("pull_request_target") ? [`${w.file}: runs on pull_request_target`] : []),
    planted: planted("on:", "  pull_request_target:", "permissions: {}", "jobs:", "  label:", "    runs-on: ubuntu-latest", "    steps:", "      - run: echo hi"),
  },
  {
    id: "pr-job-secrets",
    what: "a job that runs on pull requests outside an environment names no secret but GITHUB_TOKEN (whole job: env, with, run, if; and the workflow's own env)",
    check: (w) =>
      onPullRequests(w)
        ? [
            ["(workflow env)", { env: w.doc.env, defaults: w.doc.defaults } as Job] as const,
            ...w.jobs.filter(([, job]) => job.environment === undefined),
          ].flatMap(([id, job]) =>
            secretsNamed(job)
              .filter((n) => n.toUpperCase() !== "GITHUB_TOKEN")
              .map((n) => `${w.file}: job ${id} runs on pull requests outside an environment and names secrets.${n}`),
          )
        : [],
    planted: planted(
      "on: [pull_request]",
      "permissions: {}",
      "jobs:",
      "  preview:",
      "    runs-on: ubuntu-latest",
      "    permissions:",
      "      contents: read",
      "    steps:",
      CHECKOUT,
      "      - run: npx pulumi preview",
      "        env:",
      "          TOKEN: ${{ github.token }}",
      "          PULUMI_ACCESS_TOKEN: ${{ secrets['PULUMI_ACCESS_TOKEN'] }}",
    ),
  },
  {
    id: "pinned-sha",
    what: "every action and remote reusable workflow is pinned by a full 40-hex commit SHA (local ./ workflows excepted), each on a `uses:` line",
    check: (w) => {
      const lines = [...w.text.matchAll(/^\s*(?:-\s+)?uses:\s*(['"]?)([^'"\s#]+)\1/gm)].map((m) => m[2] ?? "");
      const unpinned = lines
        .filter((ref) => !ref.startsWith("./"))
        .filter((ref) => !(ref.startsWith("docker://") ? /@sha256:[0-9a-f]{64}$/.test(ref) : /^[^@\s]+@[0-9a-f]{40}$/.test(ref)))
        .map((ref) => `${w.file}: ${ref} is not pinned by a full commit SHA`);
      const parsed = w.jobs.flatMap(([, job]) => [job.uses, ...(job.steps ?? []).map((s) => s.uses)]).filter((u): u is string => typeof u === "string");
      const hidden = parsed.filter((u) => !lines.includes(u)).map((u) => `${w.file}: uses ${u} is not on a \`uses:\` line of its own`);
      return [...unpinned, ...hidden];
    },
    planted: buildOnPush(["      - uses: actions/setup-node@v4 # v4.4.0"]),
  },
  {
    id: "version-comment",
    what: "the line of every SHA-pinned `uses:` ends with the version it stands for (`# vX.Y.Z`)",
    check: (w) =>
      [...w.text.matchAll(/^\s*(?:-\s+)?uses:\s*(['"]?)([^'"\s#]+@[0-9a-f]{40})\1(.*)$/gm)]
        .filter((m) => !/^\s+#\s*v\d+\.\d+\.\d+\b/.test(m[3] ?? ""))
        .map((m) => `${w.file}: ${m[2]} has no version comment`),
    planted: buildOnPush(["      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020"]),
  },
  {
    id: "deploy-guarded",
    what: "a job that deploys (pulumi up/destroy, npm run rotate, pulumi/actions command up) runs in an environment and checks it is on the default branch",
    check: (w) =>
      w.jobs
        .filter(([, job]) => (job.steps ?? []).some(deploys))
        .flatMap(([id, job]) => [
          ...(job.environment === undefined ? [`${w.file}: job ${id} deploys outside an environment`] : []),
          ...(checksDefaultBranch(job) ? [] : [`${w.file}: job ${id} deploys without checking it runs on the default branch`]),
        ]),
    planted: planted(
      "on: [workflow_dispatch]",
      "permissions: {}",
      "jobs:",
      "  up:",
      "    runs-on: ubuntu-latest",
      "    environment: production",
      "    permissions:",
      "      contents: read",
      "    steps:",
      CHECKOUT,
      "      - uses: pulumi/actions@8582a9e8cc630786854029b4e09281acd6794b58 # v6.6.1",
      "        with:",
      "          command: up",
      "          stack-name: production",
    ),
  },
  {
    id: "top-level-permissions",
    what: "every workflow sets top-level permissions, to nothing or contents: read; jobs ask for more",
    check: (w) => {
      if (!("permissions" in w.doc)) return [`${w.file}: no top-level permissions`];
      const extra = Object.entries(permissionsOf(w.doc.permissions)).filter(([k, v]) => !(k === "contents" && v === "read") && v !== "none");
      const all = typeof w.doc.permissions === "string" ? [`${w.file}: top-level permissions ${w.doc.permissions}`] : [];
      return [...all, ...extra.map(([k, v]) => `${w.file}: top-level permissions grant ${k}: ${v}`)];
    },
    planted: planted(
      "on: [push]",
      "jobs:",
      "  build:",
      "    runs-on: ubuntu-latest",
      "    permissions:",
      "      contents: read",
      "    steps:",
      CHECKOUT,
    ),
  },
  {
    id: "id-token-only-for-oidc",
    what: "id-token: write only in a job that exchanges it (AWS or Pulumi OIDC action) or calls a reusable workflow",
    check: (w) =>
      w.jobs
        .filter(([, job]) => permissionsOf(job.permissions)["id-token"] === "write" || permissionsOf(job.permissions)["*"] === "write")
        .filter(([, job]) => job.uses === undefined && !(job.steps ?? []).some((s) => OIDC_ACTIONS.some((a) => (s.uses ?? "").startsWith(a))))
        .map(([id]) => `${w.file}: job ${id} may mint OIDC tokens but uses no OIDC action`),
    planted: buildOnPush(["      - run: npm ci --ignore-scripts && npm test"], { permissions: ["contents: read", "id-token: write"] }),
  },
  {
    id: "pr-write-runs-no-code",
    what: "on pull requests, a job whose token may write (any write permission but id-token) checks out nothing and runs no command",
    check: (w) =>
      onPullRequests(w)
        ? w.jobs
            .filter(([, job]) => Object.entries(permissionsOf(job.permissions)).some(([k, v]) => k !== "id-token" && v === "write"))
            .filter(([, job]) => (job.steps ?? []).some((s) => s.run !== undefined || (s.uses ?? "").startsWith("actions/checkout@")))
            .map(([id]) => `${w.file}: job ${id} has a write permission and runs the pull request's code`)
        : [],
    planted: planted(
      "on: [pull_request]",
      "permissions: {}",
      "jobs:",
      "  comment:",
      "    runs-on: ubuntu-latest",
      "    permissions:",
      "      pull-requests: write",
      "    steps:",
      CHECKOUT,
      "      - run: npm ci && node scripts/comment.js",
    ),
  },
  {
    id: "checkout-no-persisted-token",
    what: "every actions/checkout sets persist-credentials: false (the job's token is not left in .git/config for later steps)",
    check: (w) =>
      w.jobs.flatMap(([id, job]) =>
        (job.steps ?? [])
          .filter((s) => (s.uses ?? "").startsWith("actions/checkout@") && String(s.with?.["persist-credentials"]) !== "false")
          .map(() => `${w.file}: job ${id} checks out with the token persisted`),
      ),
    planted: buildOnPush(["      - run: npm ci && npm test"], { checkout: "      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0" }),
  },
  {
    id: "install-before-credentials",
    what: "in a job where a credential exists (an OIDC, Pulumi or Google auth action, a secret or the job's token named in a step, the job's or the workflow's env, or id-token: write), every npm install and rebuild runs before the first step that has one, installs with --ignore-scripts, and rebuilds only the packages whose install scripts are needed, by name",
    check: (w) =>
      w.jobs.flatMap(([id, job]) => {
        const { credential, mintable } = credentialsOf(w, job);
        if (credential === undefined && !mintable) return [];
        const where = credential === undefined ? "" : credential < 0 ? " (the job's or the workflow's env holds a credential)" : ` (step ${credential + 1} obtains one)`;
        return npmInstalls(job).flatMap(({ step, command, rebuild }) => [
          ...(credential !== undefined && step >= credential ? [`${w.file}: job ${id} runs \`${command}\` in step ${step + 1}, not before its credentials${where}`] : []),
          ...(!rebuild && !/(^|\s)--ignore-scripts(=true)?(\s|$)/.test(command) ? [`${w.file}: job ${id} runs \`${command}\` with install scripts`] : []),
          ...(rebuild && (rebuild.length === 0 || rebuild.some((p) => !(p in NEEDS_INSTALL_SCRIPT)))
            ? [`${w.file}: job ${id} runs \`${command}\`: rebuilds only by name, and only ${Object.keys(NEEDS_INSTALL_SCRIPT).join(", ")}`]
            : []),
        ]);
      }),
    planted: buildOnPush(["      - uses: aws-actions/configure-aws-credentials@7474bc4690e29a8392af63c5b98e7449536d5c3a # v4.3.1", "      - run: npm ci && npm test"], { permissions: ["contents: read", "id-token: write"] }),
  },
  {
    id: "tee-keeps-failure",
    what: "a step that pipes a command into `tee` runs with pipefail (`shell: bash`, or `set -o pipefail`): GitHub's default shell on Linux is `bash -e {0}`, without pipefail, so the step's status would be tee's and a failed command would pass",
    check: (w) =>
      w.jobs.flatMap(([id, job]) =>
        (job.steps ?? [])
          .filter((s) => typeof s.run === "string" && /(^|[^|])\|\s*tee\b/.test(s.run))
          .filter((s) => {
            const shell = s.shell ?? ((job.defaults as { run?: { shell?: string } } | undefined)?.run?.shell) ?? ((w.doc.defaults as { run?: { shell?: string } } | undefined)?.run?.shell);
            return !(shell === "bash" || /pipefail/.test(shell ?? "") || /^\s*set\s+-[a-z]*o\s+pipefail\b/m.test(s.run!));
          })
          .map((s) => `${w.file}: job ${id} pipes into tee without pipefail: ${s.name ?? s.run!.trim().split("\n")[0]}`),
      ),
    planted: buildOnPush(["      - run: npm test | tee -a \"$GITHUB_STEP_SUMMARY\""]),
  },
];

describe("each rule catches the violation planted for it, and only that rule fires", () => {
  it.each(RULES.map((r) => [r.id, r] as const))("%s", (_id, rule) => {
    const w = load(`planted-${rule.id}.yml`, rule.planted);
    expect(rule.check(w).length, rule.what).toBeGreaterThan(0);
    for (const other of RULES.filter((r) => r !== rule)) expect(other.check(w), `${other.id} on the planted ${rule.id}`).toEqual([]);
  });

  it("a clean planted deploy (environment, default-branch check before the update) passes the deploy rule", () => {
    const rule = must(RULES.find((r) => r.id === "deploy-guarded"), "deploy-guarded");
    const good = rule.planted.replace(`${CHECKOUT}\n`, `${GUARD}\n${CHECKOUT}\n`);
    expect(rule.check(load("good.yml", good))).toEqual([]);
    // The check after the update does not count.
    expect(rule.check(load("late.yml", `${rule.planted}${GUARD}\n`))).not.toEqual([]);
  });

  it("a secret named in an environment's job, or GITHUB_TOKEN outside one, is allowed on pull requests", () => {
    const rule = must(RULES.find((r) => r.id === "pr-job-secrets"), "pr-job-secrets");
    expect(rule.check(load("env.yml", rule.planted.replace("    runs-on:", "    environment: preview\n    runs-on:")))).toEqual([]);
    expect(rule.check(load("gh.yml", rule.planted.replace("secrets['PULUMI_ACCESS_TOKEN']", "secrets.GITHUB_TOKEN")))).toEqual([]);
    // A workflow-level env reaches every job, environments or not.
    const top = rule.planted.replace("permissions: {}\n", "permissions: {}\nenv:\n  URL: ${{ secrets.GAIA_ADMIN_URL }}\n");
    expect(rule.check(load("top.yml", top))).toContain("top.yml: job (workflow env) runs on pull requests outside an environment and names secrets.GAIA_ADMIN_URL");
    // `toJSON(secrets)` and `secrets: inherit` name them all.
    expect(rule.check(load("all.yml", rule.planted.replace("secrets['PULUMI_ACCESS_TOKEN']", "toJSON(secrets)")))).toHaveLength(1);
    const call = planted("on: pull_request", "permissions: {}", "jobs:", "  call:", "    uses: ./.github/workflows/x.yml", "    secrets: inherit");
    expect(rule.check(load("call.yml", call))).toEqual(["call.yml: job call runs on pull requests outside an environment and names secrets.inherit"]);
  });

  describe("install-before-credentials, on planted jobs", () => {
    const rule = must(RULES.find((r) => r.id === "install-before-credentials"), "install-before-credentials");
    const AWS = "      - uses: aws-actions/configure-aws-credentials@7474bc4690e29a8392af63c5b98e7449536d5c3a # v4.3.1";
    const PULUMI_AUTH = "      - uses: pulumi/auth-actions@1c89817aab0c66407723cdef72b05266e7376640 # v1.0.1";
    // A made-up commit: no workflow uses this action, and only this rule reads the line.
    const GOOGLE_AUTH = "      - uses: google-github-actions/auth@0000000000000000000000000000000000000000 # v2.0.0";
    const run = (line: string) => `      - run: ${line}`;
    /** One job `build` of the given steps after the checkout: id-token: write unless told, top-level and job-level env as given. */
    const job = (steps: string[], { idToken = true, jobEnv = [] as string[], workflowEnv = [] as string[] } = {}) =>
      load("planted.yml", buildOnPush(steps, { permissions: ["contents: read", ...(idToken ? ["id-token: write"] : [])], jobEnv, workflowEnv }));
    const INSTALL = [run("npm ci --ignore-scripts"), run("npm rebuild node")];

    it("passes an install without scripts and node's rebuild, both before the credential", () => {
      expect(rule.check(job([...INSTALL, AWS, run("npm run -s rotate")]))).toEqual([]);
      // No credential and no id-token: the tests' job keeps its install scripts.
      expect(rule.check(job([run("npm ci"), run("npm test")], { idToken: false }))).toEqual([]);
    });

    it("catches the rotation job as it was: the install after the AWS credentials, with install scripts", () => {
      const old = job([
        "      - uses: pulumi/actions@8582a9e8cc630786854029b4e09281acd6794b58 # v6.6.1",
        AWS,
        run("npm ci"),
        "      - run: npm run -s rotate",
        "        env:",
        "          PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}",
      ]);
      expect(rule.check(old)).toEqual([
        "planted.yml: job build runs `npm ci` in step 4, not before its credentials (step 3 obtains one)",
        "planted.yml: job build runs `npm ci` with install scripts",
      ]);
    });

    it.each([
      ["after an AWS role, even without scripts", [AWS, ...INSTALL], ["`npm ci --ignore-scripts` in step 3, not before its credentials (step 2 obtains one)", "`npm rebuild node` in step 4, not before its credentials (step 2 obtains one)"]],
      ["after a Pulumi token", [PULUMI_AUTH, INSTALL[0]!], ["`npm ci --ignore-scripts` in step 3, not before its credentials (step 2 obtains one)"]],
      ["after a Google credential", [GOOGLE_AUTH, INSTALL[0]!], ["`npm ci --ignore-scripts` in step 3, not before its credentials (step 2 obtains one)"]],
      ["after a step that names the job's token", ["      - run: gh pr list", "        env:", "          GH_TOKEN: ${{ github.token }}", INSTALL[0]!], ["`npm ci --ignore-scripts` in step 3, not before its credentials (step 2 obtains one)"]],
      ["in the step that names a secret", ["      - run: npm ci --ignore-scripts", "        env:", "          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}"], ["`npm ci --ignore-scripts` in step 2, not before its credentials (step 2 obtains one)"]],
      ["before the credential, with install scripts", [run("npm ci"), AWS], ["`npm ci` with install scripts"]],
      ["under another of npm's names for install", [run("npm install-ci-test"), run("npm i -D left-pad"), run("npm --prefix policy-pack ci"), run("npm add x --ignore-scripts=false"), AWS], ["`npm install-ci-test` with install scripts", "`npm i -D left-pad` with install scripts", "`npm --prefix policy-pack ci` with install scripts", "`npm add x --ignore-scripts=false` with install scripts"]],
      ["rebuilding everything", [INSTALL[0]!, run("npm rebuild"), AWS], ["`npm rebuild`: rebuilds only by name, and only node"]],
      ["rebuilding a package whose script is not needed", [INSTALL[0]!, run("npm rebuild node esbuild"), AWS], ["`npm rebuild node esbuild`: rebuilds only by name, and only node"]],
      ["with install scripts in a job that can mint OIDC tokens, no other credential", [run("npm ci")], ["`npm ci` with install scripts"]],
    ])("catches an install %s", (_what, steps, messages) => {
      expect(rule.check(job(steps))).toEqual(messages.map((m) => `planted.yml: job build runs ${m}`));
    });

    it("catches any install in a job whose env, or whose workflow's env, holds a credential for every step", () => {
      const inEveryStep = ["`npm ci --ignore-scripts` in step 2, not before its credentials (the job's or the workflow's env holds a credential)"].map((m) => `planted.yml: job build runs ${m}`);
      expect(rule.check(job([INSTALL[0]!], { idToken: false, jobEnv: ["PULUMI_ACCESS_TOKEN: ${{ secrets.PULUMI_ACCESS_TOKEN }}"] }))).toEqual(inEveryStep);
      expect(rule.check(job([INSTALL[0]!], { idToken: false, workflowEnv: ["GH_TOKEN: ${{ github.token }}"] }))).toEqual(inEveryStep);
    });
  });
});

describe("the repository's workflows", () => {
  it("are the .yml files of .github/workflows (the ones actionlint lints)", () => {
    expect(workflowFiles.length).toBeGreaterThan(0);
    for (const f of workflowFiles) expect(f, "scripts/actionlint.sh lints *.yml").toMatch(/\.yml$/);
  });

  describe.each(workflowFiles)("%s", (file) => {
    it.each(RULES.map((r) => [r.id, r] as const))("obeys %s", (_id, rule) => {
      expect(rule.check(byName(file))).toEqual([]);
    });
  });

  it("the install rule sees the jobs that really install next to credentials (it is not vacuous), and catches each of them with its install scripts back", () => {
    const rule = must(RULES.find((r) => r.id === "install-before-credentials"), "install-before-credentials");
    const installing = workflows.flatMap((w) =>
      w.jobs
        .filter(([, job]) => {
          const { credential, mintable } = credentialsOf(w, job);
          return (credential !== undefined || mintable) && npmInstalls(job).length > 0;
        })
        .map(([id]) => `${w.file}:${id}`),
    );
    expect(installing.sort()).toEqual(["deploy-stack.yml:up", "pull-request.yml:preview", "restore-drill.yml:cloud", "review-environments.yml:prune", "review-environments.yml:review", "rotate-credentials.yml:rotate"]);
    for (const file of new Set(installing.map((j) => j.split(":")[0]!))) {
      const w = byName(file);
      expect(rule.check(load(file, w.text.replaceAll(" --ignore-scripts", ""))).length, file).toBeGreaterThan(0);
    }
  });

  it("the one install script rebuilt next to credentials is needed: node's makes node_modules/.bin/node, which the ops commands run; a preview runs none", () => {
    const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { hasInstallScript?: boolean; bin?: Record<string, string> }> };
    expect(Object.keys(NEEDS_INSTALL_SCRIPT)).toEqual(["node"]);
    expect(lock.packages["node_modules/node"]).toMatchObject({ hasInstallScript: true, bin: { node: "bin/node" } });
    expect(readFileSync(path.join(ROOT, "components/commands.ts"), "utf8")).toContain("node_modules/.bin/node dist/ops/");
    const rebuilt = workflows.flatMap((w) => w.jobs.flatMap(([id, job]) => npmInstalls(job).filter((i) => i.rebuild).map((i) => `${w.file}:${id} ${i.rebuild!.join(" ")}`)));
    expect(rebuilt.sort()).toEqual(["deploy-stack.yml:up node", "restore-drill.yml:cloud node", "review-environments.yml:prune node", "review-environments.yml:review node", "rotate-credentials.yml:rotate node"]);
  });

  it("the deploy rule sees the jobs that really deploy (it is not vacuous)", () => {
    const deploying = workflows.flatMap((w) => w.jobs.filter(([, job]) => (job.steps ?? []).some(deploys)).map(([id]) => `${w.file}:${id}`));
    expect(deploying.sort()).toEqual(["deploy-stack.yml:up", "rotate-credentials.yml:rotate"]);
  });
});

describe("what a pull request's code can reach", () => {
  it("every secret named, by workflow, job and environment: none in a pull-request job outside an environment", () => {
    const table = workflows.flatMap((w) =>
      w.jobs.flatMap(([id, job]) => [...new Set(secretsNamed(job))].map((s) => `${w.file} ${id} [${String(job.environment ?? "-")}] ${s}`)),
    );
    expect(table.sort()).toEqual([
      "deploy-stack.yml up [${{ inputs.stack }}] PULUMI_ACCESS_TOKEN",
      "deploy.yml dev [-] inherit",
      "deploy.yml production [-] inherit",
      "deploy.yml staging [-] inherit",
      "restore-drill.yml cloud [${{ matrix.stack }}-restore-drill] PULUMI_ACCESS_TOKEN",
      "review-environments.yml prune [review-prune] PULUMI_REVIEW_ACCESS_TOKEN",
      "review-environments.yml review [review] GAIA_REVIEW_SERVER_POSTGRES_ADMIN_URL",
      "review-environments.yml review [review] GAIA_REVIEW_SERVER_REDIS_ADMIN_URL",
      "review-environments.yml review [review] PULUMI_REVIEW_ACCESS_TOKEN",
      "rotate-credentials.yml rotate [${{ matrix.stack }}] PULUMI_ACCESS_TOKEN",
    ]);
    // deploy.yml runs on push to main only; its calls pass on what the environments hold.
    expect(byName("deploy.yml").events).toEqual(["push"]);
    expect(byName("deploy.yml").doc.on).toEqual({ push: { branches: ["main"] } });
  });

  it("pull-request.yml: only the preview job has an environment (`preview`), and it gets its credentials only through OIDC", () => {
    const w = byName("pull-request.yml");
    expect(w.jobs.filter(([, j]) => j.environment !== undefined).map(([id, j]) => [id, j.environment])).toEqual([["preview", "preview"]]);
    const preview = jobOf(w, "preview");
    expect(secretsNamed(preview)).toEqual([]);
    expect(permissionsOf(preview.permissions)).toEqual({ contents: "read", "id-token": "write" });
    const uses = (preview.steps ?? []).map((s) => s.uses ?? "");
    const auth = preview.steps?.find((s) => (s.uses ?? "").startsWith("pulumi/auth-actions@"));
    expect(auth?.with).toMatchObject({ "requested-token-type": "urn:pulumi:token-type:access_token:team", scope: "team:${{ vars.PULUMI_PREVIEW_TEAM }}" });
    const aws = preview.steps?.find((s) => (s.uses ?? "").startsWith("aws-actions/configure-aws-credentials@"));
    expect(aws?.with?.["role-to-assume"]).toBe("${{ vars.AWS_PREVIEW_ROLE_ARN }}");
    // Dependencies are installed before either credential exists in the job.
    const install = uses.findIndex((_u, i) => /npm ci/.test(preview.steps?.[i]?.run ?? ""));
    expect(install).toBeGreaterThan(-1);
    expect(install).toBeLessThan(uses.findIndex((u) => OIDC_ACTIONS.some((a) => u.startsWith(a))));
    // The preview only runs pulumi preview, never an update.
    expect((preview.steps ?? []).filter((s) => (s.uses ?? "").startsWith("pulumi/actions@") && s.with?.command).map((s) => s.with?.command)).toEqual(["preview"]);
  });

  it("pull-request.yml: production is never previewed from a pull request (the matrix is the touched stacks but production)", () => {
    const w = byName("pull-request.yml");
    expect((jobOf(w, "preview").strategy as Mapping).matrix).toEqual({ stack: "${{ fromJSON(needs.plans.outputs.previews) }}" });
    const step = jobOf(w, "plans").steps?.find((s) => s.name?.startsWith("Stacks to preview"));
    expect(step?.run).toContain(`map(select(. != "production"))`);
  });

  it("pull-request.yml: tests and plans keep running with no secret and read-only contents", () => {
    const w = byName("pull-request.yml");
    for (const id of ["test", "plans"]) {
      const job = jobOf(w, id);
      expect(secretsNamed(job), id).toEqual([]);
      expect(permissionsOf(job.permissions), id).toEqual({ contents: "read" });
      expect((job.steps ?? []).some((s) => /npm (ci|test)/.test(s.run ?? "")), id).toBe(true);
    }
  });

  it("review-environments.yml: the pull request's code runs only in `review`, with the review server's credentials, never dev's", () => {
    const w = byName("review-environments.yml");
    const review = jobOf(w, "review");
    expect(review.environment).toBe("review");
    const env = Object.assign({}, ...(review.steps ?? []).map((s) => s.env ?? {})) as Mapping;
    expect(env.GAIA_REVIEW_POSTGRES_URL).toBe("${{ secrets.GAIA_REVIEW_SERVER_POSTGRES_ADMIN_URL }}");
    expect(env.GAIA_REVIEW_REDIS_URL).toBe("${{ secrets.GAIA_REVIEW_SERVER_REDIS_ADMIN_URL }}");
    expect(env.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_REVIEW_ACCESS_TOKEN }}");
    for (const job of w.jobs.map(([, j]) => j)) expect(secretsNamed(job)).not.toContain("PULUMI_ACCESS_TOKEN");
    const prune = jobOf(w, "prune");
    expect([prune.if, prune.environment]).toEqual(["github.event_name == 'schedule'", "review-prune"]);
  });

  it("deploy-stack.yml: --ignore-protect only after the allow-replace environment's approval, on the default branch", () => {
    const w = byName("deploy-stack.yml");
    const gate = jobOf(w, "allow-replace");
    expect([gate.if, gate.environment]).toEqual(["inputs.allow-replace", "allow-replace"]);
    expect(checksDefaultBranch(gate)).toBe(true);
    const up = jobOf(w, "up");
    expect(up.needs).toBe("allow-replace");
    expect(normalise(up.if)).toBe("!cancelled() && (needs.allow-replace.result == 'success' || !inputs.allow-replace)");
    const step = up.steps?.find((s) => s.name === "pulumi up");
    expect(step?.env?.ALLOW_REPLACE).toBe("${{ inputs.allow-replace && needs.allow-replace.result == 'success' && 'true' || 'false' }}");
    expect(step?.run).toMatch(/if \[ "\$ALLOW_REPLACE" = true \]; then flags\+=\(--ignore-protect\)/);
    expect(up.environment).toBe("${{ inputs.stack }}");
  });

  it("a stack's rotation and its deploys share one concurrency group, never cancelled", () => {
    const deploy = jobOf(byName("deploy-stack.yml"), "up").concurrency as Mapping;
    const rotate = jobOf(byName("rotate-credentials.yml"), "rotate").concurrency as Mapping;
    expect(deploy).toEqual({ group: "deploy-${{ inputs.stack }}", "cancel-in-progress": false });
    expect(rotate).toEqual({ group: "deploy-${{ matrix.stack }}", "cancel-in-progress": false });
    // The same stack names the same group: the rotation's matrix and the deploy's input are the stack files' names.
    expect(String(rotate.group).replace("matrix.stack", "STACK")).toBe(String(deploy.group).replace("inputs.stack", "STACK"));
  });

  it("the rotation changes only the credentials: it runs only where main's head is the stack's deployed commit, with the deploys' policy pack, and its bump goes to main as a pull request", () => {
    const upStep = must(jobOf(byName("deploy-stack.yml"), "up").steps?.find((s) => s.name === "pulumi up"), "deploy's pulumi up step");
    const deployRun = String(upStep.run);
    // The deploy records what it deployed, after the update succeeded (a failed `pulumi up` ends the step first).
    expect(deployRun.indexOf('pulumi stack tag set gaia:deployed-commit "$GITHUB_SHA" --stack "$STACK"')).toBeGreaterThan(deployRun.indexOf('pulumi up "${flags[@]}"'));
    const rotate = jobOf(byName("rotate-credentials.yml"), "rotate");
    const rotateStep = must(rotate.steps?.find((s) => s.name === "Rotate"), "the Rotate step");
    const run = String(rotateStep.run);
    // Refused unless the stack's recorded commit is this one, before `npm run rotate`.
    expect(run).toMatch(/deployed=\$\(pulumi stack tag get gaia:deployed-commit --stack "\$STACK"[^)]*\)\n\s*if \[ "\$deployed" != "\$GITHUB_SHA" \]; then\n[^\n]*\n\s*exit 1\n\s*fi/);
    expect(run.indexOf("exit 1")).toBeLessThan(run.indexOf("npm run -s rotate"));
    // The checkout is the run's commit, nothing else.
    for (const checkout of (rotate.steps ?? []).filter((s) => (s.uses ?? "").startsWith("actions/checkout@"))) expect(checkout.with?.ref).toBeUndefined();
    // The policy pack deploys pass as --policy-pack, installed the same way.
    const pack = must(/--policy-pack (\S+)\)/.exec(deployRun) ?? undefined, "deploy's --policy-pack")[1];
    expect(rotateStep.env?.GAIA_POLICY_PACK).toBe(pack);
    const install = (job: Job) => String(job.steps?.find((s) => s.name === "Install")?.run);
    expect(install(rotate)).toContain(`npm ci --ignore-scripts --prefix ${pack}`);
    expect(install(jobOf(byName("deploy-stack.yml"), "up"))).toContain(`npm ci --ignore-scripts --prefix ${pack}`);
    // The bump: a branch of its own and a pull request to the default branch; no push to it.
    const propose = must(rotate.steps?.find((s) => /gh pr create/.test(String(s.run))), "the step opening the pull request");
    expect(propose.env?.BRANCH).toMatch(/^rotation\/\$\{\{ matrix\.stack \}\}-/);
    expect(propose.env?.BASE).toBe("${{ github.event.repository.default_branch }}");
    const pushes = [...String(propose.run).matchAll(/git push[^\n]*/g)].map((m) => m[0]);
    expect(pushes).toEqual(['git push origin "HEAD:refs/heads/$BRANCH"']);
    expect(String(propose.run)).toMatch(/gh pr create --base "\$BASE" --head "\$BRANCH"/);
    for (const step of rotate.steps ?? []) expect(String(step.run ?? "")).not.toMatch(/git push(?![^\n]*refs\/heads\/\$BRANCH)/);
  });

  it("write permissions, everywhere: pull-requests only for the comment jobs and the rotation's pull request, contents only for the rotation's branch, id-token only where OIDC is used", () => {
    const grants = workflows.flatMap((w) =>
      w.jobs.flatMap(([id, job]) =>
        Object.entries(permissionsOf(job.permissions))
          .filter(([, v]) => v === "write")
          .map(([k]) => `${w.file} ${id} ${k}`),
      ),
    );
    expect(grants.sort()).toEqual([
      "deploy-stack.yml up id-token",
      "deploy.yml dev id-token",
      "deploy.yml production id-token",
      "deploy.yml staging id-token",
      "pull-request.yml comment pull-requests",
      "pull-request.yml comment-previews pull-requests",
      "pull-request.yml preview id-token",
      "restore-drill.yml cloud id-token",
      "rotate-credentials.yml rotate contents",
      "rotate-credentials.yml rotate id-token",
      "rotate-credentials.yml rotate pull-requests",
    ]);
  });
});

it("docs/pipeline-security.md lists every pinned action with the one commit and version the workflows use", () => {
  const doc = readFileSync(path.join(ROOT, "docs/pipeline-security.md"), "utf8");
  const listed = [...doc.matchAll(/^\| ([\w.-]+\/[\w.-]+) \| `([0-9a-f]{40})` \| (v[\d.]+) \|$/gm)].map((m) => `${m[1]}@${m[2]} # ${m[3]}`);
  const pinned = workflows.flatMap((w) => [...w.text.matchAll(/uses:\s*([\w.-]+\/[\w.-]+)@([0-9a-f]{40})\s+#\s*(v[\d.]+)/g)].map((m) => `${m[1]}@${m[2]} # ${m[3]}`));
  const distinct = [...new Set(pinned)].sort();
  expect(listed.sort()).toEqual(distinct);
  // One version of each action across the workflows.
  const actions = distinct.map((p) => p.split("@")[0]);
  expect(actions).toEqual([...new Set(actions)]);
});

describe(".github/CODEOWNERS", () => {
  const lines = readFileSync(path.join(ROOT, ".github/CODEOWNERS"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.split(/\s+/));

  it.each([
    "/.github/", "/policy-pack/", "/policy/", "/stacks/", "/components/config.ts", "/components/core/", "/Pulumi.*.yaml", "/components/platforms/",
    "/package.json", "/package-lock.json", "/ops/", "/scripts/pr-plans.ts",
  ])("gives %s an owner team", (p) => {
    const owners = lines.filter(([pattern]) => pattern === p).at(-1)?.slice(1) ?? [];
    expect(owners.length, p).toBeGreaterThan(0);
    for (const o of owners) expect(o).toMatch(/^@[\w-]+\/[\w-]+$/);
    // No later line takes the path back (the last matching pattern wins).
    const later = lines.slice(lines.findIndex(([pattern]) => pattern === p) + 1).filter(([pattern]) => pattern !== undefined && (pattern === "*" || p.startsWith(pattern)));
    expect(later).toEqual([]);
  });
});
