import type { GaiaConfig } from "../../components/config";
import { platformOf } from "../../components/platforms";
import { describeCost, monthlyCost } from "../../components/platforms/cost";
import { connectionsNeeded } from "../../components/platforms/shared/connections";
import { AUDIT_LOGGING, alertThresholds } from "../../components/alerts";
import { PLAN_WIDTH, wrapLine } from "./planWidth";

/**
 * What the environment gets, in a dozen lines a reviewer reads before the resources: the
 * platform, the server's class and size, availability, backups and the recovery window, TLS,
 * Redis, protection, and the pools against the server's connection limit.
 */
export function summaryLines(config: GaiaConfig): string[] {
  const platform = platformOf(config);
  const about = platform.describe(config);
  const { vcpus, memoryMb, maxConnections } = about.server;
  const size = [vcpus && `${vcpus} vCPU`, memoryMb && `${memoryMb} MB`].filter(Boolean).join(", ");
  const { backups, instance, pool } = config;
  const caps = platform.capabilities;
  const needed = connectionsNeeded(config);
  const on = (flag: boolean, what: string) => (flag ? what : "");
  const protections = [
    on(config.deletionProtection, "deletion protection"),
    on(config.finalSnapshot, "final snapshot"),
    on(config.protect, "`protect` (replacing or deleting takes --ignore-protect)"),
  ].filter(Boolean);
  return [
    `summary (${config.preset} preset):`,
    `  platform:     ${config.platform}, ${config.region}, PostgreSQL ${config.postgresVersion}`,
    `  server:       ${platform.instanceClass(config)}${size ? ` (${size})` : ""}${instance.storageGb ? `, ${instance.storageGb} GB growing to ${instance.maxStorageGb} GB` : ""}`,
    `  availability: ${config.highAvailability ? about.standby : "single instance"}; ${config.replicas} read replica(s)`,
    `  backups:      ${!backups.enabled ? "none" : backups.pitr ? `${backups.retentionDays} day(s), point-in-time recovery over ${backups.pitrDays} day(s)` : `${backups.retentionDays} day(s) of daily snapshots, no point-in-time recovery`}`,
    ...(config.restore ? [restoreLine(config.restore)] : []),
    `  TLS:          ${about.tls}`,
    `  Redis:        ${config.redis.memoryMb} MB: ${about.redis}`,
    `  cost:         ${describeCost(monthlyCost(config))}`,
    `  protection:   ${protections.length ? protections.join(", ") : "none (can be torn down)"}`,
    `  pools:        ${config.services.length} service(s) x (${pool.size} + ${pool.maxOverflow} overflow) + ${needed - config.services.length * (pool.size + pool.maxOverflow)} reserved = ${needed} connections` +
      (maxConnections ? ` of ${maxConnections} (headroom ${maxConnections - needed})` : ", against the server's own limit"),
    ...alertsLines(config, maxConnections),
    `  audit log:    ${!caps.auditLogging ? `not set by the component on ${config.platform}` : config.auditLogging ? `pgaudit ${AUDIT_LOGGING["pgaudit.log"]} (passwords redacted), log_statement ${AUDIT_LOGGING.log_statement}, connections and disconnections` : "off"}`,
    // The plan has no state: what the stack applied is compared with these only by the engine's run (program.ts).
    `  credentials:  rotation generations ${JSON.stringify(config.rotation)} (assumed at most one step from what the stack applied; \`pulumi up\` checks)`,
  ].flatMap((line) => wrapLine(line, PLAN_WIDTH, " ".repeat(VALUE_COLUMN)));
}

/** A restore in progress (components/core/restore.ts), as a reviewer must see it before the resources. */
function restoreLine(restore: NonNullable<GaiaConfig["restore"]>): string {
  if (restore.serve === "previous") {
    return `  restore:      switching back: the previous instances serve again; those restored to ${restore.at} (${restore.label}) have their protection lifted (remove gaia:restore next to delete them)`;
  }
  const previous = { keep: "kept as it was, protected (switch back: serve: previous)", release: "its protection lifted, to be dropped", drop: "dropped: this `up` deletes it" }[restore.previous];
  return `  restore:      to ${restore.at}, into new instances named with ${restore.label}, which serve from this \`up\` on; the previous: ${previous}`;
}

/** Where a summary entry's value starts ("  platform:     "): a line too long goes on there (summaryDiff.ts readSummary joins it back). */
const VALUE_COLUMN = 16;

function alertsLines(config: GaiaConfig, maxConnections: number | undefined): string[] {
  const caps = platformOf(config).capabilities;
  if (!caps.alerts) return [`  alerts:       none made by the component on ${config.platform} (docs/alerts.md, "Alerts and audit logging")`];
  const t = alertThresholds(maxConnections);
  const what = [
    `CPU > ${t.cpuPercent}%`,
    caps.alerts.storage(config),
    ...(t.connections === undefined ? [] : [`> ${t.connections} connections`]),
    ...(config.replicas ? [`replica lag > ${t.replicaLagSeconds} s`] : []),
    `Redis memory > ${t.redisMemoryPercent}%`,
  ];
  return [`  alerts:       ${what.join(", ")}`, `  alerts to:    ${config.alerts.notify ?? "nobody (gaia:alerts.notify unset: in the console only)"}`];
}
