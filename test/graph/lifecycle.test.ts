import { describe, expect, it } from "vitest";
import { planStack } from "../../scripts/lib/offline";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { planDestroy } from "../../scripts/lib/destroyPlan";
import { readStackFile } from "../../scripts/lib/stackFile";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../scripts/lib/stackFile";
import { DELETED_WITH, PROTECTED, diffPlans, formatPlanDiff, isFlag, protectedRefusals, readPlanText } from "../../scripts/lib/planDiff";
import { copyProject } from "../support/project";
import { masked, planAsText } from "../../scripts/lib/planFormat";
import { CLOUD_PLATFORMS, byType, one, planOn, stackOn } from "../support/stacks";

const STACKS = ["dev", "staging", "production"] as const;

describe.each(["aws", "gcp"] as const)("the second and the hundredth up on %s", (platform) => {
  describe.each(STACKS)("stack %s", (stack) => {
    const planned = planOn(stack, platform);
    const protectedPreset = stack !== "dev";

    it("puts every platform resource on the stack's own provider, in the stack's region and project", async () => {
      const plan = await planned;
      const provider = one(plan, `pulumi:providers:${platform}`);
      expect(provider.inputs).toMatchObject(platform === "aws" ? { region: "us-east-1" } : { project: "gaia-test-project", region: "us-central1" });
      const own = plan.resources.filter((r) => r.type.startsWith(`${platform}:`));
      expect(own.length).toBeGreaterThan(5);
      for (const r of own) expect(`${r.type} ${r.name}: ${r.provider}`).toBe(`${r.type} ${r.name}: pulumi:providers:${platform}::${provider.name}`);
    });

    it(`keeps on destroy what ${stack}'s protection is meant to keep`, async () => {
      const plan = await planned;
      const database = one(plan, "postgresql:index/database:Database");
      expect(database.retainOnDelete).toBe(protectedPreset);
      const primary = plan.resources.find((r) => r.name === `gaia-${stack}-postgres`)!;
      // Database and roles go with the instance, never one by one before its deletion is refused.
      expect(database.deletedWith).toBe(`${primary.type}::${primary.name}`);
      for (const role of byType(plan, "postgresql:index/role:Role")) expect(role.deletedWith).toBe(`${primary.type}::${primary.name}`);
      const secrets = byType(plan, platform === "aws" ? "aws:secretsmanager/secret:Secret" : "gcp:secretmanager/secret:Secret");
      for (const secret of secrets) expect(secret.retainOnDelete, secret.name).toBe(protectedPreset);
      if (platform === "aws") {
        expect(one(plan, "aws:kms/key:Key").retainOnDelete).toBe(protectedPreset);
        expect(primary.inputs).toMatchObject({ deleteAutomatedBackups: !protectedPreset, skipFinalSnapshot: !protectedPreset });
        // A suffix of its own, as the RDS final snapshot's: a re-created group's second destroy does not collide.
        expect(one(plan, "aws:elasticache/replicationGroup:ReplicationGroup").inputs.finalSnapshotIdentifier).toEqual(
          protectedPreset ? expect.stringMatching(new RegExp(`^gaia-${stack}-redis-final-[0-9a-f]{8}$`)) : undefined,
        );
        if (protectedPreset) expect(one(plan, "random:index/randomId:RandomId", `gaia-${stack}-redis-final-snapshot-suffix`).inputs.keepers).toEqual({ replicationGroupId: `gaia-${stack}-redis` });
      } else {
        expect((primary.inputs.settings as Record<string, unknown>).retainBackupsOnDelete).toBe(protectedPreset);
      }
    });

    it("protects production's replicas in Pulumi (removing one takes --ignore-protect) but not at the cloud", async () => {
      const plan = await planned;
      const replicas = plan.resources.filter((r) => /-postgres-replica-\d+$/.test(r.name));
      expect(replicas).toHaveLength(stack === "production" ? 2 : 0);
      for (const replica of replicas) {
        expect(replica.protect).toBe(true);
        expect(replica.inputs.deletionProtection).toBe(false);
      }
    });
  });
});

