import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AlertThresholds } from "../../alerts";
import type { GaiaConfig } from "../../core/config";

/**
 * CloudWatch alarms on the environment's PostgreSQL and Redis, at the thresholds its size gives
 * (components/alerts.ts), notifying `gaia:alerts.notify` (an SNS topic) when set. Metrics and
 * units: RDS user guide rds-metrics.html (CPUUtilization %, FreeStorageSpace bytes,
 * DatabaseConnections, ReplicaLag s; dimension DBInstanceIdentifier); ElastiCache
 * CacheMetrics.Redis (DatabaseMemoryUsagePercentage, per CacheClusterId and CacheNodeId).
 */
export function postgresAlarms(config: GaiaConfig, t: AlertThresholds, primary: aws.rds.Instance, replicas: aws.rds.Instance[], opts: pulumi.CustomResourceOptions): void {
  const prefix = config.names.resourcePrefix;
  const alarm = alarmOf(config, opts);
  const onInstance = (instance: aws.rds.Instance) => ({ DBInstanceIdentifier: instance.identifier });
  alarm(`${prefix}-postgres-cpu`, { namespace: "AWS/RDS", metricName: "CPUUtilization", dimensions: onInstance(primary), statistic: "Average", comparisonOperator: "GreaterThanThreshold", threshold: t.cpuPercent, evaluationPeriods: 3 }, `CPU above ${t.cpuPercent}% for 15 minutes`);
  const storage = rdsStorageAlarm(config);
  alarm(`${prefix}-postgres-storage`, { namespace: "AWS/RDS", metricName: "FreeStorageSpace", dimensions: onInstance(primary), statistic: "Maximum", comparisonOperator: "LessThanThreshold", threshold: storage.freeBelowGb * 1024 ** 3, evaluationPeriods: storage.periods }, describeRdsStorageAlarm(config));
  if (t.connections !== undefined) {
    alarm(`${prefix}-postgres-connections`, { namespace: "AWS/RDS", metricName: "DatabaseConnections", dimensions: onInstance(primary), statistic: "Maximum", comparisonOperator: "GreaterThanThreshold", threshold: t.connections, evaluationPeriods: 2 }, `more than ${t.connections} connections (80% of max_connections)`);
  }
  replicas.forEach((replica, i) =>
    alarm(`${prefix}-postgres-replica-${i + 1}-lag`, { namespace: "AWS/RDS", metricName: "ReplicaLag", dimensions: onInstance(replica), statistic: "Maximum", comparisonOperator: "GreaterThanThreshold", threshold: t.replicaLagSeconds, evaluationPeriods: 3 }, `replica ${i + 1} more than ${t.replicaLagSeconds} s behind`),
  );
  // RDS has no "backup failed" event; its failure and low-storage events are the nearest
  // (RDS user guide, USER_Events.Messages: categories of db-instance). Needs the topic.
  if (config.alerts.notify) {
    new aws.rds.EventSubscription(`${prefix}-postgres-events`, {
      snsTopic: config.alerts.notify,
      sourceType: "db-instance",
      sourceIds: [primary.identifier, ...replicas.map((r) => r.identifier)],
      eventCategories: ["failure", "low storage", "failover"],
      tags: { environment: config.environment, preset: config.preset },
    }, opts);
  }
}

export function redisAlarms(config: GaiaConfig, t: AlertThresholds, group: aws.elasticache.ReplicationGroup, nodes: number, opts: pulumi.CustomResourceOptions): void {
  const alarm = alarmOf(config, opts);
  for (let i = 0; i < nodes; i++) {
    alarm(`${config.names.resourcePrefix}-redis-memory-${i + 1}`, {
      namespace: "AWS/ElastiCache",
      metricName: "DatabaseMemoryUsagePercentage",
      dimensions: { CacheClusterId: group.memberClusters.apply((members) => [...members].sort()[i] ?? ""), CacheNodeId: "0001" },
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: t.redisMemoryPercent,
      evaluationPeriods: 2,
    }, `Redis node ${i + 1} above ${t.redisMemoryPercent}% of its memory`);
  }
}

function alarmOf(config: GaiaConfig, opts: pulumi.CustomResourceOptions) {
  const actions = config.alerts.notify ? [config.alerts.notify] : [];
  return (name: string, args: Omit<aws.cloudwatch.MetricAlarmArgs, "period" | "alarmActions" | "okActions" | "alarmDescription" | "tags">, why: string) =>
    new aws.cloudwatch.MetricAlarm(name, {
      ...args,
      // Five-minute periods: RDS's and ElastiCache's standard resolution.
      period: 300,
      alarmDescription: `Gaia ${config.environment}: ${why}`,
      alarmActions: actions,
      okActions: actions,
      treatMissingData: "missing",
      tags: { environment: config.environment, preset: config.preset },
    }, opts);
}

/**
 * When the primary's storage runs out, from how RDS grows it (RDS user guide, "Managing capacity
 * automatically with Amazon RDS storage autoscaling", USER_PIOPS.Autoscaling): it adds storage
 * once free space is 10% of the allocation or less for at least five minutes (and six hours
 * after the last change), the greater of 10 GiB, 10% of the allocation or seven hours' predicted
 * growth, up to `maxAllocatedStorage`. So below the ceiling free space stays at 10% of the
 * allocation or more, never less than 10% of the first one (`instance.storageGb`); free space
 * under that for a quarter of an hour (longer than RDS's five minutes of low space and the growth
 * that follows) means RDS cannot add more: the ceiling is reached, and what is left is all there
 * will be. The warning is then 10% of the first allocation, so the ceiling may be at most
 * MAX_STORAGE_GROWTH times it (./contracts.ts): beyond, the data could fill the rest before the
 * alarm's quarter of an hour is over. FreeStorageSpace is of the current allocation only, so an alarm on
 * a share of the ceiling would fire at every step of ordinary growth (review-2-cloud.md M2).
 */
export const RDS_STORAGE_ALARM_PERIODS = 3;
/** How many times its first allocation the storage may grow to on RDS, for the storage alarm to warn in time. */
export const MAX_STORAGE_GROWTH = 5;

export function rdsStorageAlarm(config: GaiaConfig): { freeBelowGb: number; periods: number } {
  return { freeBelowGb: Math.max(1, Math.floor(config.instance.storageGb * 0.1)), periods: RDS_STORAGE_ALARM_PERIODS };
}

export function describeRdsStorageAlarm(config: GaiaConfig): string {
  const { freeBelowGb, periods } = rdsStorageAlarm(config);
  return `storage < ${freeBelowGb} GB free for ${periods * 5} min (only at its ${config.instance.maxStorageGb} GB ceiling)`;
}
