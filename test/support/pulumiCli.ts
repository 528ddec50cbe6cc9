import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/stackFile";

/**
 * The real Pulumi CLI (scripts/pulumi-cli.sh: `pulumi` on PATH, or the pinned build that
 * `npm test` makes once), in a project of its own: this project's Pulumi.yaml, the stack files
 * given, a file backend and the passphrase secrets provider, all in a temporary folder. Only
 * what needs no engine runs here (stack init, config); `pulumi up` cannot (docs/verification.md, "Known limits").
 */
export interface CliProject {
  root: string;
  cli: string;
  /** The CLI's environment: the backend, its home, the passphrase. */
  env: NodeJS.ProcessEnv;
  /** `pulumi <args>` in the project; its stdout. Throws with the CLI's stderr when it fails. */
  pulumi(...args: string[]): string;
  /** A shell line run in the project as a person would type it, with `pulumi` first on PATH. */
  shell(line: string, extraPath?: string): string;
}

export function pulumiCli(): string {
  return execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/pulumi-cli.sh"), "--installed"], { encoding: "utf8" }).trim();
}

export function cliProject(stackFiles: string[] = [], passphrase = "test-passphrase"): CliProject {
  const cli = pulumiCli();
  const root = mkdtempSync(path.join(tmpdir(), "gaia-cli-"));
  mkdirSync(path.join(root, "backend"));
  copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
  for (const file of stackFiles) copyFileSync(file, path.join(root, path.basename(file)));
  const bin = path.dirname(cli);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_BACKEND_URL: `file://${path.join(root, "backend")}`,
    PULUMI_HOME: path.join(root, ".pulumi"),
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  const run = (file: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    try {
      return execFileSync(file, args, { cwd: root, env: { ...env, ...extraEnv }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      throw new Error(`${path.basename(file)} ${args.join(" ")} failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
    }
  };
  return {
    root,
    cli,
    env,
    pulumi: (...args) => run(cli, [...args, "--non-interactive"]),
    shell: (line, extraPath) => run("bash", ["-euo", "pipefail", "-c", line], { PATH: [extraPath, bin, process.env.PATH].filter(Boolean).join(":") }),
  };
}
