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
    planted: planted(
      "on: [push]",
      "permissions: {}",
      "jobs:",
      "  build:",
      "    runs-on: ubuntu-latest",
      "    permissions:",
      "      contents: read",
      "    steps:",
      CHECKOUT,
      "      - uses: actions/setup-node@v4 # v4.4.0",
    ),
  },
  {
    id: "version-comment",
    what: "the line of every SHA-pinned `uses:` ends with the version it stands for (`# vX.Y.Z`)",
    check: (w) =>
      [...w.text.matchAll(/^\s*(?:-\s+)?uses:\s*(['"]?)([^'"\s#]+@[0-9a-f]{40})\1(.*)$/gm)]
        .filter((m) => !/^\s+#\s*v\d+\.\d+\.\d+\b/.test(m[3] ?? ""))
        .map((m) => `${w.file}: ${m[2]} has no version comment`),
    planted: planted(
      "on: [push]",
      "permissions: {}",
      "jobs:",
      "  build:",
      "    runs-on: ubuntu-latest",
      "    permissions:",
      "      contents: read",
      "    steps:",
      CHECKOUT,
      "      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020",
    ),
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
    planted: planted(
      "on: [push]",
      "permissions: {}",
      "jobs:",
      "  build:",
      "    runs-on: ubuntu-latest",
      "    permissions:",
      "      contents: read",
      "      id-token: write",
      "    steps:",
      CHECKOUT,
      "      - run: npm ci && npm test",
    ),
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
    planted: planted(
      "on: [push]",
      "permissions: {}",
      "jobs:",
      "  build:",
      "    runs-on: ubuntu-latest",
      "    permissions:",
      "      contents: read",
      "    steps:",
      "      - uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0",
      "      - run: npm ci && npm test",
    ),
  },
  {
    id: "install-before-credentials",
    what: "in a job that obtains a credential (an OIDC action, or a step naming a secret), every npm install runs before the first such step, with --ignore-scripts (a dependency's install script never runs next to a credential)",
    check: (w) =>
      w.jobs.flatMap(([id, job]) => {
        const steps = job.steps ?? [];
        const credential = steps.findIndex((s) => OIDC_ACTIONS.some((a) => (s.uses ?? "").startsWith(a)) || (s.uses ?? "").startsWith("google-github-actions/auth@") || secretsNamed({ steps: [s] }).length > 0);
        if (credential < 0) return [];
        return steps.flatMap((s, i) =>
          [...String(s.run ?? "").matchAll(/\bnpm\s+(ci|install|i)\b[^\n;&|]*/g)].flatMap(([install]) => [
            ...(i > credential ? [`${w.file}: job ${id} runs \`${install.trim()}\` after it obtains a credential`] : []),
            ...(!install.includes("--ignore-scripts") ? [`${w.file}: job ${id} runs \`${install.trim()}\` with install scripts`] : []),
          ]),
        );
      }),
    planted: planted(
      "on: [push]",
      "permissions: {}",
      "jobs:",
      "  build:",
      "    runs-on: ubuntu-latest",
      "    permissions:",
      "      contents: read",
      "      id-token: write",
      "    steps:",
      CHECKOUT,
      "      - uses: aws-actions/configure-aws-credentials@7474bc4690e29a8392af63c5b98e7449536d5c3a # v4.3.1",
      "      - run: npm ci && npm test",
    ),
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

  it("write permissions, everywhere: pull-requests only for the comment jobs, contents only for the rotation's push, id-token only where OIDC is used", () => {
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
      "rotate-credentials.yml rotate contents",
      "rotate-credentials.yml rotate id-token",
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

  it.each(["/.github/", "/policy-pack/", "/policy/", "/stacks/", "/components/config.ts"])("gives %s an owner team", (p) => {
    const owners = lines.filter(([pattern]) => pattern === p).at(-1)?.slice(1) ?? [];
    expect(owners.length, p).toBeGreaterThan(0);
    for (const o of owners) expect(o).toMatch(/^@[\w-]+\/[\w-]+$/);
    // No later line takes the path back (the last matching pattern wins).
    const later = lines.slice(lines.findIndex(([pattern]) => pattern === p) + 1).filter(([pattern]) => pattern !== undefined && (pattern === "*" || p.startsWith(pattern)));
    expect(later).toEqual([]);
  });
});
