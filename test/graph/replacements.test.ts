import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { gaiaStack } from "../../program";
import { planProgram, planStack } from "../../scripts/lib/offline";
import { blockingRefusals, cloudRefusals, diffPlans, formatPlanDiff, protectedRefusals, readPlanText, valueAt, type PlanChange } from "../../scripts/lib/planDiff";
import { planAsText } from "../../scripts/lib/planFormat";
import { PROVIDERS, REPLACEMENT_RULES, STATEFUL_TYPES, compareVersions, type InputRule } from "../../scripts/lib/replacements";
import { PROJECT_ROOT, readStackFile } from "../../scripts/lib/stackFile";
import { copyProject } from "../support/project";
import { CLOUD_PLATFORMS, planOn, stackOn } from "../support/stacks";

type Plan = Map<string, Map<string, string>>;

const PLANS = path.join(PROJECT_ROOT, "plans");
const committed = Object.fromEntries(
  readdirSync(PLANS)
    .filter((f) => f.endsWith(".txt"))
    .map((f) => [f.replace(/\.txt$/, ""), readFileSync(path.join(PLANS, f), "utf8")]),
);

/** Every plan the tests read a type from: the committed ones, then each stack moved to the platforms no stack file is on. */
const plans: Promise<[string, string][]> = (async () => {
  const out: [string, string][] = Object.entries(committed);
  for (const platform of CLOUD_PLATFORMS.filter((p) => p !== "aws")) {
    for (const stack of ["staging", "production"]) out.push([`${stack} on ${platform}`, planAsText(await planOn(stack, platform))]);
  }
  return out;
})();

/** The first plan, and resource in it, of a type. */
async function planWith(type: string): Promise<{ name: string; text: string; resource: string }> {
  for (const [name, text] of await plans) {
    const resource = [...readPlanText(text).keys()].find((key) => key.startsWith(`${type}::`));
    if (resource) return { name, text, resource };
  }
  throw new Error(`no plan has a ${type}`);
}

const copy = (plan: Plan): Plan => new Map([...plan].map(([k, v]) => [k, new Map(v)]));

/** `plan` with the input at a rule's dotted path of one resource set (undefined: unset); `[]` sets every element's. */
function setInput(plan: Plan, resource: string, inputPath: string, value: unknown): Plan {
  const next = copy(plan);
  const inputs = next.get(resource)!;
  const [top, ...rest] = inputPath.split(".");
  const key = top!.replace(/\[\]$/, "");
  const current = inputs.has(key) ? JSON.parse(inputs.get(key)!) : undefined;
  const updated = rest.length === 0 && !top!.endsWith("[]") ? value : setPath(current, [top!.endsWith("[]") ? "[]" : "", ...rest].filter(Boolean), value);
  if (updated === undefined) inputs.delete(key);
  else inputs.set(key, JSON.stringify(updated));
  return next;
}
function setPath(value: unknown, parts: string[], leaf: unknown): unknown {
  if (parts.length === 0) return leaf;
  const [head, ...rest] = parts;
  if (head === "[]") return (Array.isArray(value) && value.length ? value : [{}]).map((e) => setPath(e, rest, leaf));
  const each = head!.endsWith("[]");
  const key = each ? head!.slice(0, -2) : head!;
  const object = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const inner = setPath(object[key], each ? ["[]", ...rest] : rest, leaf);
  const out = { ...object };
  if (inner === undefined) delete out[key];
  else out[key] = inner;
  return out;
}

/** A value different from `v`, of its kind. */
function another(v: unknown): unknown {
  if (typeof v === "string") return `${v}-changed`;
  if (typeof v === "number") return v + 1;
  if (typeof v === "boolean") return !v;
  if (Array.isArray(v)) return [...v, "changed"];
  if (v && typeof v === "object") return { ...v, changed: "changed" };
  return "changed";
}

