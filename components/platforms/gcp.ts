import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { POSTGRES_TUNING } from "../../stacks/presets";
import { generatePassword } from "../credentials";
import type { Platform } from "./types";

/** The project and VPC the environment lives in. The VPC needs private services access. */
const settings = z
  .object({
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a Google Cloud project id"),
    /** Self link or id of the VPC network with private services access to Cloud SQL and Memorystore. */
    network: z.string().regex(/^projects\/[^/]+\/global\/networks\/[^/]+$/, "must be projects/<project>/global/networks/<name>"),
    /** The application's service account: gets cloudsql.client and read access to this environment's secrets. */
    appServiceAccount: z.email({ message: "must be a service account email" }),
  })
  .strict();

type GcpSettings = z.infer<typeof settings>;

/** Cloud SQL flags for the tuning every platform applies; Cloud SQL preloads pg_stat_statements. */
const DATABASE_FLAGS = Object.entries(POSTGRES_TUNING).map(([name, value]) => ({ name, value }));

export const gcpPlatform: Platform<GcpSettings> = {
  name: "gcp",
  capabilities: {
    regions: [
      "us-central1", "us-east1", "us-east4", "us-west1", "us-west2", "northamerica-northeast1", "europe-west1",
      "europe-west2", "europe-west3", "europe-west4", "europe-north1", "asia-northeast1", "asia-southeast1",
      "australia-southeast1", "southamerica-east1",
    ],
    postgresVersions: [14, 15, 16, 17],
    // Enterprise edition keeps transaction logs for 1 to 7 days.
    pitrDays: { min: 1, max: 7 },
    retentionDays: { min: 1, max: 365 },
    maxReplicas: 10,
    highAvailability: true,
    minStorageGb: 10,
  },
  settings,

  instanceClass(config) {
    if (config.instance.class) return config.instance.class;
    // Shared-core for the smallest sizes; custom machines need 0.9-6.5 GB per vCPU in 256 MB steps.
    if (config.instance.vcpus <= 1 && config.instance.memoryMb <= 614) return "db-f1-micro";
    const vcpus = config.instance.vcpus === 1 ? 1 : Math.ceil(config.instance.vcpus / 2) * 2;
    const memory = Math.min(Math.max(config.instance.memoryMb, vcpus * 922), vcpus * 6656);
    return `db-custom-${vcpus}-${Math.ceil(memory / 256) * 256}`;
  },

  createPostgres(ctx) {
    const { config, settings: s, child, stateful } = ctx;
    const prefix = config.names.resourcePrefix;
    const labels = { environment: config.environment, "managed-by": "pulumi-gaia-database" };
    const tier = gcpPlatform.instanceClass(config);
    const ipConfiguration = { ipv4Enabled: false, privateNetwork: s.network, sslMode: "ENCRYPTED_ONLY" };

    const primary = new gcp.sql.DatabaseInstance(`${prefix}-postgres`, {
      name: `${prefix}-postgres`,
      project: s.project,
      region: config.region,
      // Major only; Cloud SQL applies minor versions in maintenance windows.
      databaseVersion: `POSTGRES_${config.postgresVersion}`,
      // Pulumi-level protection; the API-level flag is settings.deletionProtectionEnabled.
      deletionProtection: config.deletionProtection,
      settings: {
        tier,
        edition: "ENTERPRISE",
        availabilityType: config.highAvailability ? "REGIONAL" : "ZONAL",
        diskType: "PD_SSD",
        diskSize: config.instance.storageGb,
        diskAutoresize: true,
        diskAutoresizeLimit: config.instance.maxStorageGb,
        deletionProtectionEnabled: config.deletionProtection,
        backupConfiguration: {
          enabled: config.backups.enabled,
          startTime: "00:00",
          pointInTimeRecoveryEnabled: config.backups.pitr,
          transactionLogRetentionDays: config.backups.pitr ? config.backups.pitrDays : undefined,
          backupRetentionSettings: { retainedBackups: Math.max(config.backups.retentionDays, 1), retentionUnit: "COUNT" },
        },
        ipConfiguration,
        databaseFlags: DATABASE_FLAGS,
        insightsConfig: { queryInsightsEnabled: true, recordApplicationTags: true, recordClientAddress: false },
        maintenanceWindow: { day: 1, hour: 2, updateTrack: "stable" },
        userLabels: labels,
      },
    }, stateful);

    const adminPassword = generatePassword(`${prefix}-postgres-admin-password`, child);
    const admin = new gcp.sql.User(`${prefix}-postgres-admin`, {
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
      new gcp.sql.DatabaseInstance(`${prefix}-postgres-replica-${i + 1}`, {
        name: `${prefix}-postgres-replica-${i + 1}`,
        project: s.project,
        region: config.region,
        databaseVersion: `POSTGRES_${config.postgresVersion}`,
        masterInstanceName: primary.name,
        deletionProtection: config.deletionProtection,
        replicaConfiguration: { failoverTarget: false },
        settings: {
          tier,
          edition: "ENTERPRISE",
          availabilityType: "ZONAL",
          diskType: "PD_SSD",
          diskAutoresize: true,
          deletionProtectionEnabled: config.deletionProtection,
          ipConfiguration,
          databaseFlags: DATABASE_FLAGS,
          userLabels: { ...labels, role: "replica" },
        },
      }, stateful),
    );

    new gcp.projects.IAMMember(`${prefix}-cloudsql-client`, {
      project: s.project,
      role: "roles/cloudsql.client",
      member: `serviceAccount:${s.appServiceAccount}`,
    }, child);

    return {
      host: primary.privateIpAddress,
      port: pulumi.output(5432),
      replicaHosts: pulumi.all(replicas.map((r) => r.privateIpAddress)),
      sslMode: "require",
      adminUsername: "gaia_admin",
      adminPassword,
      adminIsSuperuser: false,
      readyResources: [primary, admin],
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
      labels: { environment: config.environment },
    }, { ...stateful, additionalSecretOutputs: ["authString"] });
    return {
      host: redis.host,
      port: redis.port,
      tls: true,
      username: undefined,
      password: pulumi.secret(redis.authString),
      keyPrefix: undefined,
    };
  },

  storeSecret({ config, settings: s, child }, name, value) {
    const secretId = name.replace(/\//g, "-");
    const secret = new gcp.secretmanager.Secret(secretId, {
      project: s.project,
      secretId,
      replication: { auto: {} },
      labels: { environment: config.environment },
    }, child);
    new gcp.secretmanager.SecretVersion(`${secretId}-value`, { secret: secret.id, secretData: value }, child);
    new gcp.secretmanager.SecretIamMember(`${secretId}-app-access`, {
      project: s.project,
      secretId: secret.secretId,
      role: "roles/secretmanager.secretAccessor",
      member: `serviceAccount:${s.appServiceAccount}`,
    }, child);
    return secret.name;
  },
};
