import { PRESETS, PRESET_NAMES } from "../../stacks/presets";

/** The preset table of docs/configuration.md, made from stacks/presets.ts so the two cannot disagree. */
export function presetTable(): string {
  const rows: [string, (name: (typeof PRESET_NAMES)[number]) => string][] = [
    ["instance (vCPU / memory / storage, max)", (n) => { const i = PRESETS[n].instance; return `${i.vcpus} / ${i.memoryMb} MB / ${i.storageGb} GB, ${i.maxStorageGb} GB`; }],
    ["pool (size / max overflow)", (n) => `${PRESETS[n].pool.size} / ${PRESETS[n].pool.maxOverflow}`],
    ["backups (retention)", (n) => (PRESETS[n].backups.enabled ? `${PRESETS[n].backups.retentionDays} day(s)` : "off")],
    ["point-in-time recovery", (n) => (PRESETS[n].backups.pitr ? `${PRESETS[n].backups.pitrDays} days` : "off (daily snapshots)")],
    ["high availability", (n) => (PRESETS[n].highAvailability ? "yes" : "no")],
    ["read replicas", (n) => String(PRESETS[n].replicas)],
    ["deletion protection", (n) => (PRESETS[n].deletionProtection ? "yes" : "no")],
    ["final snapshot", (n) => (PRESETS[n].finalSnapshot ? "yes" : "no")],
    ["Pulumi `protect`", (n) => (PRESETS[n].protect ? "yes" : "no")],
    ["Redis (memory / HA)", (n) => `${PRESETS[n].redis.memoryMb} MB / ${PRESETS[n].redis.highAvailability ? "yes" : "no"}`],
    ["audit logging (pgaudit, connections)", (n) => (PRESETS[n].auditLogging ? "yes" : "no")],
  ];
  return [
    `| setting | ${PRESET_NAMES.join(" | ")} |`,
    `| --- | ${PRESET_NAMES.map(() => "---").join(" | ")} |`,
    ...rows.map(([label, cell]) => `| ${label} | ${PRESET_NAMES.map(cell).join(" | ")} |`),
  ].join("\n");
}

if (require.main === module) console.log(presetTable());
