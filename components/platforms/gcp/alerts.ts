import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { AlertThresholds } from "../../alerts";
import type { GaiaConfig } from "../../core/config";

/**
 * Cloud Monitoring alert policies on the environment's Cloud SQL instance and Memorystore, at
 * the thresholds its size gives (components/alerts.ts), notifying `gaia:alerts.notify` (a
 * notification channel) when set. Metrics (Cloud SQL admin-api/metrics, resource
 * cloudsql_database, database_id "project:instance"): database/cpu/utilization (0-1),
 * database/disk/bytes_used (bytes of data, whatever the disk's size), database/postgresql/num_backends,
 * database/replication/replica_lag (s); Memorystore: redis.googleapis.com/stats/memory/usage_ratio.
 * Cloud SQL reports no failed backup as a metric (only in its audit log), so none is alerted on here.
 */
export function cloudSqlAlerts(config: GaiaConfig, t: AlertThresholds, project: string, primary: gcp.sql.DatabaseInstance, replicas: gcp.sql.DatabaseInstance[], opts: pulumi.CustomResourceOptions): void {
  const prefix = config.names.resourcePrefix;
  const policy = policyOf(config, project, opts);
  const on = (instance: gcp.sql.DatabaseInstance, metric: string) =>
    pulumi.interpolate`resource.type = "cloudsql_database" AND resource.labels.database_id = "${project}:${instance.name}" AND metric.type = "cloudsql.googleapis.com/database/${metric}"`;
  policy(`${prefix}-postgres-cpu`, `CPU above ${t.cpuPercent}% for 15 minutes`, on(primary, "cpu/utilization"), t.cpuPercent / 100, "900s");
  policy(`${prefix}-postgres-storage`, describeCloudSqlStorageAlert(config), on(primary, "disk/bytes_used"), cloudSqlStorageAlert(config).usedAboveGb * 1024 ** 3, "300s");
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

/**
 * Cloud SQL's automatic storage increase, as its docs give the threshold: it adds storage when
 * free space falls below min(size / 25 + 5, 25) GB, that much at a time, up to
 * `diskAutoresizeLimit` ("About instance settings", automatic storage increase; quoted in
 * Google Cloud's blog "Digging in on Cloud SQL automatic storage increases").
 */
export const autoresizeThresholdGb = (diskGb: number) => Math.min(Math.floor(diskGb / 25) + 5, 25);

/**
 * When the primary's storage runs out, from how Cloud SQL grows it: never below the ceiling
 * (`instance.maxStorageGb`), where autoresize adds what it needs; at the ceiling, once the data
 * passes the point where autoresize would have grown the disk and no longer can. So on the data's
 * size (`disk/bytes_used`), not the disk's utilization, which sits near 90-97% for the life of a
 * growing instance (review-2-cloud.md M2).
 */
export function cloudSqlStorageAlert(config: GaiaConfig): { usedAboveGb: number } {
  const ceiling = config.instance.maxStorageGb;
  return { usedAboveGb: ceiling - autoresizeThresholdGb(ceiling) };
}

export function describeCloudSqlStorageAlert(config: GaiaConfig): string {
  return `storage > ${cloudSqlStorageAlert(config).usedAboveGb} GB used (only at its ${config.instance.maxStorageGb} GB ceiling)`;
}
