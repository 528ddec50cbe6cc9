import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { settings, type GcpSettings } from "./settings";
import { POSTGRES_TUNING } from "../../../stacks/presets";
import { restoreMarks, restoreProtection, restoredName, servingRestore, type RestoreRole } from "../../core/restore";
import { generatePassword } from "../../credentials";
import { AUDIT_LOGGING, alertThresholds } from "../../alerts";
import { cloudSqlAlerts, describeCloudSqlStorageAlert, memorystoreAlerts } from "./alerts";
import { SLOTS, generationKeepers, generationOf, type Slot } from "../../rotation";
import { missingReaders, warnWithoutIdentities } from "../shared/identities";
import { SUPPORTED_POSTGRES_VERSIONS, maxConnectionsFor } from "../shared/connections";
import { GCP_CONTRACTS, cloudSqlRetainedBackups, cloudSqlTier, parseCloudSqlTier } from "./contracts";
import { gcpMonthlyCost } from "./prices";
import type { GaiaConfig } from "../../core/config";
import type { Platform } from "../types";

/**
 * On every Google resource: the environment, and its preset, which the policy pack keys
 * production's protections on (policy-pack/rules.ts), whatever the stack is called.
 */
function gcpLabels(config: GaiaConfig): Record<string, string> {
  return { environment: config.environment, preset: config.preset, "managed-by": "pulumi-gaia-database" };
}

/** Slot a's secret version keeps the name it had before rotation existed, so adopting rotation replaces none. */
const slotSuffix = (slot: Slot) => (slot === "a" ? "" : "-b");

/**
 * The CAs as one PEM file, each certificate once, on lines of its own, sorted: the API's order
 * may change, and a changed bundle re-runs every command that verifies with it.
 */
const pemBundle = (certs: { cert: string }[]) => [...new Set(certs.map((c) => `${c.cert.trim()}\n`))].sort().join("");

/**
 * Every CA a client of these instances must trust: each Cloud SQL instance, read replicas
 * included, has a CA of its own by default ("an internal CA dedicated to each Cloud SQL instance
 * signs the server certificate for that instance", Cloud SQL "Authorize with SSL/TLS
 * certificates", CA hierarchies; sysown/proxysql issue 4401: replicas fail with "unknown ca"
 * against the primary's). And per instance every CA it trusts, current and upcoming, from
 * instances.listServerCas (the provider's getCaCerts, `certs`), not `serverCaCerts`, which is
 * the current one only (terraform-provider-google resource_sql_database_instance.go:
 * flattenServerCaCerts([]*sqladmin.SslCert{instance.ServerCaCert})): the bundle holds a rotation's
 * next CA before it is used. Not secret (CAs are public certificates; `serverCaCerts` is secret
 * only because the provider marks the attribute so: sql/databaseInstance.js).
 */
function caBundle(instances: gcp.sql.DatabaseInstance[], project: string, opts: pulumi.InvokeOutputOptions): pulumi.Output<string> {
  return pulumi
    .all(instances.map((instance) => gcp.sql.getCaCertsOutput({ instance: instance.name, project }, opts)))
    .apply((answers) => pemBundle(answers.flatMap((a) => a.certs)));
}

/**
 * Cloud SQL flags: the tuning every platform applies, and the connection limit the pools were
 * checked against (./contracts.ts). Cloud SQL preloads pg_stat_statements.
 */
function databaseFlags(tier: string, auditLogging: boolean) {
  const memoryMb = parseCloudSqlTier(tier)?.memoryMb;
  return [
    ...Object.entries(POSTGRES_TUNING).map(([name, value]) => ({ name, value })),
    ...(memoryMb ? [{ name: "max_connections", value: String(maxConnectionsFor(memoryMb)) }] : []),
    // Never statement logging, audit or not: it would write role passwords (components/alerts.ts).
    { name: "log_statement", value: AUDIT_LOGGING.log_statement },
    // Audit logging: "Enabling the cloudsql.enable_pgaudit flag … Setting values for the
    // pgaudit.log flag" (https://cloud.google.com/sql/docs/postgres/pg-audit); the extension
    // itself is created with the others (components/database.ts).
    ...(auditLogging
      ? [
          { name: "cloudsql.enable_pgaudit", value: "on" },
          { name: "pgaudit.log", value: AUDIT_LOGGING["pgaudit.log"] },
          { name: "log_connections", value: "on" },
          { name: "log_disconnections", value: "on" },
        ]
      : []),
  ];
}

