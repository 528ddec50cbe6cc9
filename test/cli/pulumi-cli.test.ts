import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planStack } from "../../scripts/lib/offline";
import { planAsText } from "../../scripts/lib/planFormat";
import { PROJECT_ROOT, readStackConfig, readStackFile } from "../../scripts/lib/stackFile";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { docBlocks } from "../support/docs";
import { cliProject } from "../support/pulumiCli";

/**
 * Stack files and the real Pulumi CLI (scripts/pulumi-cli.sh): the offline plan decrypts what
 * a stack file holds encrypted by asking the CLI, as `pulumi preview` would hand it to the
 * program, and every config command the README shows is accepted by the CLI and then planned.
 */
const FIXTURES = path.join(PROJECT_ROOT, "test/fixtures/pulumi-cli");
type EngineConfig = Record<string, { value: string; secret: boolean }>;

describe.each(["local", "staging"])("the CLI-written stack file %s with the Pulumi CLI", (stack) => {
  const engine = JSON.parse(readFileSync(path.join(FIXTURES, `${stack}.config.json`), "utf8")) as EngineConfig;
  const fixture = path.join(FIXTURES, `Pulumi.${stack}.yaml`);

  it("hands the program exactly what the engine would, decrypted, and plans it with the secrets masked", async () => {
    const project = cliProject([fixture], "fixture-passphrase");
    project.pulumi("stack", "init", stack);
    const read = readStackConfig(stack, { root: project.root, pulumi: project.cli, env: project.env });
    expect(read.config).toEqual(Object.fromEntries(Object.entries(engine).map(([key, { value }]) => [key, value])));
    expect(read.secretKeys.sort()).toEqual(Object.keys(engine).filter((key) => engine[key]!.secret).sort());
    expect(read.undecrypted).toEqual([]);
    expect(read.decryption).toMatch(/: decrypted by `pulumi config --show-secrets` \(shown as \[secret\]\)$/);

    const plan = await planStack(stack, read.config, read.secretKeys);
    expect(plan.notDecrypted).toEqual([]);
    const text = planAsText(plan);
    for (const { value } of Object.values(engine).filter((e) => e.secret)) {
      for (const part of [value, ...Object.values(JSON.parse(value.startsWith("{") ? value : "{}") as Record<string, string>)]) {
        expect(text).not.toContain(part);
      }
    }
    if (stack === "local") {
      // The decrypted admin URL is the one planned: the provider reaches the server it names.
      const provider = plan.resources.find((r) => r.type === "pulumi:providers:postgresql")!;
      expect(provider.inputs.port).toBe("54329");
    }
  });

  it("falls back to placeholders, with the CLI's reason, when the CLI cannot decrypt", async () => {
    const project = cliProject([fixture], "fixture-passphrase");
    project.pulumi("stack", "init", stack);
    const wrong = readStackConfig(stack, { root: project.root, pulumi: project.cli, env: { ...project.env, PULUMI_CONFIG_PASSPHRASE: "not-the-passphrase" } });
    const encrypted = stack === "local" ? "gaia:local.postgresUrl" : "gaia:adminEmail";
    expect(wrong.decryption).toBe(`${encrypted}: encrypted, and pulumi config could not decrypt it (incorrect passphrase), so planned with placeholders`);
    expect(wrong.config).toEqual(readStackFile(stack, project.root).config);
    const none = readStackConfig(stack, { root: project.root, pulumi: path.join(project.root, "no-such-pulumi") });
    expect(none.decryption).toBe(`${encrypted}: encrypted, and pulumi config could not decrypt it (no pulumi CLI on PATH), so planned with placeholders`);
    const plan = await planStack(stack, wrong.config, wrong.secretKeys);
    expect(plan.notDecrypted).toEqual([encrypted]);
  });
});

