/**
 * The offline plan of a stack: the real program under Pulumi's mocked runtime, printed as the
 * resource tree it would create (secrets masked). No cloud credentials, and no Pulumi CLI
 * unless the stack file holds encrypted values: then `pulumi config` decrypts them where it can.
 *
 *   npm run plan -- <stack>          the plan of Pulumi.<stack>.yaml, for people
 *   npm run plan -- <stack> --json   the same, for tools
 *   npm run plan -- <stack> --diff   what the code changes against plans/<stack>.txt: replacements first, with the input that forces each,
 *                                    restarts and what the cloud refuses (scripts/lib/replacements.ts); exits 1 on a refused change,
 *                                    and if it replaces or deletes a protected resource, unless --allow-replace;
 *                                    --base <file> compares with that plan instead (the base branch's, on a pull request)
 *   npm run plan -- <stack> --destroy what `pulumi destroy -s <stack>` would delete, keep, or where it is refused (scripts/lib/destroyPlan.ts)
 *   npm run plan -- --update         rewrites plans/<stack>.txt and its diagram plans/<stack>.md for every stack file
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { GaiaConfigError } from "../components/config";
import { exitAfterOutput } from "../ops/lib/env";
import { planStack, type StackPlan } from "./lib/offline";
import { PROJECT_ROOT, StackFileError, readStackConfig, readStackFile, stackNames } from "./lib/stackFile";
import { blockingRefusals, diffPlans, formatPlanDiff, readPlanText, type PlanChange } from "./lib/planDiff";
import { planAsMermaid } from "./lib/planDiagram";
import { formatDestroy, planDestroy } from "./lib/destroyPlan";
import { planAsJson, planAsText } from "./lib/planFormat";
import { headDiff, type HeadDiff } from "./lib/summaryDiff";

class UsageError extends Error {}

export const PLANS_FOLDER = path.join(PROJECT_ROOT, "plans");

export { stackNames } from "./lib/stackFile";

const FLAGS = ["--json", "--destroy", "--diff", "--base", "--allow-replace", "--update", "--help"];
const USAGE = () => `usage: npm run plan -- <${stackNames().join("|")}> [--json | --destroy | --diff [--base <plan.txt>] [--allow-replace]]   or   npm run plan -- --update`;

async function main(args: string[]) {
  const unknown = args.filter((a) => a.startsWith("-") && !FLAGS.includes(a));
  if (unknown.length) throw new UsageError(`unknown option ${unknown.join(", ")}: ${USAGE()}`);
  if (args.includes("--help")) return void console.log(USAGE());
  if (args.includes("--update")) {
    for (const stack of stackNames()) {
      const { config, secretKeys } = readStackFile(stack);
      const plan = await planStack(stack, config, secretKeys);
      for (const [file, text] of [[`${stack}.txt`, planAsText(plan)], [`${stack}.md`, planAsMermaid(plan)]] as const) {
        const target = path.join(PLANS_FOLDER, file);
        if (existsSync(target) && readFileSync(target, "utf8") === text) continue;
        writeFileSync(target, text);
        console.log(`plans/${file} updated`);
      }
    }
    if (updatePlanLinks(path.join(PROJECT_ROOT, "README.md"), stackNames())) console.log("README.md updated (its list of plans)");
    return;
  }
  const baseAt = args.indexOf("--base");
  const base = baseAt >= 0 ? args[baseAt + 1] : undefined;
  if (baseAt >= 0 && (!base || base.startsWith("--"))) throw new UsageError(`--base needs the plan file to compare with: ${USAGE()}`);
  const stacks = args.filter((a, i) => !a.startsWith("--") && !(baseAt >= 0 && i === baseAt + 1));
  const stack = stacks[0];
  if (!stack || stacks.length > 1 || !stackNames().includes(stack)) {
    throw new UsageError(`${stack && !stackNames().includes(stack) ? `no stack file Pulumi.${stack}.yaml. ` : ""}${USAGE()}`);
  }
  const plan = await planForPeople(stack);
  if (args.includes("--diff")) {
    const committed = base ?? path.join(PLANS_FOLDER, `${stack}.txt`);
    const { changes, head } = diffAgainst(existsSync(committed) ? readFileSync(committed, "utf8") : "", plan);
    process.stdout.write(formatPlanDiff(stack, changes, base ?? `plans/${stack}.txt`, head.lines));
    if (blockingRefusals(changes, args.includes("--allow-replace")).length) process.exitCode = 1;
    return;
  }
  if (args.includes("--destroy")) return void process.stdout.write(formatDestroy(stack, planDestroy(plan)));
  process.stdout.write(args.includes("--json") ? `${JSON.stringify(planAsJson(plan), null, 2)}\n` : planAsText(plan));
}

/**
 * A stack's plan for people (`npm run plan`, the pull-request comment). The committed plans
 * (--update) never depend on who runs them; this one uses the Pulumi CLI, where it can decrypt,
 * for what the file holds encrypted, and says on stderr what it could not.
 */
export async function planForPeople(stack: string): Promise<StackPlan> {
  const { config, secretKeys, decryption } = readStackConfig(stack);
  if (decryption) console.error(decryption);
  return planStack(stack, config, secretKeys);
}

/** What `plan` changes against a committed plan's text ("" for a stack that has none: everything is a creation). */
export function changesAgainst(committedText: string, plan: StackPlan): PlanChange[] {
  return diffAgainst(committedText, plan).changes;
}

/** The same, with what changes in the plan's summary and access policy (scripts/lib/summaryDiff.ts). */
export function diffAgainst(committedText: string, plan: StackPlan): { changes: PlanChange[]; head: HeadDiff } {
  const text = planAsText(plan);
  return { changes: diffPlans(readPlanText(committedText), readPlanText(text)), head: headDiff(committedText, text) };
}

/** The README's list of plans (between its `plans:start` and `plans:end` markers), one line a stack; whether it changed. */
export function updatePlanLinks(readmeFile: string, stacks: readonly string[]): boolean {
  const readme = readFileSync(readmeFile, "utf8");
  const list = stacks.map((s) => `- \`${s}\`: [plan](plans/${s}.txt), [diagram](plans/${s}.md)`).join("\n");
  const updated = readme.replace(/(<!-- plans:start -->\n)[\s\S]*?(\n<!-- plans:end -->)/, `$1${list}$2`);
  if (updated === readme) return false;
  writeFileSync(readmeFile, updated);
  return true;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => exitAfterOutput(Number(process.exitCode ?? 0)),
    (error: unknown) => {
      // Configuration and usage errors are sentences for people; anything else keeps its stack.
      console.error(error instanceof GaiaConfigError || error instanceof UsageError || error instanceof StackFileError ? error.message : error);
      exitAfterOutput(1);
    },
  );
}
