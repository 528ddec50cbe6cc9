import { describe, expect, it } from "vitest";
import { GaiaConfigError, resolveConfig } from "../../components/config";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { planStack, type StackPlan } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { ADDED_SERVICES } from "../support/services";
import { CLOUD_PLATFORMS, byType, planOn, stackOn } from "../support/stacks";
import { stackNames } from "../../scripts/lib/stackFile";

const STACKS = stackNames().filter((s) => s !== "local");

const deep = (value: unknown): any => {
  const v = unwrap(value);
  if (Array.isArray(v)) return v.map(deep);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]));
  return v;
};
const alarms = (plan: StackPlan) =>
  Object.fromEntries(byType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm").map((r) => {
    const i = deep(r.inputs);
    return [r.name, { metric: i.metricName, dimensions: i.dimensions, threshold: i.threshold, operator: i.comparisonOperator, actions: i.alarmActions }];
  }));

describe("alarms from the environment's size", () => {
  it("on aws production: CPU, storage, connections at 80% of max_connections, each replica's lag and each Redis node's memory, to the topic", async () => {
    const topic = "arn:aws:sns:us-east-1:123456789012:gaia-alerts";
    const found = alarms(await planOn("production", "aws"));
    expect(found).toEqual({
      "gaia-production-postgres-cpu": { metric: "CPUUtilization", dimensions: { DBInstanceIdentifier: "gaia-production-postgres" }, threshold: 80, operator: "GreaterThanThreshold", actions: [topic] },
      // 10% of the first 500 GB: RDS keeps at least that free while it can grow (below).
      "gaia-production-postgres-storage": { metric: "FreeStorageSpace", dimensions: { DBInstanceIdentifier: "gaia-production-postgres" }, threshold: 50 * 1024 ** 3, operator: "LessThanThreshold", actions: [topic] },
      // db.m7g.2xlarge: max_connections 3216 (32 GiB, of which PostgreSQL gets 90% less 256 MiB).
      "gaia-production-postgres-connections": { metric: "DatabaseConnections", dimensions: { DBInstanceIdentifier: "gaia-production-postgres" }, threshold: 2572, operator: "GreaterThanThreshold", actions: [topic] },
      "gaia-production-postgres-replica-1-lag": { metric: "ReplicaLag", dimensions: { DBInstanceIdentifier: "gaia-production-postgres-replica-1" }, threshold: 30, operator: "GreaterThanThreshold", actions: [topic] },
      "gaia-production-postgres-replica-2-lag": { metric: "ReplicaLag", dimensions: { DBInstanceIdentifier: "gaia-production-postgres-replica-2" }, threshold: 30, operator: "GreaterThanThreshold", actions: [topic] },
      "gaia-production-redis-memory-1": { metric: "DatabaseMemoryUsagePercentage", dimensions: { CacheClusterId: "gaia-production-redis-001", CacheNodeId: "0001" }, threshold: 80, operator: "GreaterThanThreshold", actions: [topic] },
      "gaia-production-redis-memory-2": { metric: "DatabaseMemoryUsagePercentage", dimensions: { CacheClusterId: "gaia-production-redis-002", CacheNodeId: "0001" }, threshold: 80, operator: "GreaterThanThreshold", actions: [topic] },
    });
    const events = deep(byType(await planOn("production", "aws"), "aws:rds/eventSubscription:EventSubscription")[0]!.inputs);
    expect(events).toMatchObject({ snsTopic: topic, sourceType: "db-instance", eventCategories: ["failure", "low storage", "failover"] });
  });

  it("on aws staging: thresholds from its smaller size, and no replica or second node", async () => {
    const plan = await planOn("staging", "aws");
    const found = alarms(plan);
    expect(Object.keys(found)).toEqual(["gaia-staging-postgres-cpu", "gaia-staging-postgres-storage", "gaia-staging-postgres-connections", "gaia-staging-redis-memory-1"]);
    // 10% of the first 50 GB; 80% of the max_connections the parameter group sets.
    const parameters = deep(byType(plan, "aws:rds/parameterGroup:ParameterGroup")[0]!.inputs).parameters as { name: string; value: string }[];
    const maxConnections = Number(parameters.find((p) => p.name === "max_connections")!.value);
    expect([found["gaia-staging-postgres-storage"]!.threshold, found["gaia-staging-postgres-connections"]!.threshold]).toEqual([5 * 1024 ** 3, Math.floor(0.8 * maxConnections)]);
    // For the pools of chat, assets and auth: db.t4g.small, max_connections 174 on the 1,587 MiB of its 2 GiB
    // PostgreSQL gets (db.t4g.micro's 1 GiB would give 73, under the 100 needed), 80% of it. (A
    // service added since may need a larger class; the rule above holds for it.)
    if (ADDED_SERVICES.length === 0) expect([maxConnections, found["gaia-staging-postgres-connections"]!.threshold]).toEqual([174, 139]);
  });

  it("without gaia:alerts.notify (dev): the alarms, notifying nobody, and no event subscription (it needs a topic)", async () => {
    const { ["gaia:alerts"]: _, ...config } = stackOn("dev", "aws");
    const plan = await planStack("dev", config);
    for (const alarm of Object.values(alarms(plan))) expect(alarm.actions).toEqual([]);
    expect(byType(plan, "aws:rds/eventSubscription:EventSubscription")).toEqual([]);
  });

  it("on gcp production: alert policies on the instance, each replica and Memorystore, to the channel", async () => {
    const plan = await planOn("production", "gcp");
    const policies = Object.fromEntries(byType(plan, "gcp:monitoring/alertPolicy:AlertPolicy").map((r) => {
      const i = deep(r.inputs);
      const condition = i.conditions[0].conditionThreshold;
      return [r.name, { metric: /metric\.type = "([^"]+)"/.exec(condition.filter)![1], on: /(database_id|instance_id) = "([^"]+)"/.exec(condition.filter)![2], threshold: condition.thresholdValue, channels: i.notificationChannels }];
    }));
    const channel = ["projects/gaia-test-project/notificationChannels/1234567890"];
    expect(policies).toEqual({
      "gaia-production-postgres-cpu": { metric: "cloudsql.googleapis.com/database/cpu/utilization", on: "gaia-test-project:gaia-production-postgres", threshold: 0.8, channels: channel },
      // The 1000 GB ceiling less the 25 GB autoresize would want free there.
      "gaia-production-postgres-storage": { metric: "cloudsql.googleapis.com/database/disk/bytes_used", on: "gaia-test-project:gaia-production-postgres", threshold: 975 * 1024 ** 3, channels: channel },
      "gaia-production-postgres-connections": { metric: "cloudsql.googleapis.com/database/postgresql/num_backends", on: "gaia-test-project:gaia-production-postgres", threshold: expect.any(Number), channels: channel },
      "gaia-production-postgres-replica-1-lag": { metric: "cloudsql.googleapis.com/database/replication/replica_lag", on: "gaia-test-project:gaia-production-postgres-replica-1", threshold: 30, channels: channel },
      "gaia-production-postgres-replica-2-lag": { metric: "cloudsql.googleapis.com/database/replication/replica_lag", on: "gaia-test-project:gaia-production-postgres-replica-2", threshold: 30, channels: channel },
      "gaia-production-redis-memory": { metric: "redis.googleapis.com/stats/memory/usage_ratio", on: expect.stringContaining("gaia-production-redis"), threshold: 0.8, channels: channel },
    });
    // db-custom-8-16384: max_connections 1593 (90% of 16384 MB less 256 MB, / 9531392 bytes), alerted at 80%.
    expect(policies["gaia-production-postgres-connections"]!.threshold).toBe(1274);
  });

  it("none on fly or local, which the component makes no alerts on", async () => {
    for (const plan of [await planOn("production", "fly"), await planStack("local", readStackFile("local").config)]) {
      expect(plan.resources.filter((r) => /cloudwatch|monitoring|eventSubscription/.test(r.type))).toEqual([]);
    }
  });
});

