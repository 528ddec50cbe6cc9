import { describe, expect, it, vi } from "vitest";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { ADDED_SERVICES } from "../support/services";
import { policySpec } from "../../policy/grants";
import { environmentNames } from "../../policy/naming";
import { isSecretValue, planStack } from "../../scripts/lib/offline";
import { cloudState, unwrap } from "../../scripts/lib/cloudMocks";
import { PRESETS, type PresetName } from "../../stacks/presets";
import { CLOUD_PLATFORMS, byType, one, planOn, stackOn, type CloudPlatform } from "../support/stacks";

const STACKS: PresetName[] = ["dev", "staging", "production"];
/** Every generated secret the simulated providers hand out looks like this. */
const GENERATED_SECRET = /mock-[0-9a-f]{24}/;
const COMPONENT = "gaia:database:GaiaDatabase::gaia";
const ROLES = 2 + SERVICE_ROLE_NAMES.length;

/** The value with every secret-wrapped part removed: what is stored or shown in plain text. */
function plainParts(value: unknown): unknown {
  if (isSecretValue(value)) return "<secret>";
  if (Array.isArray(value)) return value.map(plainParts);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainParts(v)]));
  return value;
}


/** Platforms where the component makes the roles and grants itself (Fly: test/graph/fly.test.ts). */
const SQL_PLATFORMS = ["aws", "gcp"] as const;

