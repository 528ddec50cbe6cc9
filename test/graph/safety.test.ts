import { describe, expect, it } from "vitest";
import { violations, type ResourceView } from "../../policy-pack/rules";
import { planStack } from "../../scripts/lib/offline";
import { views } from "../support/policyViews";
import { readStackFile } from "../../scripts/lib/stackFile";
import { stackNames } from "../../scripts/plan";
import { CLOUD_PLATFORMS, planOn, stackOn } from "../support/stacks";

function mutate(resources: ResourceView[], type: string, change: (r: ResourceView) => void): ResourceView[] {
  return resources.map((r) => {
    if (r.type !== type) return r;
    const copy = structuredClone(r);
    change(copy);
    return copy;
  });
}

describe("the safety rules (policy pack)", () => {
  it.each(stackNames())("pass the plan of stack %s", async (stack) => {
    const { config, secretKeys } = readStackFile(stack);
    expect(violations(views(await planStack(stack, config, secretKeys)))).toEqual([]);
  });

  it.each(CLOUD_PLATFORMS)("pass every stack on %s", async (platform) => {
    for (const stack of ["dev", "staging", "production"]) expect(violations(views(await planOn(stack, platform)))).toEqual([]);
  });

  it("refuse a production database without its protections", async () => {
    const aws = views(await planOn("production", "aws"));
    const primary = (r: ResourceView) => r.name === "gaia-production-postgres";
    expect(violations(mutate(aws, "aws:rds/instance:Instance", (r) => primary(r) && (r.props.deletionProtection = false)))).toEqual([
      "production-database-protected: aws:rds/instance:Instance gaia-production-postgres: set deletionProtection: true",
    ]);
    expect(violations(mutate(aws, "aws:rds/instance:Instance", (r) => primary(r) && (r.protect = false)))).toEqual([
      "production-database-protected: aws:rds/instance:Instance gaia-production-postgres: production databases are `protect`ed: keep gaia:protect",
    ]);
    expect(violations(mutate(aws, "aws:rds/parameterGroup:ParameterGroup", (r) => (r.props.parameters = [])))).toEqual([
      "postgres-tls-required: aws:rds/parameterGroup:ParameterGroup gaia-production-postgres-params: set the parameter rds.force_ssl to 1",
    ]);
    const gcp = views(await planOn("production", "gcp"));
    const publicIp = mutate(gcp, "gcp:sql/databaseInstance:DatabaseInstance", (r) => (r.props.settings.ipConfiguration.ipv4Enabled = true));
    expect(violations(publicIp)).toHaveLength(3);
    expect(violations(publicIp)[0]).toMatch(/postgres-private-and-encrypted: .* gaia-production-postgres: set settings.ipConfiguration.ipv4Enabled: false/);
  });

  describe("on a stack named live with the production preset (production is what a stack is, not what it is called)", () => {
    const live = (platform: "aws" | "gcp") => planStack("live", { ...stackOn("production", platform), "gaia:preset": "production" }).then(views);
    const named = (name: string) => (r: ResourceView) => r.name === name;
    const off = (resources: ResourceView[], type: string, which: (r: ResourceView) => boolean, change: (r: ResourceView) => void) =>
      violations(mutate(resources, type, (r) => void (which(r) && change(r))));

    it("refuses each of the RDS primary's protections turned off", async () => {
      const aws = await live("aws");
      const primary = named("gaia-live-postgres");
      const rds = "aws:rds/instance:Instance";
      const refusal = (fix: string) => [`production-database-protected: ${rds} gaia-live-postgres: ${fix}`];
      expect(off(aws, rds, primary, (r) => (r.props.deletionProtection = false))).toEqual(refusal("set deletionProtection: true"));
      expect(off(aws, rds, primary, (r) => (r.props.skipFinalSnapshot = true))).toEqual(refusal("take a final snapshot (skipFinalSnapshot: false)"));
      expect(off(aws, rds, primary, (r) => (r.props.multiAz = false))).toEqual(refusal("run Multi-AZ (multiAz: true)"));
      expect(off(aws, rds, primary, (r) => (r.props.backupRetentionPeriod = 6))).toEqual(refusal("keep at least 7 days of backups (backupRetentionPeriod)"));
      expect(off(aws, rds, primary, (r) => (r.protect = false))).toEqual(refusal("production databases are `protect`ed: keep gaia:protect"));
    });

    it("refuses a replica or Redis left unprotected, Redis without a standby, and fewer than 2 replicas", async () => {
      const aws = await live("aws");
      const group = "aws:elasticache/replicationGroup:ReplicationGroup";
      expect(off(aws, "aws:rds/instance:Instance", named("gaia-live-postgres-replica-1"), (r) => (r.protect = false))).toEqual([
        "production-stateful-protected: aws:rds/instance:Instance gaia-live-postgres-replica-1: production's replicas and Redis are `protect`ed: keep gaia:protect",
      ]);
      expect(off(aws, group, () => true, (r) => (r.protect = false))).toEqual([
        `production-stateful-protected: ${group} gaia-live-redis: production's replicas and Redis are \`protect\`ed: keep gaia:protect`,
      ]);
      expect(off(aws, group, () => true, (r) => (r.props.automaticFailoverEnabled = false))).toEqual([
        `production-redis-highly-available: ${group} gaia-live-redis: run 2 or more nodes with automaticFailoverEnabled and multiAzEnabled`,
      ]);
      expect(violations(aws.filter((r) => r.name !== "gaia-live-postgres-replica-2"))).toEqual([
        "production-read-replicas: production has 1 read replica(s): keep 2 or more (gaia:replicas)",
      ]);
      expect(off(aws, "aws:secretsmanager/secret:Secret", named("gaia-live-postgres-chat"), (r) => (r.props.recoveryWindowInDays = 0))).toEqual([
        "production-secrets-recoverable: aws:secretsmanager/secret:Secret gaia-live-postgres-chat: set recoveryWindowInDays to 7 or more",
      ]);
    });

    it("refuses each of the Cloud SQL primary's protections turned off, and Memorystore without a standby", async () => {
      const gcp = await live("gcp");
      const sql = "gcp:sql/databaseInstance:DatabaseInstance";
      const primary = named("gaia-live-postgres");
      const refusal = (fix: string) => [`production-database-protected: ${sql} gaia-live-postgres: ${fix}`];
      expect(off(gcp, sql, primary, (r) => (r.props.settings.deletionProtectionEnabled = false))).toEqual(refusal("set both deletionProtection and settings.deletionProtectionEnabled"));
      expect(off(gcp, sql, primary, (r) => (r.props.settings.availabilityType = "ZONAL"))).toEqual(refusal("run REGIONAL (settings.availabilityType)"));
      expect(off(gcp, sql, primary, (r) => (r.props.settings.backupConfiguration.pointInTimeRecoveryEnabled = false))).toEqual(refusal("enable point-in-time recovery"));
      expect(off(gcp, sql, primary, (r) => (r.props.settings.backupConfiguration.transactionLogRetentionDays = 3))).toEqual(refusal("keep 7 days of transaction logs (settings.backupConfiguration.transactionLogRetentionDays)"));
      expect(off(gcp, sql, primary, (r) => (r.props.settings.retainBackupsOnDelete = false))).toEqual(refusal("keep a final backup and the backups on delete (settings.finalBackupConfig, settings.retainBackupsOnDelete)"));
      expect(off(gcp, "gcp:redis/instance:Instance", () => true, (r) => (r.props.tier = "BASIC"))).toEqual([
        "production-redis-highly-available: gcp:redis/instance:Instance gaia-live-redis: run tier STANDARD_HA",
      ]);
    });

    it("passes the plan as it is", async () => {
      for (const platform of ["aws", "gcp"] as const) expect(violations(await live(platform))).toEqual([]);
    });
  });

  it("leave dev free to be torn down", async () => {
    const dev = views(await planOn("dev", "aws"));
    expect(dev.find((r) => r.name === "gaia-dev-postgres")!.props.deletionProtection).toBe(false);
    expect(violations(dev)).toEqual([]);
  });
});