/**
 * Storage growing from empty to full, five minutes a step, on each platform as its docs say it
 * grows the disk, with the plan's storage alarm evaluated on the metric the platform reports.
 * The alarm must stay quiet while the platform can still add storage, and fire before the data
 * fills the ceiling.
 */
describe("the storage alarm through growth", () => {
  const GB = 1024 ** 3;
  interface Step { used: number; disk: number; alarm: boolean }

  /**
   * RDS storage autoscaling (RDS user guide, USER_PIOPS.Autoscaling): free space at most 10% of
   * the allocation for at least 5 minutes, 6 hours since the last change, then the greater of
   * 10 GiB, 10% of the allocation and 7 hours' growth, up to the maximum. The alarm:
   * FreeStorageSpace (Maximum per 5-minute period) below its threshold for its periods.
   */
  function onRds(start: number, ceiling: number, perStep: number, threshold: number, periods: number): Step[] {
    const steps: Step[] = [];
    let disk = start, used = 0, lowFor = 0, sinceChange = 6 * 60, below = 0;
    while (used < ceiling) {
      used = Math.min(ceiling, used + perStep);
      sinceChange += 5;
      lowFor = disk - used <= 0.1 * disk ? lowFor + 5 : 0;
      if (lowFor >= 5 && sinceChange >= 6 * 60 && disk < ceiling) {
        disk = Math.min(ceiling, disk + Math.max(10, 0.1 * disk, perStep * 12 * 7));
        sinceChange = 0;
        lowFor = 0;
      }
      below = (disk - used) * GB < threshold ? below + 1 : 0;
      steps.push({ used, disk, alarm: below >= periods });
    }
    return steps;
  }

  /**
   * Cloud SQL automatic storage increase: below min(size/25 + 5, 25) GB free it adds that much, up
   * to the limit. The alert: disk/bytes_used above its threshold (5-minute duration).
   */
  function onCloudSql(start: number, ceiling: number, perStep: number, threshold: number): Step[] {
    const steps: Step[] = [];
    let disk = start, used = 0;
    while (used < ceiling) {
      used = Math.min(ceiling, used + perStep);
      const wanted = Math.min(Math.floor(disk / 25) + 5, 25);
      if (disk - used < wanted && disk < ceiling) disk = Math.min(ceiling, disk + wanted);
      steps.push({ used, disk, alarm: used * GB > threshold });
    }
    return steps;
  }

  // Each stack as committed, and each with the most growth RDS's contract lets through (5 times the first allocation).
  const shapes = STACKS.flatMap((stack) => [[stack, undefined], [stack, { storageGb: 20, maxStorageGb: 100 }]] as const);
  describe.each(shapes)("stack %s, storage %j", (stack, instance) => {
    it.each(["aws", "gcp"] as const)("on %s: no alarm while the disk can still grow, one before the data fills the ceiling", async (platform) => {
      const config = stackOn(stack, platform);
      const plan = await planStack(stack, instance ? { ...config, "gaia:instance": JSON.stringify({ ...JSON.parse(config["gaia:instance"] ?? "{}"), ...instance }) } : config);
      const storage = plan.resources.find((r) => r.name === `gaia-${stack}-postgres-storage`)!;
      const inputs = deep(storage.inputs);
      const primary = deep(plan.resources.find((r) => r.name === `gaia-${stack}-postgres`)!.inputs);
      const [start, ceiling] = platform === "aws" ? [primary.allocatedStorage, primary.maxAllocatedStorage] : [primary.settings.diskSize, primary.settings.diskAutoresizeLimit];
      // Slow and fast growth: the whole ceiling in about a week, and in about a day.
      for (const perStep of [ceiling / 2000, ceiling / 300]) {
        const steps = platform === "aws"
          ? onRds(start, ceiling, perStep, inputs.threshold, inputs.evaluationPeriods)
          : onCloudSql(start, ceiling, perStep, inputs.conditions[0].conditionThreshold.thresholdValue);
        const first = steps.findIndex((s) => s.alarm);
        expect(first, `${perStep} GB a step: an alarm`).toBeGreaterThan(0);
        expect(steps.slice(0, first).every((s) => !s.alarm)).toBe(true);
        // Only once the disk is at its ceiling, and with storage still free.
        expect(steps[first]!.disk, `${perStep} GB a step`).toBe(ceiling);
        expect(steps[first]!.used).toBeLessThan(ceiling);
        // Never before: while the disk is below the ceiling, no step is in alarm.
        expect(steps.filter((s) => s.disk < ceiling && s.alarm)).toEqual([]);
      }
    });
  });
});