describe.each(SQL_PLATFORMS)("every stack file on %s", (platform: CloudPlatform) => {
  describe.each(STACKS)("stack %s", (stack) => {
    const preset = PRESETS[stack];
    const names = environmentNames(stack);
    const planned = planOn(stack, platform);

    it("creates the database, a group and two login roles (rotation's slots) per policy role, and the schema command that applies the policy", async () => {
      const plan = await planned;
      expect(byType(plan, "gaia:database:GaiaDatabase")).toHaveLength(1);
      expect(one(plan, "postgresql:index/database:Database").inputs).toMatchObject({ name: names.database, owner: names.groupRole("owner") });
      const roles = byType(plan, "postgresql:index/role:Role");
      expect(roles).toHaveLength(ROLES * 3);
      for (const role of ["owner", "analytics", ...SERVICE_ROLE_NAMES] as const) {
        for (const slot of ["a", "b"] as const) {
          const login = one(plan, "postgresql:index/role:Role", names.loginRole(role, slot));
          expect(login.inputs).toMatchObject({ login: true, roles: [names.groupRole(role)] });
          expect(isSecretValue(login.inputs.password)).toBe(true);
        }
        expect(one(plan, "postgresql:index/role:Role", names.groupRole(role)).inputs).toMatchObject({ login: false });
      }
      // The policy is applied by the schema command in one transaction, not by grant resources
      // whose replacement would revoke what the new policy keeps (ops/lib/policy.ts).
      expect(plan.resources.filter((r) => /grant|defaultPrivileges/i.test(r.type))).toEqual([]);
      // Made closed: the schema command takes PUBLIC's CONNECT, then opens it (ops/lib/open.ts).
      expect(one(plan, "postgresql:index/database:Database").inputs.allowConnections).toBe(false);
      // The provider's own pool: one connection deadlocks a database create with an owner
      // (cyrilgdn/terraform-provider-postgresql issue 514).
      expect(one(plan, "pulumi:providers:postgresql").inputs).not.toHaveProperty("maxConnections");
      const schema = one(plan, "command:local:Command", `${names.resourcePrefix}-schema`);
      expect(schema.inputs.create).toBe("NODE_COMPILE_CACHE=node_modules/.cache/gaia-ops node_modules/.bin/node dist/ops/migrate.cjs apply");
      // A re-created database is migrated again.
      expect(schema.replaceWith).toEqual([`postgresql:index/database:Database::${names.database}`]);
      // After the database and every login role, so a removed service's role is dropped only after
      // the command's update took its privileges away.
      expect(schema.dependsOn).toEqual([`postgresql:index/database:Database::${names.database}`, ...["owner", "analytics", ...SERVICE_ROLE_NAMES].flatMap((r) => [`postgresql:index/role:Role::${names.loginRole(r, "a")}`, `postgresql:index/role:Role::${names.loginRole(r, "b")}`])]);
      const environment = unwrap(schema.inputs.environment) as Record<string, unknown>;
      expect(Object.keys(environment)).toContain("GAIA_MIGRATIONS_DIGEST");
      // The cloud admin keeps CONNECT: the provider connects as it to the database for the extensions.
      expect(JSON.parse(String(unwrap(environment.GAIA_ACCESS_POLICY)))).toEqual(policySpec(names, undefined, undefined, "gaia_admin"));
    });

    it("parents every resource to the component", async () => {
      const plan = await planned;
      for (const r of plan.resources.filter((r) => r.type !== "gaia:database:GaiaDatabase")) {
        expect(`${r.type} ${r.name}: ${r.parent}`).toBe(`${r.type} ${r.name}: ${COMPONENT}`);
      }
    });

    it("marks every credential output secret and lets no generated secret reach a plain input or output", async () => {
      const plan = await planned;
      for (const key of ["connectionUrls", "redisUrl", "adminApiKey"]) {
        expect(plan.outputs[key]!.secret, key).toBe(true);
        expect(JSON.stringify(plan.outputs[key]!.value)).toMatch(GENERATED_SECRET);
      }
      for (const [key, output] of Object.entries(plan.outputs).filter(([, o]) => !o.secret)) {
        expect(JSON.stringify(output.value), `output ${key}`).not.toMatch(GENERATED_SECRET);
      }
      for (const r of plan.resources) {
        expect(JSON.stringify(plainParts(r.inputs)), `${r.type} ${r.name}`).not.toMatch(GENERATED_SECRET);
      }
      const urls = plan.outputs.connectionUrls!.value as Record<string, string>;
      expect(Object.keys(urls).sort()).toEqual(["analytics", "owner", ...SERVICE_ROLE_NAMES].sort());
      const sslmode = { aws: "verify-full", gcp: "verify-ca" }[platform as "aws" | "gcp"];
      for (const url of Object.values(urls)) expect(url).toMatch(new RegExp(`^postgresql://gaia_${stack}_[a-z]+_a:.+@.+:\\d+/${names.database}\\?sslmode=${sslmode}$`));
    });

    it("protects stateful resources exactly where the environment requires", async () => {
      const plan = await planned;
      const guard = `random:index/randomId:RandomId::${names.resourcePrefix}-deletion-guard`;
      const protectedTypes = new Set(plan.resources.filter((r) => r.protect && `${r.type}::${r.name}` !== guard).map((r) => r.type));
      if (preset.protect) {
        expect(protectedTypes).toContain("postgresql:index/database:Database");
        expect(protectedTypes.size).toBeGreaterThan(1);
      } else {
        expect(protectedTypes.size).toBe(0);
      }
      // The deletion guard (components/gaiaDatabase.ts) is protected wherever the platform refuses deletion.
      expect(plan.resources.find((r) => `${r.type}::${r.name}` === guard)!.protect).toBe(preset.deletionProtection);
    });

    it("stores every credential in the platform's secret store", async () => {
      const plan = await planned;
      const stored = Object.keys(plan.outputs.secretNames!.value as object).sort();
      // The CAs sit beside the credentials where the platform's CA is a private one.
      const cas = { aws: [`gaia/${stack}/postgres/ca`], gcp: [`gaia/${stack}/postgres/ca`, `gaia/${stack}/redis/ca`] }[platform as "aws" | "gcp"];
      expect(stored).toEqual(
        [...["owner", "analytics", ...SERVICE_ROLE_NAMES, "admin"].map((r) => `gaia/${stack}/postgres/${r}`), `gaia/${stack}/redis`, `gaia/${stack}/admin-api-key`, ...cas].sort(),
      );
    });

    it(`sizes, backs up, replicates and protects the instance as ${stack} requires`, async () => {
      const plan = await planned;
      if (platform === "aws") {
        const primary = one(plan, "aws:rds/instance:Instance", `${names.resourcePrefix}-postgres`).inputs;
        expect(primary).toMatchObject({
          engineVersion: "16",
          multiAz: preset.highAvailability,
          backupRetentionPeriod: preset.backups.retentionDays,
          deletionProtection: preset.deletionProtection,
          skipFinalSnapshot: !preset.finalSnapshot,
          storageEncrypted: true,
          storageType: "gp3",
          publiclyAccessible: false,
          performanceInsightsEnabled: true,
          // dev's 10 GB growing to 20 is raised to RDS's 20 GB floor with the same room to grow.
          maxAllocatedStorage: { dev: 40, staging: 100, production: 1000 }[stack],
          allocatedStorage: { dev: 20, staging: 50, production: 500 }[stack],
          allowMajorVersionUpgrade: true,
          applyImmediately: true,
        });
        if (preset.finalSnapshot) expect(primary.finalSnapshotIdentifier).toMatch(new RegExp(`^${names.resourcePrefix}-postgres-final-[0-9a-f]{8}$`));
        const params = one(plan, "aws:rds/parameterGroup:ParameterGroup").inputs.parameters as { name: string; value: string }[];
        expect(params).toContainEqual({ name: "rds.force_ssl", value: "1" });
        // Audit logging (pgaudit) on staging and production by preset.
        expect(params).toContainEqual(expect.objectContaining({ name: "shared_preload_libraries", value: { dev: "pg_stat_statements", staging: "pg_stat_statements,pgaudit", production: "pg_stat_statements,pgaudit" }[stack] }));
        // pgaudit.log is dynamic (PGC_SUSET in pgaudit.c): applied at once, no applyMethod "pending-reboot".
        if (stack !== "dev") expect(params).toContainEqual({ name: "pgaudit.log", value: "ddl,role" });
        else expect(params.map((p) => p.name)).not.toContain("pgaudit.log");
        const replicas = byType(plan, "aws:rds/instance:Instance").filter((r) => r.inputs.replicateSourceDb);
        expect(replicas).toHaveLength(preset.replicas);
        for (const replica of replicas) expect(replica.inputs).not.toHaveProperty("password");
        const redis = one(plan, "aws:elasticache/replicationGroup:ReplicationGroup").inputs;
        expect(redis).toMatchObject({ transitEncryptionEnabled: true, atRestEncryptionEnabled: true, multiAzEnabled: preset.redis.highAvailability });
        expect(isSecretValue(redis.authToken)).toBe(true);
      }
      if (platform === "gcp") {
        const primary = one(plan, "gcp:sql/databaseInstance:DatabaseInstance", `${names.resourcePrefix}-postgres`).inputs as Record<string, any>;
        expect(primary.databaseVersion).toBe("POSTGRES_16");
        expect(primary.deletionProtection).toBe(preset.deletionProtection);
        expect(primary.settings).toMatchObject({
          availabilityType: preset.highAvailability ? "REGIONAL" : "ZONAL",
          deletionProtectionEnabled: preset.deletionProtection,
          ipConfiguration: { ipv4Enabled: false, sslMode: "ENCRYPTED_ONLY" },
          insightsConfig: { queryInsightsEnabled: true },
          maintenanceWindow: { day: 1, hour: 2 },
          backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: preset.backups.pitr },
        });
        if (preset.backups.pitr) expect(primary.settings.backupConfiguration.transactionLogRetentionDays).toBe(preset.backups.pitrDays);
        expect(primary.settings.databaseFlags).toContainEqual({ name: "random_page_cost", value: "1.1" });
        expect(byType(plan, "gcp:sql/databaseInstance:DatabaseInstance").filter((r) => r.inputs.masterInstanceName)).toHaveLength(preset.replicas);
        const clients = byType(plan, "gcp:projects/iAMMember:IAMMember");
        expect(clients.map((c) => c.inputs.member).sort()).toEqual(
          ["analytics", "assets", "auth", "chat", ...ADDED_SERVICES].sort().map((r) => `serviceAccount:${r}@gaia-test-project.iam.gserviceaccount.com`),
        );
        for (const client of clients) {
          expect(client.inputs).toMatchObject({ role: "roles/cloudsql.client" });
          expect((client.inputs.condition as { expression: string }).expression).toBe(
            `resource.name == "projects/gaia-test-project/instances/${names.resourcePrefix}-postgres" && resource.type == "sqladmin.googleapis.com/Instance"`,
          );
        }
        // Clients verify the primary and every replica: the CA handed out holds each instance's
        // current CA (the one Cloud SQL gives it, serverCaCerts) and is no secret.
        const instances = byType(plan, "gcp:sql/databaseInstance:DatabaseInstance");
        expect(instances).toHaveLength(1 + preset.replicas);
        expect(plan.outputs.postgresCa!.secret).toBe(false);
        for (const instance of instances) {
          const [current] = unwrap(cloudState(instance.type, instance.name, instance.inputs).serverCaCerts) as { cert: string }[];
          expect(String(plan.outputs.postgresCa!.value), instance.name).toContain(current!.cert);
        }
        expect(one(plan, "gcp:redis/instance:Instance").inputs).toMatchObject({
          tier: preset.redis.highAvailability ? "STANDARD_HA" : "BASIC",
          authEnabled: true,
          transitEncryptionMode: "SERVER_AUTHENTICATION",
        });
      }
    });
  });
});