export const gcpPlatform: Platform<GcpSettings> = {
  name: "gcp",
  capabilities: {
    regions: [
      "us-central1", "us-east1", "us-east4", "us-west1", "us-west2", "northamerica-northeast1", "europe-west1",
      "europe-west2", "europe-west3", "europe-west4", "europe-north1", "asia-northeast1", "asia-southeast1",
      "australia-southeast1", "southamerica-east1",
    ],
    postgresVersions: SUPPORTED_POSTGRES_VERSIONS,
    // Enterprise edition keeps transaction logs for 1 to 7 days.
    pitrDays: { min: 1, max: 7 },
    retentionDays: { min: 1, max: 365 },
    maxReplicas: 10,
    highAvailability: true,
    redisSizing: true,
    minStorageGb: 10,
    perTableGrants: true,
    auditLogging: true,
    alerts: {
      target: "the Cloud Monitoring notification channel alerts notify (projects/<project>/notificationChannels/<id>)",
      pattern: /^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/notificationChannels\/\d+$/,
      storage: describeCloudSqlStorageAlert,
    },
  },
  settings,
  contracts: GCP_CONTRACTS,
  cannotRotate: {
    // https://cloud.google.com/memorystore/docs/redis/about-redis-auth: "the AUTH string can be
    // changed if necessary by toggling AUTH from off to on", one string at a time.
    redis: "Memorystore generates its AUTH string and changes it only when AUTH is turned off and on again, with no overlap: rotate it in a maintenance window as docs/rotation.md says",
  },

  validate: (config, s) => missingReaders("gaia:gcp.serviceAccounts", "service account", config, s.serviceAccounts, "production"),

  // Every Google resource in the stack's project and region, whatever the gcloud defaults are.
  provider: (config, s, parent) => new gcp.Provider(`${config.names.resourcePrefix}-gcp`, { project: s.project, region: config.region }, { parent }),

  instanceClass: cloudSqlTier,

  monthlyCost: gcpMonthlyCost,

  describe(config) {
    const size = parseCloudSqlTier(cloudSqlTier(config));
    return {
      server: { vcpus: size?.vcpus, memoryMb: size?.memoryMb, maxConnections: size && maxConnectionsFor(size.memoryMb) },
      standby: "regional (a standby in another zone)",
      tls: "verify-ca against the instance's CA (ENCRYPTED_ONLY)",
      redis: `Memorystore ${config.redis.highAvailability ? "STANDARD_HA" : "BASIC"} ${Math.max(1, Math.ceil(config.redis.memoryMb / 1024))} GB, AUTH and server TLS`,
    };
  },

  createPostgres(ctx) {
    const { config, settings: s, child, stateful } = ctx;
    const prefix = config.names.resourcePrefix;
    const labels = gcpLabels(config);
    warnWithoutIdentities("gaia:gcp.serviceAccounts", s.serviceAccounts, child.parent!);
    const tier = gcpPlatform.instanceClass(config);
    const ipConfiguration = { ipv4Enabled: false, privateNetwork: s.network, sslMode: "ENCRYPTED_ONLY" };

    const instanceName = `${prefix}-postgres`;
    const restore = config.restore;
    // Rotated by its generation: the user's password is updated in place (users.update, then the
    // provider waits for the operation: terraform-provider-google resource_sql_user.go), and the
    // PostgreSQL provider, which depends on this user, is reconfigured after it.
    const adminPassword = generatePassword(`${prefix}-postgres-admin-password`, ctx.other, { keepers: generationKeepers(generationOf(config.rotation, "admin")) });

    /** A primary, its admin and its replicas; `from`: cloned from that instance at the stack's point in time; `released`: the previous instance, let go. */
    const instanceSet = (name: string, role: RestoreRole) => {
      const protection = restoreProtection(role, config.deletionProtection, stateful);
      // What the policy pack reads of a restore (policy-pack/rules.ts): the instance let go, and the one restored.
      const setLabels = { ...labels, ...restoreMarks(restore, role) };
      const primary = new gcp.sql.DatabaseInstance(name, {
        name,
        project: s.project,
        // A point-in-time restore is a clone of the instance at that moment, into a new one
        // ("A point-in-time recovery always creates a new instance", Cloud SQL docs, backup-recovery/restore);
        // the provider clones, then applies these settings with an update (terraform-provider-google
        // resource_sql_database_instance.go, "If we've created an instance as a clone or pitr").
        ...(role.from && restore ? { clone: { sourceInstanceName: role.from, pointInTime: restore.at } } : {}),
        region: config.region,
        // Major only; Cloud SQL applies minor versions in maintenance windows.
        databaseVersion: `POSTGRES_${config.postgresVersion}`,
        // Pulumi-level protection; the API-level flag is settings.deletionProtectionEnabled.
        deletionProtection: protection.deletionProtection,
        settings: {
          tier,
          edition: "ENTERPRISE",
          availabilityType: config.highAvailability ? "REGIONAL" : "ZONAL",
          diskType: "PD_SSD",
          diskSize: config.instance.storageGb,
          diskAutoresize: true,
          diskAutoresizeLimit: config.instance.maxStorageGb,
          deletionProtectionEnabled: protection.deletionProtection,
          backupConfiguration: {
            enabled: config.backups.enabled,
            startTime: "00:00",
            pointInTimeRecoveryEnabled: config.backups.pitr,
            transactionLogRetentionDays: config.backups.pitr ? config.backups.pitrDays : undefined,
            backupRetentionSettings: { retainedBackups: cloudSqlRetainedBackups(config), retentionUnit: "COUNT" },
          },
          // With a final snapshot, backups outlive the instance (settings.retainBackupsOnDelete,
          // and a final backup kept for the retention window: settings.finalBackupConfig).
          retainBackupsOnDelete: config.finalSnapshot,
          ...(config.finalSnapshot ? { finalBackupConfig: { enabled: true, retentionDays: Math.max(config.backups.retentionDays, 7) } } : {}),
          ipConfiguration,
          databaseFlags: databaseFlags(tier, config.auditLogging),
          insightsConfig: { queryInsightsEnabled: true, recordApplicationTags: true, recordClientAddress: false },
          maintenanceWindow: { day: 1, hour: 2, updateTrack: "stable" },
          userLabels: setLabels,
        },
      }, {
        ...protection.options,
        // Autoresize grows the disk; the stack's size is only the starting point. Without this
        // the next `up` plans the smaller size again (terraform-provider-google
        // website/docs/r/sql_database_instance.html.markdown recommends ignore_changes on disk_size).
        // The clone is made once; nothing reads it afterwards.
        ignoreChanges: ["settings.diskSize", "clone"],
      });

      // On a restored instance too: the clone holds the admin as it was at that moment, and its
      // password is set to the stack's (Cloud SQL's clone copies "Databases, Users").
      const admin = new gcp.sql.User(name === instanceName ? `${prefix}-postgres-admin` : `${name}-admin`, {
        project: s.project,
        instance: primary.name,
        name: "gaia_admin",
        password: adminPassword,
        // Deleting the instance deletes its users; abandoning keeps Pulumi from removing the
        // admin first and leaving a protected instance without one.
        deletionPolicy: "ABANDON",
      }, child);

      // Replicas are the same tier as the primary: Cloud SQL refuses a primary larger than its replicas.
      const replicas = Array.from({ length: config.replicas }, (_, i) =>
        new gcp.sql.DatabaseInstance(`${name}-replica-${i + 1}`, {
          name: `${name}-replica-${i + 1}`,
          project: s.project,
          region: config.region,
          databaseVersion: `POSTGRES_${config.postgresVersion}`,
          masterInstanceName: primary.name,
          // A replica holds nothing the primary lacks: no deletion protection at Cloud SQL. Where
          // the stack protects its resources (production), removing one still takes a reviewed
          // `pulumi up --ignore-protect`, as the replicas carry the read traffic.
          deletionProtection: false,
          replicaConfiguration: { failoverTarget: false },
          settings: {
            tier,
            edition: "ENTERPRISE",
            availabilityType: "ZONAL",
            diskType: "PD_SSD",
            diskAutoresize: true,
            deletionProtectionEnabled: false,
            ipConfiguration,
            databaseFlags: databaseFlags(tier, config.auditLogging),
            userLabels: { ...setLabels, role: "replica" },
          },
        }, { ...protection.options, ignoreChanges: ["settings.diskSize"] }),
      );
      return { primary, admin, replicas };
    };

    // The environment's instance, unless a restore dropped it; the restored one serves when there is one.
    // Switching back (serve: previous), the restored one is let go instead.
    const restoredServes = servingRestore(restore) !== undefined;
    const previous = restore?.previous === "drop" ? undefined : instanceSet(instanceName, { released: restoredServes && restore?.previous === "release" });
    const restored = restore ? instanceSet(restoredName(instanceName, restore), { from: instanceName, released: !restoredServes }) : undefined;
    const { primary, admin, replicas } = restoredServes ? restored! : previous!;

    // cloudsql.client has no instance-level binding; a condition on the instance's resource
    // name confines it to this environment (https://cloud.google.com/sql/docs/postgres/iam-conditions),
    // and makes each stack's binding its own.
    for (const [role, member] of Object.entries(s.serviceAccounts)) {
      new gcp.projects.IAMMember(`${prefix}-cloudsql-client-${role}`, {
        project: s.project,
        role: "roles/cloudsql.client",
        member: `serviceAccount:${member}`,
        condition: {
          title: `${prefix}-postgres only`,
          expression: pulumi.interpolate`resource.name == "projects/${s.project}/instances/${primary.name}" && resource.type == "sqladmin.googleapis.com/Instance"`,
        },
      }, child);
    }

    cloudSqlAlerts(config, thresholds(config, ctx.settings), s.project, primary, replicas, child);

    return {
      host: primary.privateIpAddress,
      port: pulumi.output(5432),
      replicaHosts: pulumi.all(replicas.map((r) => r.privateIpAddress)),
      // The default per-instance CA signs this instance's certificates only, and they name the
      // instance (project:instance), not its private IP: verify-ca against the CAs of this
      // environment's instances proves the server is one of them (GoogleCloudPlatform/cloud-sql-nodejs-connector
      // src/socket.ts checks the name; libpq cannot). The primary's and each replica's (caBundle).
      tls: { mode: "verify-ca", ca: caBundle([primary, ...replicas], s.project, { parent: child.parent, provider: child.provider }) },
      admin: { username: "gaia_admin", password: adminPassword, isSuperuser: false },
      readyResources: [primary, admin],
      server: primary,
    };
  },

  createRedis(ctx) {
    const { config, settings: s, stateful } = ctx;
    const prefix = config.names.resourcePrefix;
    const redis = new gcp.redis.Instance(`${prefix}-redis`, {
      name: `${prefix}-redis`,
      project: s.project,
      region: config.region,
      tier: config.redis.highAvailability ? "STANDARD_HA" : "BASIC",
      memorySizeGb: Math.max(1, Math.ceil(config.redis.memoryMb / 1024)),
      redisVersion: "REDIS_7_2",
      authorizedNetwork: s.network,
      connectMode: "PRIVATE_SERVICE_ACCESS",
      authEnabled: true,
      transitEncryptionMode: "SERVER_AUTHENTICATION",
      labels: gcpLabels(config),
    }, { ...stateful, additionalSecretOutputs: ["authString"] });
    memorystoreAlerts(config, thresholds(config, ctx.settings), s.project, redis, ctx.child);
    return {
      host: redis.host,
      port: redis.port,
      tls: true,
      // SERVER_AUTHENTICATION: the server presents a certificate of the instance's own CA
      // (https://cloud.google.com/memorystore/docs/redis/in-transit-encryption).
      ca: redis.serverCaCerts.apply(pemBundle),
      username: undefined,
      password: pulumi.secret(redis.authString),
      keyPrefix: undefined,
    };
  },

  storeSecret({ config, settings: s, child }, { name, value, readers, after, slots }) {
    const secretId = name.replace(/\//g, "-");
    const secret = new gcp.secretmanager.Secret(secretId, {
      project: s.project,
      secretId,
      replication: { auto: {} },
      labels: gcpLabels(config),
      // Where the instance is protected, a refused destroy must not leave it without its credentials.
    }, { ...child, retainOnDelete: config.deletionProtection });
    // A changed value replaces the version (secret_data is ForceNew) and the replaced one is
    // destroyed (deletion_policy DELETE: terraform-provider-google
    // resource_secret_manager_secret_version.go). So a rotated credential keeps a version per
    // slot: a rotation replaces only the renewed slot's, which is then "latest" ("an alias to
    // the most recently created SecretVersion": secretmanager/v1/service.proto), and the
    // previous slot's stays readable by its version number until the next rotation.
    const version = (suffix: string, data: pulumi.Output<string>, dependsOn: pulumi.Input<pulumi.Resource>[] | undefined) =>
      new gcp.secretmanager.SecretVersion(`${secretId}-value${suffix}`, { secret: secret.id, secretData: data }, { ...child, dependsOn });
    if (slots) {
      const previousSlot = SLOTS.find((slot) => slot !== slots.current)!;
      const previous = slots.values[previousSlot];
      // The current slot's version is created after the other one, so it is "latest" from the start.
      const previousVersion = version(slotSuffix(previousSlot), previous.value, previous.after);
      version(slotSuffix(slots.current), slots.values[slots.current].value, [...slots.values[slots.current].after, previousVersion]);
    } else {
      version("", value, after);
    }
    // Only the readers' service accounts, each on this secret alone; operators read through
    // their project roles.
    for (const reader of readers.filter((r) => s.serviceAccounts[r])) {
      new gcp.secretmanager.SecretIamMember(`${secretId}-${reader}-access`, {
        project: s.project,
        secretId: secret.secretId,
        role: "roles/secretmanager.secretAccessor",
        member: `serviceAccount:${s.serviceAccounts[reader]}`,
      }, child);
    }
    return secret.name;
  },
};

/** The alerts' thresholds (components/alerts.ts) against the connection limit of the server the stack gets, as the plan's summary shows it. */
function thresholds(config: GaiaConfig, settings: GcpSettings) {
  return alertThresholds(gcpPlatform.describe(config, settings).server.maxConnections);
}