describe("audit logging by preset", () => {
  it("turns on pgaudit, DDL and connection logging on RDS for staging and production, not dev", async () => {
    for (const [stack, on] of [["dev", false], ["staging", true], ["production", true]] as const) {
      const plan = await planOn(stack, "aws");
      const params = Object.fromEntries((deep(byType(plan, "aws:rds/parameterGroup:ParameterGroup")[0]!.inputs).parameters as { name: string; value: string }[]).map((p) => [p.name, p.value]));
      expect({ library: params.shared_preload_libraries, log: params["pgaudit.log"], statements: params.log_statement, connections: params.log_connections, disconnections: params.log_disconnections }, stack).toEqual(
        // Statement logging is off whether audit logging is on or not: it would write role passwords.
        on ? { library: "pg_stat_statements,pgaudit", log: "ddl,role", statements: "none", connections: "1", disconnections: "1" } : { library: "pg_stat_statements", log: undefined, statements: "none", connections: undefined, disconnections: undefined },
      );
      expect(plan.resources.some((r) => r.type === "postgresql:index/extension:Extension" && r.inputs.name === "pgaudit"), stack).toBe(on);
    }
  });

  it("sets Cloud SQL's pgaudit flags on production", async () => {
    const primary = byType(await planOn("production", "gcp"), "gcp:sql/databaseInstance:DatabaseInstance")[0]!;
    const flags = Object.fromEntries((deep(primary.inputs).settings.databaseFlags as { name: string; value: string }[]).map((f) => [f.name, f.value]));
    expect(flags).toMatchObject({ "cloudsql.enable_pgaudit": "on", "pgaudit.log": "ddl,role", log_statement: "none", log_connections: "on", log_disconnections: "on" });
  });

  it("never sets statement logging that records role DDL, on any stack on any platform", async () => {
    // log_statement ddl/mod/all logs ALTER ROLE … PASSWORD verbatim (PostgreSQL utility.c GetCommandLogLevel).
    const seen: string[] = [];
    for (const stack of STACKS) {
      for (const platform of CLOUD_PLATFORMS) {
        const plan = await planOn(stack, platform);
        const settings = [
          ...byType(plan, "aws:rds/parameterGroup:ParameterGroup").flatMap((r) => deep(r.inputs).parameters as { name: string; value: string }[]),
          ...byType(plan, "gcp:sql/databaseInstance:DatabaseInstance").flatMap((r) => (deep(r.inputs).settings.databaseFlags ?? []) as { name: string; value: string }[]),
        ];
        const pinned = settings.filter((x) => x.name === "log_statement");
        if (platform !== "fly") expect(pinned.length, `${stack} on ${platform}: log_statement pinned`).toBeGreaterThan(0);
        for (const s of pinned) seen.push(`${stack}/${platform}: ${s.value}`);
        expect(JSON.stringify(deep(plan.resources.map((r) => r.inputs))), `${stack} on ${platform}`).not.toMatch(/log_statement[^}]*"(ddl|mod|all)"/);
      }
    }
    // Pinned to none on every AWS and GCP stack (a console change is put back by the next up).
    expect(seen.filter((s) => !s.endsWith(": none"))).toEqual([]);
  });
});