describe("a stack with bad configuration", () => {
  it("fails before any resource is registered, listing every problem", async () => {
    const registered: string[] = [];
    const bad = { "gaia:platform": "aws", "gaia:replicas": "-1", "gaia:region": "mars-1", "gaia:adminEmail": "admin@gaia.example" };
    await expect(planStack("dev", bad, [], (type) => registered.push(type))).rejects.toThrow(
      /^Pulumi\.dev\.yaml has 5 configuration problem\(s\); nothing was created or changed:\n  - Pulumi\.dev\.yaml: gaia:replicas: must be 0 or more \(got -1\)[^\n]*\n  - Pulumi\.dev\.yaml: gaia:region "mars-1" is not a aws region[^\n]*\n  - Pulumi\.dev\.yaml: gaia:aws is required on aws[^\n]*\n  - Pulumi\.dev\.yaml: gaia:aws.vpcId: is required.\n  - Pulumi\.dev\.yaml: gaia:aws.subnetIds: is required.$/,
    );
    expect(registered).toEqual([]);
  });
});

describe("stacks side by side", () => {
  it.each(CLOUD_PLATFORMS)("share no resource name, database, role or secret on %s", async (platform) => {
    const plans = await Promise.all(STACKS.map((s) => planOn(s, platform)));
    const sets = plans.map((plan) => ({
      resources: new Set(plan.resources.filter((r) => r.type !== "gaia:database:GaiaDatabase").map((r) => r.name)),
      databases: new Set(byType(plan, "postgresql:index/database:Database").map((r) => String(r.inputs.name))),
      roles: new Set(byType(plan, "postgresql:index/role:Role").map((r) => String(r.inputs.name))),
      secrets: new Set(Object.keys(plan.outputs.secretNames!.value as object)),
    }));
    for (let a = 0; a < sets.length; a++) {
      for (let b = a + 1; b < sets.length; b++) {
        for (const key of ["resources", "databases", "roles", "secrets"] as const) {
          const shared = [...sets[a]![key]].filter((x) => sets[b]![key].has(x));
          expect(shared, `${key} shared by ${STACKS[a]} and ${STACKS[b]}`).toEqual([]);
        }
      }
    }
  });
});

