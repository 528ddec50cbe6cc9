/**
 * Restore to a point in time as a stack operation (gaia:restore, components/core/restore.ts),
 * planned under the mocked runtime on every cloud: what is created, how roles, secrets and URLs
 * follow, how the previous instance is kept, let go or dropped, and what the policy pack says.
 */
import { describe, expect, it } from "vitest";
import { violations } from "../../policy-pack/rules";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { gaiaStack } from "../../program";
import { planProgram, planStack, type StackPlan } from "../../scripts/lib/offline";
import { summaryLines } from "../../scripts/lib/planSummary";
import { views } from "../support/policyViews";
import { byType, one, stackOn, type CloudPlatform } from "../support/stacks";

/** An hour ago, to the minute: inside every recovery window. */
const moment = new Date(Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000);
const AT = moment.toISOString().replace(".000Z", "Z");
const LABEL = `r${AT.slice(0, 16).replace(/[-T:]/g, "")}`;

function planRestore(platform: CloudPlatform, restore: Record<string, unknown> | undefined, stack = "production"): Promise<StackPlan> {
  return planStack(stack, { ...stackOn(stack, platform), ...(restore ? { "gaia:restore": JSON.stringify(restore) } : {}) });
}

const logins = (plan: StackPlan) => byType(plan, "postgresql:index/role:Role").filter((r) => r.inputs.login === true);
const urls = (plan: StackPlan) => unwrap(plan.outputs.connectionUrls!.value) as Record<string, string>;
const provider = (plan: StackPlan) => one(plan, "pulumi:providers:postgresql");