describe("alerts and audit logging refused where they cannot be", () => {
  const problems = (stack: string, config: Record<string, string>) => {
    try {
      resolveConfig(stack, Object.fromEntries(Object.entries(config).map(([k, v]) => [k.slice(5), (() => { try { return JSON.parse(v); } catch { return v; } })()])));
      return [];
    } catch (error) {
      return (error as GaiaConfigError).problems;
    }
  };
  const without = (config: Record<string, string>, key: string) => Object.fromEntries(Object.entries(config).filter(([k]) => k !== key));

  it.each([
    ["production on aws without a topic", "production", without(stackOn("production", "aws"), "gaia:alerts"), "gaia:alerts.notify is required on production: the ARN of the SNS topic alarms notify (arn:aws:sns:<region>:<account>:<topic>), so that an alarm reaches someone."],
    ["production on gcp without a channel", "production", without(stackOn("production", "gcp"), "gaia:alerts"), "gaia:alerts.notify is required on production: the Cloud Monitoring notification channel alerts notify (projects/<project>/notificationChannels/<id>), so that an alarm reaches someone."],
    ["a topic that is not an SNS ARN", "staging", { ...stackOn("staging", "aws"), "gaia:alerts": '{"notify":"ops@gaia.example"}' }, 'gaia:alerts.notify "ops@gaia.example" is not the ARN of the SNS topic alarms notify (arn:aws:sns:<region>:<account>:<topic>).'],
    ["a topic in another region than the stack", "staging", { ...stackOn("staging", "aws"), "gaia:alerts": '{"notify":"arn:aws:sns:eu-west-1:123456789012:gaia-alerts"}' }, 'gaia:alerts.notify "arn:aws:sns:eu-west-1:123456789012:gaia-alerts" is in eu-west-1, but the stack\'s alarms are in us-east-1 (gaia:region), and they notify only a topic of their own region: use a topic in us-east-1.'],
    ["a notification target on fly", "staging", { ...stackOn("staging", "fly"), "gaia:alerts": '{"notify":"x"}' }, 'gaia:alerts.notify: the component makes no alerts on fly (docs/alerts.md, "Alerts and audit logging"); remove it.'],
    ["audit logging asked for on fly", "staging", { ...stackOn("staging", "fly"), "gaia:auditLogging": "true" }, 'gaia:auditLogging cannot be turned on on fly: the component sets no server parameters there (docs/alerts.md, "Alerts and audit logging"); remove it.'],
    ["audit logging off on production", "production", { ...stackOn("production", "aws"), "gaia:auditLogging": "false" }, "gaia:auditLogging is false on a production stack: production logs DDL, role changes and connections for audit; remove the override."],
  ])("refuses %s", (_label, stack, config, message) => {
    expect(problems(stack, config)).toEqual([message]);
  });
});