/** The shell lines of the documentation's sh blocks (README and docs/) that run `pulumi stack init` or `pulumi config`. */
function readmeConfigCommands(): string[] {
  return docBlocks("sh")
    .flatMap((block) => block.split("\n"))
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => /^pulumi (stack init|config)\b/.test(line));
}

describe("the README's config commands", () => {
  const commands = readmeConfigCommands();

  it("are the ones a platform engineer needs: the local flow and a new cloud stack", () => {
    expect(commands).toContain('pulumi config set -s local --secret --path gaia:local.postgresUrl "$(npm run -s local-db -- url)"');
    expect(commands.filter((c) => c.startsWith("pulumi stack init")).length).toBeGreaterThanOrEqual(2);
    expect(commands.some((c) => / --secret gaia:adminEmail /.test(c))).toBe(true);
    // The new stack names an IAM role for every service of the access policy, one added since
    // included (README, "Extending"): a staging stack naming some of them is refused.
    for (const service of SERVICE_ROLE_NAMES) expect(commands.filter((c) => c.startsWith(`pulumi config set -s qa --path gaia:aws.serviceRoles.${service} `)), service).toHaveLength(1);
  });

  // Every config line of the docs through the real CLI, each a process of a second or more: about a
  // minute on a quiet 2-core machine, so the default 60 s is no bound for it.
  it("run as written with the Pulumi CLI, and every stack they make plans with what they set", { timeout: 240_000 }, async () => {
    // The committed stack files, as a clone has them; `npm` is the project's, with its local server's files elsewhere.
    const stackFiles = ["local", "dev", "staging", "production"].map((s) => path.join(PROJECT_ROOT, `Pulumi.${s}.yaml`));
    const project = cliProject(stackFiles);
    const shims = path.join(project.root, "shims");
    const npm = execFileSync("bash", ["-c", "command -v npm"], { encoding: "utf8" }).trim();
    project.shell(`mkdir -p ${shims} && printf '#!/bin/sh\\ncd ${PROJECT_ROOT} && GAIA_LOCAL_DB_HOME=${project.root}/local-db exec ${npm} "$@"\\n' > ${shims}/npm && chmod +x ${shims}/npm`);
    const stacks = new Set<string>();
    for (const line of commands) {
      project.shell(line, shims);
      stacks.add(/^pulumi stack init (\S+)/.exec(line)?.[1] ?? / -s (\S+)/.exec(line)![1]!);
    }
    expect([...stacks].sort()).toEqual(["local", "qa"]);

    const local = readStackConfig("local", { root: project.root, pulumi: project.cli, env: project.env });
    expect(local.decryption).toMatch(/^gaia:local\.postgresUrl: decrypted by/);
    const adminUrl = readFileSync(path.join(project.root, "local-db/postgres.password"), "utf8").trim();
    expect(JSON.parse(local.config["gaia:local"]!).postgresUrl).toBe(`postgresql://postgres:${adminUrl}@127.0.0.1:54329/postgres`);
    expect(local.secretKeys).toContain("gaia:local");

    const qa = readStackConfig("qa", { root: project.root, pulumi: project.cli, env: project.env });
    expect(qa.secretKeys).toEqual(["gaia:adminEmail"]);
    for (const stack of ["local", "qa"]) {
      const read = readStackConfig(stack, { root: project.root, pulumi: project.cli, env: project.env });
      const plan = await planStack(stack, read.config, read.secretKeys);
      expect(plan.resources.length, stack).toBeGreaterThan(10);
    }
    // What the qa commands set is what its plan is made of.
    const qaPlan = await planStack("qa", qa.config, qa.secretKeys);
    const instance = qaPlan.resources.find((r) => r.type === "aws:rds/instance:Instance" && !r.name.includes("replica"))!;
    expect(instance.inputs.identifier).toBe("gaia-qa-postgres");
    expect(qaPlan.resources.filter((r) => r.type === "aws:rds/instance:Instance")).toHaveLength(2);
    expect(qaPlan.outputs.pool!.value).toEqual({ size: 12, maxOverflow: 20 });
  });
});