describe("a restore to a point in time, planned", () => {
  describe("on AWS: RDS restores into a new instance (restoreToPointInTime)", () => {
    it("creates the restored primary from the environment's instance at that moment, with the same network, parameters and protection, and keeps the previous as it was", async () => {
      const before = await planRestore("aws", undefined);
      const plan = await planRestore("aws", { pointInTime: AT });
      const primaries = byType(plan, "aws:rds/instance:Instance").filter((r) => !r.inputs.replicateSourceDb);
      expect(primaries.map((r) => r.name).sort()).toEqual(["gaia-production-postgres", `gaia-production-postgres-${LABEL}`]);
      const restored = one(plan, "aws:rds/instance:Instance", `gaia-production-postgres-${LABEL}`);
      expect(restored.inputs.restoreToPointInTime).toEqual({ sourceDbInstanceIdentifier: "gaia-production-postgres", restoreTime: AT });
      const original = one(before, "aws:rds/instance:Instance", "gaia-production-postgres");
      for (const key of ["dbSubnetGroupName", "vpcSecurityGroupIds", "parameterGroupName", "instanceClass", "multiAz", "backupRetentionPeriod", "deletionProtection", "storageEncrypted", "publiclyAccessible"]) {
        expect(unwrap(restored.inputs[key]), key).toEqual(unwrap(original.inputs[key]));
      }
      expect(restored.protect).toBe(true);
      expect(restored.inputs.tags).toMatchObject({ "restored-from": "gaia-production-postgres", "restored-to": LABEL });
      // The previous instance: exactly as before the restore.
      const kept = one(plan, "aws:rds/instance:Instance", "gaia-production-postgres");
      expect(kept.inputs).toEqual(original.inputs);
      expect(kept.protect).toBe(true);
      // Its replicas stay with it; the restored primary gets its own, named after it.
      const replicas = byType(plan, "aws:rds/instance:Instance").filter((r) => r.inputs.replicateSourceDb);
      expect(replicas.map((r) => r.name).sort()).toEqual([
        "gaia-production-postgres-replica-1", "gaia-production-postgres-replica-2",
        `gaia-production-postgres-${LABEL}-replica-1`, `gaia-production-postgres-${LABEL}-replica-2`,
      ].sort());
      for (const replica of replicas) {
        expect(replica.inputs.replicateSourceDb, replica.name).toBe(replica.name.includes(LABEL) ? `gaia-production-postgres-${LABEL}` : "gaia-production-postgres");
      }
      expect(violations(views(plan))).toEqual([]);
    });

    it("points the roles, URLs and secrets at the restored instance, each login's verifier made anew for it, the passwords unchanged", async () => {
      const before = await planRestore("aws", undefined);
      const plan = await planRestore("aws", { pointInTime: AT });
      expect(provider(plan).inputs.host).toBe(`gaia-production-postgres-${LABEL}.cmock.us-east-1.rds.amazonaws.com`);
      expect(provider(before).inputs.host).toBe("gaia-production-postgres.cmock.us-east-1.rds.amazonaws.com");
      expect(plan.outputs.host!.value).toBe(`gaia-production-postgres-${LABEL}.cmock.us-east-1.rds.amazonaws.com`);
      // The replicas served are the restored primary's.
      expect(plan.outputs.replicaHosts!.value).toEqual([1, 2].map((i) => `gaia-production-postgres-${LABEL}-replica-${i}.cmock.us-east-1.rds.amazonaws.com`));
      const beforeUrls = urls(before);
      for (const [role, url] of Object.entries(urls(plan))) {
        const was = new URL(beforeUrls[role]!);
        const now = new URL(url);
        expect(now.host, role).toBe(`gaia-production-postgres-${LABEL}.cmock.us-east-1.rds.amazonaws.com:5432`);
        expect([now.username, now.password, now.pathname], role).toEqual([was.username, was.password, was.pathname]);
      }
      // The restored roles hold the passwords of that moment: every login's verifier differs, so the provider sets it again there.
      const verifiers = new Map(logins(before).map((r) => [r.name, unwrap(r.inputs.password)]));
      expect(logins(plan).length).toBe(verifiers.size);
      for (const login of logins(plan)) expect(unwrap(login.inputs.password), login.name).not.toBe(verifiers.get(login.name));
    });

    it("lets the previous instance go in two reviewed steps: release lifts its protection, drop removes it", async () => {
      const released = await planRestore("aws", { pointInTime: AT, previous: "release" });
      const previous = one(released, "aws:rds/instance:Instance", "gaia-production-postgres");
      expect([previous.protect, previous.inputs.deletionProtection, previous.inputs.skipFinalSnapshot]).toEqual([false, false, false]);
      expect(previous.inputs.tags).toMatchObject({ "released-for": LABEL });
      for (const replica of byType(released, "aws:rds/instance:Instance").filter((r) => r.name.startsWith("gaia-production-postgres-replica"))) expect(replica.protect).toBe(false);
      expect(one(released, "aws:rds/instance:Instance", `gaia-production-postgres-${LABEL}`).protect).toBe(true);
      expect(violations(views(released))).toEqual([]);

      const dropped = await planRestore("aws", { pointInTime: AT, previous: "drop" });
      expect(byType(dropped, "aws:rds/instance:Instance").map((r) => r.name).sort()).toEqual([
        `gaia-production-postgres-${LABEL}`, `gaia-production-postgres-${LABEL}-replica-1`, `gaia-production-postgres-${LABEL}-replica-2`,
      ]);
      expect(violations(views(dropped))).toEqual([]);
    });

    it("is refused by the policy pack when the previous instance is let go with no other primary serving", async () => {
      const released = views(await planRestore("aws", { pointInTime: AT, previous: "release" }));
      const withoutRestored = released.filter((r) => !r.name.startsWith(`gaia-production-postgres-${LABEL}`));
      expect(violations(withoutRestored)).toEqual([
        `production-release-after-restore: gaia-production-postgres is released for restore ${LABEL}, but no other primary serves: keep it (gaia:restore.previous: keep, serve: restored) until one does`,
      ]);
    });

    it("switches back (serve: previous): the previous instance serves again with its verifiers as before, the restored one's protection lifted", async () => {
      const before = await planRestore("aws", undefined);
      const back = await planRestore("aws", { pointInTime: AT, serve: "previous" });
      expect(provider(back).inputs.host).toBe(provider(before).inputs.host);
      expect(back.outputs.host!.value).toBe(before.outputs.host!.value);
      expect(logins(back).map((r) => unwrap(r.inputs.password))).toEqual(logins(before).map((r) => unwrap(r.inputs.password)));
      const previous = one(back, "aws:rds/instance:Instance", "gaia-production-postgres");
      expect([previous.protect, previous.inputs.deletionProtection]).toEqual([true, true]);
      const restored = one(back, "aws:rds/instance:Instance", `gaia-production-postgres-${LABEL}`);
      expect([restored.protect, restored.inputs.deletionProtection]).toEqual([false, false]);
      expect(restored.inputs.tags).toMatchObject({ "restored-to": LABEL, "released-for": LABEL });
      for (const replica of byType(back, "aws:rds/instance:Instance").filter((r) => r.name.startsWith(`gaia-production-postgres-${LABEL}-replica`))) expect(replica.protect).toBe(false);
      expect(violations(views(back))).toEqual([]);
      // The restored instance's protection is lifted: the next update, without the block, may delete it.
      expect(await planProgram("production", stackOn("production", "aws"), () => gaiaStack(undefined, { label: LABEL, at: AT, previous: "keep", serve: "previous" })).then(() => "planned")).toBe("planned");
    });
  });

  describe("on Google Cloud: Cloud SQL clones the instance at that moment (clone.pointInTime)", () => {
    it("creates the clone with the environment's settings, its admin, and points access at it; the previous kept", async () => {
      const before = await planRestore("gcp", undefined);
      const plan = await planRestore("gcp", { pointInTime: AT });
      const clone = one(plan, "gcp:sql/databaseInstance:DatabaseInstance", `gaia-production-postgres-${LABEL}`);
      expect(clone.inputs.clone).toEqual({ sourceInstanceName: "gaia-production-postgres", pointInTime: AT });
      const original = one(before, "gcp:sql/databaseInstance:DatabaseInstance", "gaia-production-postgres");
      const settings = unwrap(clone.inputs.settings) as Record<string, unknown>;
      const originalSettings = unwrap(original.inputs.settings) as Record<string, unknown>;
      for (const key of ["tier", "availabilityType", "ipConfiguration", "backupConfiguration", "databaseFlags", "deletionProtectionEnabled", "finalBackupConfig"]) {
        expect(settings[key], key).toEqual(originalSettings[key]);
      }
      expect(settings.userLabels).toMatchObject({ "restored-from": "gaia-production-postgres", "restored-to": LABEL });
      expect([clone.protect, clone.inputs.deletionProtection]).toEqual([true, true]);
      expect(one(plan, "gcp:sql/databaseInstance:DatabaseInstance", "gaia-production-postgres").inputs).toEqual(original.inputs);
      // The clone holds the admin as it was then: the stack sets its password on the clone too.
      const admins = byType(plan, "gcp:sql/user:User");
      expect(admins.map((u) => [u.name, u.inputs.instance]).sort()).toEqual([
        ["gaia-production-postgres-admin", "gaia-production-postgres"],
        [`gaia-production-postgres-${LABEL}-admin`, `gaia-production-postgres-${LABEL}`],
      ]);
      expect(unwrap(admins[0]!.inputs.password)).toBe(unwrap(admins[1]!.inputs.password));
      expect(provider(plan).inputs.host).toBe(plan.outputs.host!.value);
      expect(provider(plan).inputs.host).not.toBe(provider(before).inputs.host);
      // The services' Cloud SQL client binding names the instance that serves.
      for (const binding of byType(plan, "gcp:projects/iAMMember:IAMMember").filter((b) => b.name.includes("cloudsql-client"))) {
        expect(String(unwrap((binding.inputs.condition as { expression: unknown }).expression))).toContain(`instances/gaia-production-postgres-${LABEL}"`);
      }
      expect(violations(views(plan))).toEqual([]);
    });

    it("releases, then drops, the previous instance; the policy pack agrees with each", async () => {
      const released = await planRestore("gcp", { pointInTime: AT, previous: "release" });
      const previous = one(released, "gcp:sql/databaseInstance:DatabaseInstance", "gaia-production-postgres");
      expect([previous.protect, previous.inputs.deletionProtection, (unwrap(previous.inputs.settings) as { deletionProtectionEnabled: boolean }).deletionProtectionEnabled]).toEqual([false, false, false]);
      expect(violations(views(released))).toEqual([]);
      const dropped = await planRestore("gcp", { pointInTime: AT, previous: "drop" });
      expect(byType(dropped, "gcp:sql/databaseInstance:DatabaseInstance").every((r) => r.name.startsWith(`gaia-production-postgres-${LABEL}`))).toBe(true);
    });
  });

  describe("on Fly: `fly mpg restore --pitr-time` into a new cluster", () => {
    it("makes the restored cluster's command from the environment's cluster at that moment, and attaches the apps to it", async () => {
      const plan = await planRestore("fly", { pointInTime: AT }, "staging");
      const clusters = byType(plan, "command:local:Command").filter((c) => c.inputs.create === undefined ? false : String(c.inputs.create).includes("postgres-apply"));
      expect(clusters.map((c) => c.name).sort()).toEqual(["gaia-staging-db", `gaia-staging-db-${LABEL}`]);
      const restored = one(plan, "command:local:Command", `gaia-staging-db-${LABEL}`);
      const env = unwrap(restored.inputs.environment) as Record<string, string>;
      expect([env.GAIA_FLY_CLUSTER, env.GAIA_FLY_RESTORE_FROM, env.GAIA_FLY_RESTORE_AT]).toEqual([`gaia-staging-db-${LABEL}`, "gaia-staging-db", AT]);
      const original = unwrap(one(plan, "command:local:Command", "gaia-staging-db").inputs.environment) as Record<string, string>;
      expect(original.GAIA_FLY_RESTORE_FROM).toBeUndefined();
      for (const access of byType(plan, "command:local:Command").filter((c) => c.name.includes("-fly-access-"))) {
        expect((unwrap(access.inputs.environment) as Record<string, string>).GAIA_FLY_CLUSTER, access.name).toBe(`gaia-staging-db-${LABEL}`);
      }
    });

    it("switches back (serve: previous): the apps attach to the previous cluster again, the restored one's deletion protection off", async () => {
      const back = await planRestore("fly", { pointInTime: AT, serve: "previous" }, "production");
      for (const access of byType(back, "command:local:Command").filter((c) => c.name.includes("-fly-access-"))) {
        expect((unwrap(access.inputs.environment) as Record<string, string>).GAIA_FLY_CLUSTER, access.name).toBe("gaia-production-db");
      }
      const restored = one(back, "command:local:Command", `gaia-production-db-${LABEL}`);
      expect([restored.protect, (unwrap(restored.inputs.environment) as Record<string, string>).GAIA_FLY_DELETION_PROTECTION]).toEqual([false, "off"]);
      expect((unwrap(one(back, "command:local:Command", "gaia-production-db").inputs.environment) as Record<string, string>).GAIA_FLY_DELETION_PROTECTION).toBe("on");
    });

    it("releases the previous cluster (deletion protection off) or drops it", async () => {
      const released = await planRestore("fly", { pointInTime: AT, previous: "release" }, "production");
      const previous = one(released, "command:local:Command", "gaia-production-db");
      expect(previous.protect).toBe(false);
      expect((unwrap(previous.inputs.environment) as Record<string, string>).GAIA_FLY_DELETION_PROTECTION).toBe("off");
      expect((unwrap(one(released, "command:local:Command", `gaia-production-db-${LABEL}`).inputs.environment) as Record<string, string>).GAIA_FLY_DELETION_PROTECTION).toBe("on");
      const dropped = await planRestore("fly", { pointInTime: AT, previous: "drop" }, "production");
      expect(byType(dropped, "command:local:Command").some((c) => c.name === "gaia-production-db")).toBe(false);
    });
  });

  describe("after an update that dropped the previous instance (the stack's `restore` output)", () => {
    const after = (restore: Record<string, unknown> | undefined) =>
      planProgram("production", { ...stackOn("production", "aws"), ...(restore ? { "gaia:restore": JSON.stringify(restore) } : {}) }, () => gaiaStack(undefined, { label: LABEL, at: AT, previous: "drop", serve: "restored" })).then(
        () => "planned",
        (error: Error) => error.message,
      );

    it("refuses removing gaia:restore, which would make a new, empty instance under the old name", async () => {
      expect(await after(undefined)).toBe(
        "Pulumi.production.yaml has 1 configuration problem(s); nothing was created or changed:\n" +
          `  - Pulumi.production.yaml: gaia:restore: the last update restored to ${AT} (${LABEL}) and dropped the previous instance; without gaia:restore the stack would make a new, empty instance under the old name: keep the gaia:restore block as it was.`,
      );
    });

    it("refuses another moment, which would restore from the instance that is gone, and plans the same restore kept as it was", async () => {
      const other = new Date(moment.getTime() - 600_000).toISOString().replace(".000Z", "Z");
      expect(await after({ pointInTime: other, previous: "drop" })).toMatch(new RegExp(`gaia:restore: the last update restored to ${AT} \\(${LABEL}\\) and dropped the previous instance; a restore to ${other} would restore from the instance that is gone`));
      expect(await after({ pointInTime: AT, previous: "drop" })).toBe("planned");
      // Kept or released, the previous instance is still there: switching back is allowed.
      const switchedBack = await planProgram("production", stackOn("production", "aws"), () => gaiaStack(undefined, { label: LABEL, at: AT, previous: "keep", serve: "previous" })).then(() => "planned", (e: Error) => e.message);
      expect(switchedBack).toBe("planned");
    });

    it("records the restore an update applied in the `restore` output, null without one", async () => {
      expect((await planRestore("aws", { pointInTime: AT, previous: "drop" })).outputs.restore!.value).toEqual({ label: LABEL, at: AT, previous: "drop", serve: "restored" });
      expect((await planRestore("aws", undefined)).outputs.restore!.value).toBeNull();
    });
  });

  it("says the restore in the plan's summary, with the moment and what becomes of the previous instance", async () => {
    const plan = await planRestore("aws", { pointInTime: AT, previous: "release" });
    const summary = summaryLines(plan.config!).join(" ").replace(/\s+/g, " ");
    expect(summary).toContain(`restore: to ${AT}, into new instances named with ${LABEL}`);
    expect(summary).toContain("the previous: its protection lifted, to be dropped");
  });
});