describe.each(["aws", "gcp"] as const)("the database's neighbours and leavers on %s", (platform) => {
  const planned = planOn("staging", platform);
  const key = (r: { type: string; name: string }) => `${r.type}::${r.name}`;

  it("makes the database closed, opened by the schema command, and creates the extensions only after it", async () => {
    const plan = await planned;
    const database = one(plan, "postgresql:index/database:Database");
    expect(database.inputs.allowConnections).toBe(false);
    const schema = one(plan, "command:local:Command", "gaia-staging-schema");
    expect(schema.dependsOn).toContain(key(database));
    for (const extension of byType(plan, "postgresql:index/extension:Extension")) expect(extension.dependsOn).toEqual([key(database), key(schema)]);
  });

  it("ends each role's sessions before the provider drops its logins, for every role of the policy", async () => {
    const plan = await planned;
    const logins = byType(plan, "postgresql:index/role:Role").filter((r) => r.inputs.login === true);
    const groups = [...new Set(logins.map((l) => String(l.name).replace(/_[ab]$/, "")))];
    expect(groups.length).toBeGreaterThan(3);
    for (const group of groups) {
      const role = group.replace(/^gaia_staging_/, "");
      const sessions = one(plan, "command:local:Command", `gaia-staging-${role}-sessions`);
      // Pulumi deletes a resource before what it depends on: this command's delete runs first.
      expect(sessions.dependsOn.sort()).toEqual([`postgresql:index/role:Role::${group}_a`, `postgresql:index/role:Role::${group}_b`]);
      expect(sessions.inputs.delete).toMatch(/dist\/ops\/sessions\.cjs end$/);
      expect((unwrap(sessions.inputs.environment) as Record<string, string>).GAIA_LOGINS).toBe(`${group}_a,${group}_b`);
    }
  });
});

describe.each(["aws", "gcp", "fly"] as const)("pulumi destroy of each preset on %s", (platform) => {
  it.each(["staging", "production"] as const)("%s: refused at the deletion guard before anything is deleted or dropped from the state", async (stack) => {
    const destroy = planDestroy(await planOn(stack, platform));
    expect(destroy.refused).toBe(true);
    expect(destroy.steps[0]).toEqual({ resource: `random:index/randomId:RandomId::gaia-${stack}-deletion-guard`, outcome: "refused (protected)" });
    expect(destroy.steps.slice(1).filter((s) => s.outcome !== "untouched")).toEqual([]);
  });

  it.each(["staging", "production"] as const)("%s without the guard: the engine would delete what depends on the instance first", async (stack) => {
    const plan = await planOn(stack, platform);
    const destroy = planDestroy({ ...plan, resources: plan.resources.filter((r) => !r.name.endsWith("-deletion-guard")) });
    expect(destroy.steps.filter((s) => s.outcome === "deleted").length).toBeGreaterThan(0);
  });

  it.each(["staging", "production"] as const)("%s with gaia:decommission: the up lifts every protection, and the destroy then takes it all, keeping its final snapshot", async (stack) => {
    const plan = await planStack(stack, { ...stackOn(stack, platform), "gaia:decommission": "true" });
    expect(plan.resources.filter((r) => r.protect)).toEqual([]);
    const primary = plan.resources.find((r) => r.name === `gaia-${stack}-postgres`);
    if (platform === "aws") expect(primary!.inputs).toMatchObject({ deletionProtection: false, skipFinalSnapshot: false });
    if (platform === "gcp") expect(primary!.inputs).toMatchObject({ deletionProtection: false, settings: expect.objectContaining({ deletionProtectionEnabled: false, retainBackupsOnDelete: true }) });
    const destroy = planDestroy(plan);
    expect(destroy.refused).toBe(false);
    expect(destroy.steps[0]!.resource).toBe(`random:index/randomId:RandomId::gaia-${stack}-deletion-guard`);
  });

  it("dev: takes everything, the guard first", async () => {
    const plan = await planOn("dev", platform);
    const destroy = planDestroy(plan);
    expect(destroy.refused).toBe(false);
    expect(destroy.steps[0]!.resource).toBe("random:index/randomId:RandomId::gaia-dev-deletion-guard");
    expect(destroy.steps.map((s) => s.outcome).filter((o) => o === "untouched" || o === "refused (protected)")).toEqual([]);
    expect(destroy.steps.filter((s) => s.outcome === "kept in the cloud")).toEqual([]);
    const custom = plan.resources.filter((r) => r.custom).map((r) => `${r.type}::${r.name}`).sort();
    expect(destroy.steps.map((s) => s.resource).sort()).toEqual(custom);
  });
});