/** The plan before and after one rule's change: its example, or any other value at its path. */
function ruleChange(text: string, resource: string, rule: InputRule): { before: Plan; next: Plan } {
  let before = readPlanText(text);
  let next = before;
  const example = rule.example ?? { [rule.input]: [valueAt(Object.fromEntries([...before.get(resource)!].map(([k, v]) => [k, JSON.parse(v)])), rule.input), undefined] };
  for (const [input, [was, is]] of Object.entries(example)) {
    before = setInput(before, resource, input, was);
    next = setInput(next, resource, input, rule.example ? is : another(was));
  }
  return { before, next };
}

/** The pinned SDK's declaration file of a type token, and the resource's class name: `aws:rds/instance:Instance` is @pulumi/aws/rds/instance.d.ts. */
function sdkFile(type: string): { file: string; name: string } {
  const [pkg, module, name] = /^([a-z]+):([^:]+):(\w+)$/.exec(type)!.slice(1) as [string, string, string];
  const [dir, base] = module.includes("/") ? [module.split("/")[0]!.replace(/^index$/, ""), module.split("/")[1]!] : [module, name[0]!.toLowerCase() + name.slice(1)];
  // gcp:projects/iAMMember:IAMMember is projects/iammember.d.ts.
  return { file: path.join(PROJECT_ROOT, "node_modules/@pulumi", pkg, dir, `${base === "iAMMember" ? "iammember" : base}.d.ts`), name };
}

const rulesOf = ([type, t]: [string, (typeof REPLACEMENT_RULES)[string]]) => t.rules.map((rule) => [type, rule.effect, rule.input, rule.condition ?? "any change", rule] as const);
const ALL_RULES = Object.entries(REPLACEMENT_RULES).flatMap(rulesOf);
/** A replacement a "not applied" rule masks for any change (the component's ignoreChanges): the diff says that instead. */
const masked = (type: string, input: string) => REPLACEMENT_RULES[type]!.rules.some((r) => r.effect === "not applied" && r.input === input && !r.when);

