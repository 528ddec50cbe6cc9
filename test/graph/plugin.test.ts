import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { describe, expect, it } from "vitest";
import { GaiaDatabase, type GaiaDatabaseArgs } from "../../components/gaiaDatabase";
import { PLATFORMS } from "../../components/platforms";
import { registered } from "../../components/platforms/plugin";
import type { Platform, StoredSecret } from "../../components/platforms/types";
import { planProgram } from "../../scripts/lib/offline";
import { byType, one } from "../support/stacks";

/**
 * A platform is a plug-in (test/unit/plugin.test.ts resolves one): the same kind of platform,
 * defined here and handed to the component beside the registry's, builds a whole environment
 * under the mocked runtime. Its settings reach its own code typed; the component makes the
 * database, roles and schema over the admin it returns and keeps every credential in its store.
 */
const settings = z.object({ endpoint: z.string(), secretPrefix: z.string() }).strict();
type FakeSettings = z.infer<typeof settings>;

const stored: StoredSecret[] = [];
const fake: Platform<FakeSettings> = {
  name: "fake",
  capabilities: {
    regions: ["moon-1"],
    postgresVersions: [16],
    pitrDays: { min: 1, max: 3 },
    retentionDays: { min: 1, max: 5 },
    maxReplicas: 0,
    highAvailability: false,
    redisSizing: true,
    minStorageGb: 5,
    perTableGrants: true,
    auditLogging: false,
    alerts: null,
  },
  settings,
  contracts: [],
  instanceClass: () => "fake-small",
  describe: () => ({ server: {}, standby: "none", tls: "require", redis: "fake redis" }),
  createPostgres: ({ settings }) => ({
    host: pulumi.output(`db.${settings.endpoint}`),
    port: pulumi.output(5432),
    replicaHosts: pulumi.output([]),
    tls: { mode: "require", ca: undefined },
    admin: { username: "moonadmin", password: pulumi.secret("moon-admin-password"), isSuperuser: true },
    readyResources: [],
  }),
  createRedis: ({ settings }) => ({
    host: pulumi.output(`redis.${settings.endpoint}`),
    port: pulumi.output(6379),
    tls: true,
    username: undefined,
    password: pulumi.secret("moon-redis-password"),
    keyPrefix: undefined,
  }),
  storeSecret: ({ settings }, secret) => {
    stored.push(secret);
    return pulumi.output(`${settings.secretPrefix}${secret.name}`);
  },
};

const platforms = { ...PLATFORMS, fake: registered(fake) };
// GaiaDatabaseArgs name the registry's platforms; a plug-in's name and block are the test's own.
const args = {
  environment: "moonbase",
  platform: "fake",
  preset: "dev",
  adminEmail: "admin@gaia.example",
  backups: { enabled: false, pitr: false },
  fake: { endpoint: "moon.example", secretPrefix: "moonvault:" },
} as unknown as GaiaDatabaseArgs;

describe("a platform plugged in from outside components/, built", () => {
  it("makes the environment on the plug-in's instances and keeps every credential in its store", async () => {
    const program = () => {
      const db = new GaiaDatabase("gaia", args, undefined, platforms);
      return { host: db.host, secretNames: db.secretNames, connectionUrls: db.connectionUrls };
    };
    const plan = await planProgram("moonbase", {}, program);

    expect(plan.outputs.host).toEqual({ value: "db.moon.example", secret: false });
    expect(one(plan, "postgresql:index/database:Database").inputs).toMatchObject({ name: "gaia_moonbase", owner: "gaia_moonbase_owner" });
    expect(one(plan, "pulumi:providers:postgresql").inputs).toMatchObject({ host: "db.moon.example", username: "moonadmin", sslmode: "require", superuser: "true" });
    // No pgaudit where the platform has no audit logging.
    expect(byType(plan, "postgresql:index/extension:Extension").map((r) => r.inputs.name)).toEqual(["pg_stat_statements"]);

    // Each credential under its name in the plug-in's store, as its storeSecret named it.
    const secretNames = plan.outputs.secretNames!.value as Record<string, string>;
    expect(Object.keys(secretNames)).toEqual(expect.arrayContaining(["gaia/moonbase/postgres/owner", "gaia/moonbase/postgres/admin", "gaia/moonbase/redis", "gaia/moonbase/admin-api-key"]));
    for (const [name, reference] of Object.entries(secretNames)) expect(reference).toBe(`moonvault:${name}`);
    expect(stored.map((s) => s.name)).toEqual(Object.keys(secretNames));
    expect(String((plan.outputs.connectionUrls!.value as Record<string, string>).owner)).toContain("@db.moon.example:5432/gaia_moonbase");
  });

  it("is refused by the component, before any resource, with its settings' problems", async () => {
    const registeredTypes: string[] = [];
    const program = () => {
      new GaiaDatabase("gaia", { ...args, fake: { endpoint: "moon.example" } } as GaiaDatabaseArgs, undefined, platforms);
      return {};
    };
    const error = await planProgram("moonbase", {}, program, { onRegister: (type) => registeredTypes.push(type) }).catch((e: unknown) => e);
    expect((error as { problems?: string[] }).problems).toEqual([expect.stringMatching(/^gaia:fake\.secretPrefix: /)]);
    expect(registeredTypes.filter((t) => t !== "pulumi:pulumi:Stack")).toEqual([]);
  });
});