describe("npm run plan -- <stack> --json through a pipe", () => {
  it("prints the whole plan (past a pipe's 64 KB), which parses", () => {
    // A reader that starts late, as `| jq` may: the pipe fills, and the rest waits in the process.
    const plan = `"${process.execPath}" node_modules/tsx/dist/cli.mjs scripts/plan.ts production --json`;
    const run = spawnSync("/bin/sh", ["-c", `${plan} | (sleep 2; cat)`], { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    expect(run.stderr).toBe("");
    expect(run.stdout.length).toBeGreaterThan(65_536);
    const parsed = JSON.parse(run.stdout) as { resources: { name: string }[] };
    expect(parsed.resources.at(-1)!.name).toBe("gaia-production-deletion-guard");
  });
});

describe("a renamed stack", () => {
  it("plans the same resources when its environment is pinned in the stack file", async () => {
    const { config, secretKeys } = readStackFile("staging");
    expect(config["gaia:environment"]).toBe("staging");
    const original = planAsText(await planStack("staging", config, secretKeys));
    const renamed = planAsText(await planStack("stg-eu", config, secretKeys));
    expect(renamed.replace("stack stg-eu:", "stack staging:")).toBe(original);
  });
});

describe("npm run plan -- <stack> --diff", () => {
  it("names each stateful resource a change replaces, with the input that forces it", async () => {
    const before = readPlanText(planAsText(await planOn("staging", "aws")));
    const changed = new Map([...before].map(([k, v]) => [k, new Map(v)]));
    changed.get("aws:rds/instance:Instance::gaia-staging-postgres")!.set("storageEncrypted", "false");
    changed.get("aws:rds/instance:Instance::gaia-staging-postgres")!.set("instanceClass", '"db.t4g.small"');
    const text = formatPlanDiff("staging", diffPlans(before, changed));
    expect(text).toContain("  replaces aws:rds/instance:Instance gaia-staging-postgres  [stateful: its data goes with it]\n      storageEncrypted forces it\n");
    // The database goes with the instance (deletedWith): the engine replaces it too.
    expect(text).toContain("  replaces postgresql:index/database:Database gaia_staging  [stateful: its data goes with it]\n      deleted with gaia-staging-postgres, which is replaced: the engine replaces it too\n");
    expect(text).toMatch(/2 stateful resource\(s\) replaced or deleted: review before `pulumi up`.\n$/);
  });

  it("says an in-place change is an update, and a renamed stateful resource is a delete and a create", async () => {
    const before = readPlanText(planAsText(await planOn("staging", "gcp")));
    const next = new Map([...before].map(([k, v]) => [k, new Map(v)]));
    const redis = "gcp:redis/instance:Instance::gaia-staging-redis";
    next.get(redis)!.set("memorySizeGb", "2");
    const db = "postgresql:index/database:Database::gaia_staging";
    next.set("postgresql:index/database:Database::gaia_staging2", next.get(db)!);
    next.delete(db);
    const changes = diffPlans(before, next);
    expect(changes.map((c) => `${c.verb} ${c.resource}`)).toEqual([
      `deletes ${db}`,
      `updates ${redis}`,
      "creates postgresql:index/database:Database::gaia_staging2",
    ]);
    expect(changes[1]!.details).toEqual(["memorySizeGb: 1 -> 2"]);
    expect(formatPlanDiff("staging", changes)).toContain("deletes postgresql:index/database:Database gaia_staging  [stateful: its data goes with it]");
  });

  it("refuses replacing or deleting a protected production resource unless the run allows it", async () => {
    const before = readPlanText(planAsText(await planOn("production", "aws")));
    const next = new Map([...before].map(([k, v]) => [k, new Map(v)]));
    next.get("aws:rds/instance:Instance::gaia-production-postgres")!.set("storageEncrypted", "false");
    next.delete("aws:rds/instance:Instance::gaia-production-postgres-replica-2");
    const changes = diffPlans(before, next);
    expect(protectedRefusals(changes)).toEqual([
      "refused: replaces protected aws:rds/instance:Instance gaia-production-postgres; if that is intended, say so for this run: --allow-replace here, `pulumi up --ignore-protect` there.",
      // Deleted with the instance, so replaced with it (scripts/lib/replacements.ts DELETED_WITH_SOURCE).
      "refused: replaces protected postgresql:index/database:Database gaia_production; if that is intended, say so for this run: --allow-replace here, `pulumi up --ignore-protect` there.",
      "refused: deletes protected aws:rds/instance:Instance gaia-production-postgres-replica-2; if that is intended, say so for this run: --allow-replace here, `pulumi up --ignore-protect` there.",
    ]);
    // The same change on staging (nothing protected) is reviewed, not refused.
    const staging = readPlanText(planAsText(await planOn("staging", "aws")));
    const changedStaging = new Map([...staging].map(([k, v]) => [k, new Map(v)]));
    changedStaging.get("aws:rds/instance:Instance::gaia-staging-postgres")!.set("storageEncrypted", "false");
    expect(protectedRefusals(diffPlans(staging, changedStaging))).toEqual([]);
  });

  it("exits 1 on a protected replacement, and 0 with --allow-replace", () => {
    const root = copyProject("gaia-plan-diff-");
    const file = path.join(root, "plans/production.txt");
    // The committed plan as if production had been deployed with another KMS key id: the code's plan now replaces the instance.
    writeFileSync(file, readFileSync(file, "utf8").replace(/(\+ aws:rds\/instance:Instance gaia-production-postgres  \(protected\)\n(?:      .*\n)*?      kmsKeyId: )"[^"]*"/, '$1"arn:aws:kms:us-east-1:123456789012:key/another"'));
    const run = (...flags: string[]) => spawnSync(process.execPath, [path.join(PROJECT_ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/plan.ts", "production", "--diff", ...flags], { cwd: root, encoding: "utf8" });
    const refused = run();
    expect(refused.stdout).toContain("  replaces aws:rds/instance:Instance gaia-production-postgres  [stateful: its data goes with it]\n      kmsKeyId forces it\n");
    expect(refused.stdout).toContain("refused: replaces protected aws:rds/instance:Instance gaia-production-postgres;");
    expect(refused.status).toBe(1);
    expect(run("--allow-replace").status).toBe(0);
  });

  it.each(CLOUD_PLATFORMS)("reads a plan on %s back into exactly its inputs, however a value was wrapped", async (platform) => {
    const plan = await planOn("production", platform);
    const read = readPlanText(planAsText(plan));
    for (const r of plan.resources) {
      const inputs = read.get(`${r.type}::${r.name}`)!;
      const expected = Object.entries(masked(r.inputs) as Record<string, unknown>).map(([k, v]) => [k, JSON.stringify(typeof v === "string" && v.includes("-----BEGIN CERTIFICATE-----") ? "(PEM)" : v)]);
      const actual = [...inputs].filter(([k]) => !isFlag(k)).map(([k, v]) => [k, v.includes("PEM certificate(s)") ? JSON.stringify("(PEM)") : v]);
      expect(actual, `${r.type} ${r.name}`).toEqual(expected);
      expect(inputs.has(PROTECTED)).toBe(r.protect);
      expect(inputs.get(DELETED_WITH), `${r.type} ${r.name}`).toBe(r.deletedWith ? JSON.stringify(r.deletedWith.split("::")[1]) : undefined);
    }
  });

  it("shows no change for the committed plan", async () => {
    const { config, secretKeys } = readStackFile("production");
    const { readFileSync } = await import("node:fs");
    const committed = readPlanText(readFileSync("plans/production.txt", "utf8"));
    expect(diffPlans(committed, readPlanText(planAsText(await planStack("production", config, secretKeys))))).toEqual([]);
  });
});