describe("the replacement table (scripts/lib/replacements.ts)", () => {
  it("has every resource type the plans make, on every platform, and every explicit provider", async () => {
    const types = new Set((await plans).flatMap(([, text]) => [...readPlanText(text).keys()].map((k) => k.split("::")[0]!)));
    for (const type of types) {
      if (type.startsWith("pulumi:providers:")) expect(PROVIDERS, type).toHaveProperty([type]);
      else expect(REPLACEMENT_RULES, type).toHaveProperty([type]);
    }
  });

  it("names only inputs the pinned SDK has for that type, and says where each rule comes from", () => {
    for (const [type, , input, , rule] of ALL_RULES) {
      if (type.startsWith("gaia:")) continue;
      const { file, name } = sdkFile(type);
      const args = new RegExp(`export interface ${name}Args \\{([\\s\\S]*?)\\n\\}`).exec(readFileSync(file, "utf8"))![1]!;
      const top = input.split(".")[0]!.replace(/\[\]$/, "");
      expect(args, `${type}: ${top}`).toMatch(new RegExp(`\\n\\s+(readonly )?${top}\\??:`));
      expect(rule.source, `${type} ${input}`).toMatch(/\S{10,}/);
    }
  });

  it("takes the component's ignoreChanges, and nothing else, as its own 'not applied' rules", async () => {
    const ignored = new Set<string>();
    const program = () => {
      pulumi.runtime.registerStackTransformation((args) => {
        for (const input of args.opts.ignoreChanges ?? []) ignored.add(`${args.type} ${input}`);
        return undefined;
      });
      return gaiaStack();
    };
    for (const platform of CLOUD_PLATFORMS) await planProgram("production", stackOn("production", platform), program);
    const ownRules = ALL_RULES.filter(([, effect, , , rule]) => effect === "not applied" && rule.source.startsWith("components/")).map(([type, , input]) => `${type} ${input}`);
    expect(new Set(ownRules)).toEqual(ignored);
  });

  it("cites the component's own code at the lines that say so", () => {
    const cited = ALL_RULES.flatMap(([, , , , rule]) => [...rule.source.matchAll(/(components\/[\w/.]+\.ts):([\d,]+) (\w+)/g)]);
    expect(cited.length).toBeGreaterThan(0);
    for (const [, file, lines, what] of cited) {
      const text = readFileSync(path.join(PROJECT_ROOT, file!), "utf8").split("\n");
      for (const line of lines!.split(",")) expect(text[Number(line) - 1], `${file}:${line}`).toContain(what);
    }
  });

  // The property over the whole table: every rule, applied to a resource of its type in a committed
  // plan (a planned one for the platforms no stack file is on), says what the rule says.
  it.each(ALL_RULES.filter(([type]) => !type.startsWith("gaia:")).map(([type, effect, input, condition, rule]) => [`${type} ${input} (${condition}): ${effect}`, type, rule] as const))(
    "%s",
    async (_, type, rule) => {
      const { text, resource } = await planWith(type);
      const { before, next } = ruleChange(text, resource, rule);
      const changes = diffPlans(before, next);
      const change = changes.find((c) => c.resource === resource)!;
      const diff = formatPlanDiff("test", changes);
      const [, name] = resource.split("::");
      if (rule.effect === "replaces" && masked(type, rule.input)) {
        expect(change.verb).toBe("updates");
        expect(change.details.join("\n")).toContain(`${rule.input}: `);
        expect(change.details.join("\n")).toContain("(not applied: ");
      } else if (rule.effect === "replaces") {
        expect(diff).toContain(`  replaces ${type} ${name}`);
        expect(change.details.some((d) => d.startsWith(`${rule.input} forces it`)), change.details.join("\n")).toBe(true);
      } else if (rule.effect === "refused") {
        expect(cloudRefusals(changes).some((r) => r.startsWith(`refused: ${change.verb} ${type} ${name}: ${rule.input}: `))).toBe(true);
        expect(blockingRefusals(changes, true)).not.toEqual([]);
      } else if (rule.effect === "restarts") {
        expect(diff).toMatch(new RegExp(`  updates ${type} ${name}  restarts the server \\(.*${rule.input.replace(/[.[\]]/g, "\\$&")}: `));
      } else {
        expect(change.details.some((d) => d.startsWith(`${rule.input}: `) && d.includes("(not applied: "))).toBe(true);
        expect(change.verb).toBe("updates");
      }
    },
  );

  it("compares versions as the clouds write them", () => {
    expect(compareVersions("15", "16")).toBeLessThan(0);
    expect(compareVersions("16.4", "16")).toBeGreaterThan(0);
    expect(compareVersions("POSTGRES_17", "POSTGRES_16")).toBeGreaterThan(0);
    expect(compareVersions("REDIS_6_X", "REDIS_7_2")).toBeLessThan(0);
    expect(compareVersions("7.1", "7.1")).toBe(0);
  });
});

/** The diff of a stack's committed plan against its plan with some stack settings changed. */
async function diffWith(stack: string, settings: Record<string, string>): Promise<PlanChange[]> {
  const { config, secretKeys } = readStackFile(stack);
  const plan = await planStack(stack, { ...config, ...settings }, secretKeys);
  return diffPlans(readPlanText(committed[stack]!), readPlanText(planAsText(plan)));
}
const instance = (stack: string, set: Record<string, unknown>) => {
  const { config } = readStackFile(stack);
  return { "gaia:instance": JSON.stringify({ ...JSON.parse(config["gaia:instance"] ?? "{}"), ...set }) };
};
const one = (changes: PlanChange[], resource: string) => changes.find((c) => c.resource === resource);

