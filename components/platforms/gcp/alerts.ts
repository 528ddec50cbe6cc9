import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { AlertThresholds } from "../../alerts";
import type { GaiaConfig } from "../../core/config";

/**
 * Cloud Monitoring alert policies on the environment's Cloud SQL instance and Memorystore, at
 * the thresholds its size gives (components/alerts.ts), notifying `gaia:alerts.notify` (a
 * notification channel) when set. Metrics (Cloud SQL admin-api/metrics, resource
 * cloudsql_database, database_id "project:instance"): database/cpu/utilization (0-1),
 * database/disk/utilization (share of the disk), database/postgresql/num_backends,
 * database/replication/replica_lag (s); Memorystore: redis.googleapis.com/stats/memory/usage_ratio.
 * Cloud SQL reports no failed backup as a metric (only in its audit log), so none is alerted on here.
 */
export function cloudSqlAlerts(config: GaiaConfig, t: AlertThresholds, project: string, primary: gcp.sql.DatabaseInstance, replicas: gcp.sql.DatabaseInstance[], opts: pulumi.CustomResourceOptions): void {
  const prefix = config.names.resourcePrefix;
  const policy = policyOf(config, project, opts);
  const on = (instance: gcp.sql.DatabaseInstance, metric: string) =>
    pulumi.interpolate`resource.type = "cloudsql_database" AND resource.labels.database_id = "${project}:${instance.name}" AND metric.type = "cloudsql.googleapis.com/database/${metric}"`;
  policy(`${prefix}-postgres-cpu`, `CPU above ${t.cpuPercent}% for 15 minutes`, on(primary, "cpu/utilization"), t.cpuPercent / 100, "900s");
  // The disk grows by itself up to the ceiling: it runs out when it is nearly full there.
  policy(`${prefix}-postgres-storage`, `disk more than ${100 - Math.round((t.freeStorageGb / config.instance.maxStorageGb) * 100)}% full (it grows to ${config.instance.maxStorageGb} GB at most)`, on(primary, "disk/utilization"), 1 - t.freeStorageGb / config.instance.maxStorageGb, "300s");
  if (t.connections !== undefined) {
    policy(`${prefix}-postgres-connections`, `more than ${t.connections} connections (80% of max_connections)`, on(primary, "postgresql/num_backends"), t.connections, "300s", "REDUCE_SUM");
  }
  replicas.forEach((replica, i) =>
    policy(`${prefix}-postgres-replica-${i + 1}-lag`, `replica ${i + 1} more than ${t.replicaLagSeconds} s behind`, on(replica, "replication/replica_lag"), t.replicaLagSeconds, "900s"),
  );
}

export function memorystoreAlerts(config: GaiaConfig, t: AlertThresholds, project: string, redis: gcp.redis.Instance, opts: pulumi.CustomResourceOptions): void {
  policyOf(config, project, opts)(
    `${config.names.resourcePrefix}-redis-memory`,
    `Redis above ${t.redisMemoryPercent}% of its memory`,
    pulumi.interpolate`resource.type = "redis_instance" AND resource.labels.instance_id = "${redis.id}" AND metric.type = "redis.googleapis.com/stats/memory/usage_ratio"`,
    t.redisMemoryPercent / 100,
    "600s",
  );
}

function policyOf(config: GaiaConfig, project: string, opts: pulumi.CustomResourceOptions) {
  return (name: string, what: string, filter: pulumi.Output<string>, threshold: number, duration: string, reducer?: string) =>
    new gcp.monitoring.AlertPolicy(name, {
      project,
      displayName: `Gaia ${config.environment}: ${what}`,
      combiner: "OR",
      conditions: [{
        displayName: what,
        conditionThreshold: {
          filter,
          comparison: "COMPARISON_GT",
          thresholdValue: threshold,
          duration,
          aggregations: [{ alignmentPeriod: "300s", perSeriesAligner: "ALIGN_MEAN", ...(reducer ? { crossSeriesReducer: reducer } : {}) }],
        },
      }],
      notificationChannels: config.alerts.notify ? [config.alerts.notify] : [],
      userLabels: { environment: config.environment, preset: config.preset },
    }, opts);
}