describe("a dev or staging stack that names no application identity", () => {
  it.each([
    ["aws", "gaia:aws.serviceRoles", "aws:secretsmanager/secretPolicy:SecretPolicy"],
    ["gcp", "gaia:gcp.serviceAccounts", "gcp:secretmanager/secretIamMember:SecretIamMember"],
  ] as const)("on %s stores every secret with no application allowed or denied, and warns once", async (platform, key, grantType) => {
    const config = stackOn("staging", platform);
    const settings = JSON.parse(config[`gaia:${platform}`]!) as Record<string, unknown>;
    delete settings.serviceRoles;
    delete settings.serviceAccounts;
    const warnings: string[] = [];
    const warn = vi.spyOn(console, "warn").mockImplementation((message: unknown) => void warnings.push(String(message)));
    try {
      const plan = await planStack("staging", { ...config, [`gaia:${platform}`]: JSON.stringify(settings) });
      expect(byType(plan, grantType)).toEqual([]);
      expect(byType(plan, platform === "aws" ? "aws:secretsmanager/secret:Secret" : "gcp:secretmanager/secret:Secret").length).toBeGreaterThan(5);
      expect(byType(plan, "gcp:projects/iAMMember:IAMMember")).toEqual([]);
    } finally {
      warn.mockRestore();
    }
    expect(warnings).toEqual([`warning: [runtime] ${key} is not set: no application identity is named, so the credentials' secrets grant and deny no application anything, and the account's IAM policies alone decide who reads them. Set it to confine each service to its own credential (production requires it).`]);
  });
});
