/**
 * The offline plan of a stack: the real program under Pulumi's mocked runtime, printed as the
 * resource tree it would create (secrets masked). No cloud credentials, no Pulumi CLI.
 *
 *   npm run plan -- <stack>          the plan of Pulumi.<stack>.yaml, for people
 *   npm run plan -- <stack> --json   the same, for tools
 *   npm run plan -- --update         rewrites plans/<stack>.txt for every stack file
 */
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { GaiaConfigError } from "../stacks/config";
import { PROJECT_ROOT, planStack, readStackFile } from "./lib/offline";
import { planAsJson, planAsText } from "./lib/planFormat";

class UsageError extends Error {}

export const PLANS_FOLDER = path.join(PROJECT_ROOT, "plans");

export function stackNames(): string[] {
  return readdirSync(PROJECT_ROOT)
    .map((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

async function main(args: string[]) {
  if (args.includes("--update")) {
    for (const stack of stackNames()) {
      const { config, secretKeys } = readStackFile(stack);
      writeFileSync(path.join(PLANS_FOLDER, `${stack}.txt`), planAsText(await planStack(stack, config, secretKeys)));
      console.log(`plans/${stack}.txt updated`);
    }
    return;
  }
  const stack = args.find((a) => !a.startsWith("--"));
  if (!stack || !stackNames().includes(stack)) {
    throw new UsageError(`name a stack: npm run plan -- <${stackNames().join("|")}> [--json]`);
  }
  const { config, secretKeys } = readStackFile(stack);
  const plan = await planStack(stack, config, secretKeys);
  process.stdout.write(args.includes("--json") ? `${JSON.stringify(planAsJson(plan), null, 2)}\n` : planAsText(plan));
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (error: unknown) => {
      // Configuration and usage errors are sentences for people; anything else keeps its stack.
      console.error(error instanceof GaiaConfigError || error instanceof UsageError ? error.message : error);
      process.exit(1);
    },
  );
}