describe("npm run plan -- <stack> --diff: replacements, refusals and restarts", () => {
  it("moving production to another region replaces every AWS resource, and what goes with the instance; refused, as they are protected", async () => {
    const changes = await diffWith("production", { "gaia:region": "eu-west-1", "gaia:alerts": JSON.stringify({ notify: "arn:aws:sns:eu-west-1:123456789012:gaia-production-alerts" }) });
    const before = readPlanText(committed.production!);
    const aws = [...before.keys()].filter((k) => k.startsWith("aws:"));
    for (const resource of aws) {
      expect(one(changes, resource)?.verb, resource).toBe("replaces");
      expect(one(changes, resource)!.details[0]).toMatch(/^region forces it \(from its provider gaia-production-aws: "us-east-1" -> "eu-west-1"\)/);
    }
    // Stateful: the instance, replicas, Redis, key and secrets, and the database that is deleted with the instance.
    const stateful = [...before.keys()].filter((k) => STATEFUL_TYPES.has(k.split("::")[0]!));
    for (const resource of stateful) expect(one(changes, resource)?.verb, resource).toBe("replaces");
    expect(one(changes, "postgresql:index/database:Database::gaia_production")!.details[0]).toBe("deleted with gaia-production-postgres, which is replaced: the engine replaces it too");
    expect(one(changes, "postgresql:index/role:Role::gaia_production_owner")?.verb).toBe("replaces");
    // The schema command is replaced with the database (replaceWith): its migrations and the policy run anew.
    expect(one(changes, "command:local:Command::gaia-production-schema")?.verb).toBe("replaces");
    expect(one(changes, "command:local:Command::gaia-production-schema")!.details[0]).toBe("replaced with gaia_production, which is replaced: the engine replaces it too");
    expect(one(changes, "pulumi:providers:aws::gaia-production-aws")?.verb).toBe("updates");
    const refused = protectedRefusals(changes);
    for (const resource of ["aws:rds/instance:Instance gaia-production-postgres", "aws:elasticache/replicationGroup:ReplicationGroup gaia-production-redis", "aws:kms/key:Key gaia-production-key", "postgresql:index/database:Database gaia_production"]) {
      expect(refused.some((r) => r.startsWith(`refused: replaces protected ${resource};`)), resource).toBe(true);
    }
  });

  it("exits 1 on that move through the CLI, and 0 with --allow-replace (nothing the cloud refuses)", () => {
    const root = copyProject("gaia-plan-region-");
    const file = path.join(root, "Pulumi.production.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("gaia:region: us-east-1", "gaia:region: eu-west-1").replace("arn:aws:sns:us-east-1:", "arn:aws:sns:eu-west-1:"));
    const run = (...flags: string[]) => spawnSync(process.execPath, [path.join(PROJECT_ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/plan.ts", "production", "--diff", ...flags], { cwd: root, encoding: "utf8" });
    const refused = run();
    expect(refused.stderr).toBe("");
    expect(refused.stdout).toContain(
      '  replaces aws:rds/instance:Instance gaia-production-postgres  [stateful: its data goes with it]\n      region forces it (from its provider gaia-production-aws: "us-east-1" -> "eu-west-1")\n',
    );
    expect(refused.stdout).toContain("refused: replaces protected aws:rds/instance:Instance gaia-production-postgres;");
    expect(refused.status).toBe(1);
    expect(run("--allow-replace").status).toBe(0);
  });

  it("on GCP, a new project replaces every project-scoped resource and a new region the instances and Redis, not the secrets", async () => {
    const before = readPlanText(planAsText(await planOn("production", "gcp")));
    const moved = (settings: Record<string, unknown>) => {
      const config = stackOn("production", "gcp");
      return { ...config, ...settings, "gaia:gcp": JSON.stringify({ ...JSON.parse(config["gaia:gcp"]!), ...((settings["gaia:gcp"] as object) ?? {}) }) } as Record<string, string>;
    };
    const region = diffPlans(before, readPlanText(planAsText(await planStack("production", moved({ "gaia:region": "europe-west1" })))));
    const replaced = region.filter((c) => c.verb === "replaces").map((c) => c.resource.split("::")[0]);
    expect(replaced).toContain("gcp:sql/databaseInstance:DatabaseInstance");
    expect(replaced).toContain("gcp:redis/instance:Instance");
    expect(replaced).not.toContain("gcp:secretmanager/secret:Secret");
    expect(one(region, "gcp:sql/databaseInstance:DatabaseInstance::gaia-production-postgres")!.details[0]).toBe('region forces it');
    expect(protectedRefusals(region).some((r) => r.includes("gcp:sql/databaseInstance:DatabaseInstance gaia-production-postgres;"))).toBe(true);

    const gcpSettings = JSON.parse(stackOn("production", "gcp")["gaia:gcp"]!);
    const project = JSON.parse(JSON.stringify(gcpSettings).replaceAll("gaia-test-project", "gaia-other-project"));
    const moved2 = { ...stackOn("production", "gcp"), "gaia:gcp": JSON.stringify(project), "gaia:alerts": stackOn("production", "gcp")["gaia:alerts"]!.replaceAll("gaia-test-project", "gaia-other-project") };
    const projectChanges = diffPlans(before, readPlanText(planAsText(await planStack("production", moved2))));
    for (const [resource] of before) {
      const type = resource.split("::")[0]!;
      if (!type.startsWith("gcp:")) continue;
      expect(one(projectChanges, resource)?.verb, resource).toBe("replaces");
    }
    const version = [...before.keys()].find((k) => k.startsWith("gcp:secretmanager/secretVersion:SecretVersion::"))!;
    expect(one(projectChanges, version)!.details).toContain("secret forces it");
  });

  it("says a storage shrink never reaches RDS while autoscaling is on (the component always keeps it on), and refuses one without it", async () => {
    // The component keeps maxStorageGb at least 10 % above storageGb (components/core/rules.ts), so the
    // provider's DiffSuppressFunc always keeps the allocated size: the shrink is not applied.
    const shrunk = await diffWith("staging", instance("staging", { storageGb: 40 }));
    expect(cloudRefusals(shrunk)).toEqual([]);
    expect(one(shrunk, "aws:rds/instance:Instance::gaia-staging-postgres")!.details).toContain(
      "allocatedStorage: 50 -> 40 (not applied: storage autoscaling is on (maxAllocatedStorage above it), so the provider keeps the allocated size; RDS cannot shrink storage)",
    );
    // The same shrink on an instance planned without autoscaling reaches RDS, which refuses it.
    const resource = "aws:rds/instance:Instance::gaia-staging-postgres";
    const before = setInput(readPlanText(committed.staging!), resource, "maxAllocatedStorage", undefined);
    const without = diffPlans(before, setInput(before, resource, "allocatedStorage", 40));
    expect(cloudRefusals(without)).toEqual([
      "refused: updates aws:rds/instance:Instance gaia-staging-postgres: allocatedStorage: 50 -> 40 (a decrease): RDS cannot reduce allocated storage; the cloud refuses it, whatever the run allows.",
    ]);
    expect(blockingRefusals(without, true)).toHaveLength(1);
    expect(formatPlanDiff("staging", without)).toMatch(/\nrefused: updates aws:rds\/instance:Instance gaia-staging-postgres: allocatedStorage: 50 -> 40 \(a decrease\)/);
  });

  it("says a disk shrink on Cloud SQL is not applied: the component ignores the size, autoresize grows it", async () => {
    const before = readPlanText(planAsText(await planOn("staging", "gcp")));
    const config = stackOn("staging", "gcp");
    const next = readPlanText(planAsText(await planStack("staging", { ...config, ...{ "gaia:instance": JSON.stringify({ ...JSON.parse(config["gaia:instance"] ?? "{}"), storageGb: 40 }) } })));
    const changes = diffPlans(before, next);
    expect(cloudRefusals(changes)).toEqual([]);
    expect(one(changes, "gcp:sql/databaseInstance:DatabaseInstance::gaia-staging-postgres")).toMatchObject({
      verb: "updates",
      details: expect.arrayContaining([expect.stringMatching(/^settings\.diskSize: 50 -> 40 \(not applied: the component ignores it \(ignoreChanges\)/)]),
    });
  });

  it("says a class change on staging restarts the server, single-AZ, and on production that Multi-AZ keeps the outage short", async () => {
    const staging = await diffWith("staging", instance("staging", { class: "db.t4g.medium" }));
    const text = formatPlanDiff("staging", staging);
    expect(text).toContain(
      "  updates aws:rds/instance:Instance gaia-staging-postgres  restarts the server (instanceClass: RDS takes the instance down while it changes class; single-AZ:\n          nothing serves while it changes)\n",
    );
    expect(text).toContain('      instanceClass: "db.t4g.small" -> "db.t4g.medium"\n');
    expect(blockingRefusals(staging, false)).toEqual([]);
    const production = await diffWith("production", instance("production", { class: "db.m7g.4xlarge" }));
    expect(formatPlanDiff("production", production)).toContain("  updates aws:rds/instance:Instance gaia-production-postgres  restarts the server (instanceClass: RDS takes the instance down while it changes class; Multi-AZ\n          keeps the outage short)");
  });

  it("refuses a downgrade of postgresVersion, and replaces the parameter group for its family", async () => {
    const changes = await diffWith("staging", { "gaia:postgresVersion": "15" });
    expect(cloudRefusals(changes)).toContain(
      'refused: updates aws:rds/instance:Instance gaia-staging-postgres: engineVersion: "16" -> "15" (a downgrade): RDS only upgrades an engine: its valid targets are later versions; the cloud refuses it, whatever the run allows.',
    );
    expect(one(changes, "aws:rds/parameterGroup:ParameterGroup::gaia-staging-postgres-params")).toMatchObject({ verb: "replaces", details: ["family forces it"] });
    // An upgrade is no refusal, but an outage.
    const upgrade = await diffWith("staging", { "gaia:postgresVersion": "17" });
    expect(cloudRefusals(upgrade)).toEqual([]);
    expect(one(upgrade, "aws:rds/instance:Instance::gaia-staging-postgres")!.restarts).toEqual(['engineVersion: RDS takes the instance down for an engine upgrade; an upgrade: "16" -> "17"']);
  });

  it("exits 1 on a refused change through the CLI, --allow-replace or not", () => {
    const root = copyProject("gaia-plan-refused-");
    const file = path.join(root, "plans/staging.txt");
    // The committed plan as if staging had been deployed on PostgreSQL 17: the code's 16 is a downgrade.
    writeFileSync(file, readFileSync(file, "utf8").replace('engineVersion: "16"', 'engineVersion: "17"'));
    const run = (...flags: string[]) => spawnSync(process.execPath, [path.join(PROJECT_ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/plan.ts", "staging", "--diff", ...flags], { cwd: root, encoding: "utf8" });
    for (const result of [run(), run("--allow-replace")]) {
      expect(result.stdout).toContain('refused: updates aws:rds/instance:Instance gaia-staging-postgres: engineVersion: "17" -> "16" (a downgrade)');
      expect(result.status).toBe(1);
    }
  });

  it("says a static parameter's change waits for a restart, and a dynamic one's does not", async () => {
    const before = readPlanText(committed.staging!);
    const resource = "aws:rds/parameterGroup:ParameterGroup::gaia-staging-postgres-params";
    const parameters = JSON.parse(before.get(resource)!.get("parameters")!) as { name: string; value: string; applyMethod?: string }[];
    const edit = (name: string) => setInput(before, resource, "parameters", parameters.map((p) => (p.name === name ? { ...p, value: `${p.value}0` } : p)));
    expect(one(diffPlans(before, edit("shared_preload_libraries")), resource)!.restarts).toEqual([
      "parameters: RDS applies it only at the instances' next reboot; shared_preload_libraries, static: pending-reboot",
    ]);
    expect(one(diffPlans(before, edit("random_page_cost")), resource)!.restarts).toBeUndefined();
  });
});
