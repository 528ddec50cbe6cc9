import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { PLATFORMS } from "../../components/platforms";
import { stackKeys } from "../../components/core/resolve";
import { PROJECT_ROOT } from "../../scripts/lib/stackFile";
import { readStackFile } from "../../scripts/lib/stackFile";
import { GaiaConfigError, decodeStackConfig, resolveConfig, stackSettings, type MisplacedKey } from "../../components/config";
import { foreignKeys } from "../../stacks/configKeys";
import { PRESETS } from "../../stacks/presets";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { ADDED_SERVICES, NOT_A_SERVICE } from "../support/services";

/** An IAM role per service of the access policy (chat, assets, auth, and any added since). */
const serviceRoles: Record<string, string> = Object.fromEntries(SERVICE_ROLE_NAMES.map((s) => [s, `arn:aws:iam::123456789012:role/${s}`]));
const serviceAccounts: Record<string, string> = {
  chat: "c@gaia-proj.iam.gserviceaccount.com",
  assets: "a@gaia-proj.iam.gserviceaccount.com",
  auth: "u@gaia-proj.iam.gserviceaccount.com",
  ...Object.fromEntries(ADDED_SERVICES.map((s) => [s, `${s}@gaia-proj.iam.gserviceaccount.com`])),
};
const without = (identities: Record<string, string>, ...services: string[]) => Object.fromEntries(Object.entries(identities).filter(([s]) => !services.includes(s)));
const required = (service: string) => `gaia:aws.serviceRoles.${service} is required: the IAM role ARN of the ${service} service, the only identity that may read its credential.`;
const aws = { vpcId: "vpc-0abc", subnetIds: ["subnet-0a1", "subnet-0a2"], allowedSecurityGroupIds: ["sg-0a99"], serviceRoles };
const base = { platform: "aws", region: "us-east-1", adminEmail: "admin@gaia.example", aws, alerts: { notify: "arn:aws:sns:us-east-1:123456789012:gaia-alerts" } };

function problems(stack: string, raw: Record<string, unknown>, secretKeys: string[] = [], misplaced: MisplacedKey[] = []): string[] {
  try {
    resolveConfig(stack, raw, new Set(secretKeys), misplaced);
  } catch (error) {
    expect(error).toBeInstanceOf(GaiaConfigError);
    return (error as GaiaConfigError).problems;
  }
  return [];
}

describe("stack configuration", () => {
  it("resolves a stack file to its preset plus overrides", () => {
    const config = resolveConfig("staging", { ...base, replicas: 1 });
    expect(config).toMatchObject({
      platform: "aws",
      preset: "staging",
      replicas: 1,
      pool: PRESETS.staging.pool,
      backups: PRESETS.staging.backups,
      deletionProtection: true,
      finalSnapshot: true,
    });
    expect(config.names.database).toBe("gaia_staging");
  });

  it("raises a preset's storage to the platform's floor with the preset's room to grow, but checks an explicit one", () => {
    expect(resolveConfig("dev", base).instance).toMatchObject({ storageGb: 20, maxStorageGb: 40 });
    expect(problems("dev", { ...base, instance: { storageGb: 10 } })).toEqual([
      "gaia:instance.storageGb 10 is below aws's minimum of 20 GB: raise it.",
    ]);
  });

  it("decodes Pulumi's config map, objects as JSON and plain strings as they are", () => {
    expect(decodeStackConfig({ "gaia:platform": "fly", "gaia:replicas": "2", "gaia:fly": '{"org":"x"}', "aws:region": "x" })).toEqual({
      platform: "fly",
      replicas: 2,
      fly: { org: "x" },
    });
  });

  const bad: [string, string, Record<string, unknown>, RegExp, string[]?][] = [
    ["unknown platform", "dev", { ...base, platform: "azure" }, /gaia:platform: .*got "azure".*one of aws, gcp, fly, local/],
    ["negative replicas", "dev", { ...base, replicas: -1 }, /gaia:replicas: must be 0 or more \(got -1\)/],
    ["PITR window beyond the platform's", "staging", { ...base, platform: "gcp", region: "us-central1", gcp: { project: "gaia-proj", network: "projects/gaia-proj/global/networks/n", serviceAccounts }, backups: { pitrDays: 14 } }, /gaia:backups.pitrDays 14 is outside gcp's point-in-time-recovery window 1-7/],
    ["production without deletion protection", "production", { ...base, deletionProtection: false }, /production databases keep deletion protection/],
    ["production without backups", "production", { ...base, backups: { enabled: false, pitr: false } }, /production needs backups with point-in-time recovery/],
    ["a region the platform does not have", "dev", { ...base, region: "mars-north-1" }, /gaia:region "mars-north-1" is not a aws region/],
    ["a malformed secret", "local", { platform: "local", preset: "dev", adminEmail: "a@gaia.example", backups: { enabled: false }, local: { postgresUrl: "not a url" } }, /gaia:local.postgresUrl: must be a postgresql:\/\/ URL/, ["local"]],
    ["a credential in plain text", "local", { platform: "local", preset: "dev", adminEmail: "a@gaia.example", backups: { enabled: false }, local: { postgresUrl: "postgresql://postgres:pw@db:5432/postgres" } }, /gaia:local.postgresUrl is stored in plain text: set it with `pulumi config set --secret/],
    ["a misspelt key", "dev", { ...base, replica: 2 }, /gaia:replica is not a known setting/],
    ["an unknown service role", "dev", { ...base, services: ["chat", NOT_A_SERVICE] }, new RegExp(`gaia:services lists "${NOT_A_SERVICE}", which the access policy does not define`)],
    ["a Postgres version the platform lacks", "dev", { ...base, postgresVersion: 12 }, /gaia:postgresVersion 12 is not offered on aws/],
    ["a missing admin email", "dev", { platform: "aws", aws }, /gaia:adminEmail is required/],
    ["AWS without subnets in two zones", "dev", { ...base, aws: { ...aws, subnetIds: ["subnet-0a1"] } }, /gaia:aws.subnetIds: needs at least two private subnets/],
    ["AWS with nothing allowed to connect", "dev", { ...base, aws: { vpcId: "vpc-0abc", subnetIds: ["subnet-0a1", "subnet-0a2"], serviceRoles } }, /nothing could connect to the database/],
    ["a service without its application's IAM role", "dev", { ...base, aws: { ...aws, serviceRoles: without(serviceRoles, "auth") } }, /^gaia:aws.serviceRoles.auth is required: the IAM role ARN of the auth service, the only identity that may read its credential.$/],
    ["two services sharing one IAM role", "dev", { ...base, aws: { ...aws, serviceRoles: { ...serviceRoles, auth: serviceRoles.chat! } } }, /^gaia:aws.serviceRoles gives chat and auth the same IAM role ARN \(arn:aws:iam::123456789012:role\/chat\): each must have its own, or it could read the others' credentials.$/],
    ["a Cloud SQL tier on AWS", "dev", { ...base, instance: { class: "db-custom-2-3840" } }, /^gaia:instance.class "db-custom-2-3840" is not an RDS instance class: use db.<family>.<size>, for example db.m7g.large, or remove it to let the component choose.$/],
    ["memory written in GB", "dev", { ...base, instance: { memoryMb: 4 } }, /^gaia:instance.memoryMb 4 is in MB, not GB: write 4096 for 4 GB.$/],
    ["an IAM role for a service the stack does not run", "dev", { ...base, aws: { ...aws, serviceRoles: { ...serviceRoles, [NOT_A_SERVICE]: `arn:aws:iam::123456789012:role/${NOT_A_SERVICE}` } } }, new RegExp(`^gaia:aws.serviceRoles.${NOT_A_SERVICE} names no service of this stack: use ${[...SERVICE_ROLE_NAMES, "analytics"].join(", ")}.$`)],
    ["a stack name that would end a cloud name with a hyphen", "dev-", base, /^stack name "dev-": use 1-24 characters: a lowercase letter first, then lowercase letters and digits, with single "-" between them and none at the end/],
    ["an environment that would share a neighbour's database and roles", "pr_12", base, /^stack name "pr_12": use 1-24 characters: a lowercase letter first, then lowercase letters and digits, with single "-" between them and none at the end \("pr_12" would share the database gaia_pr_12, its roles and its Redis user with "pr-12": name it "pr-12"\)/],
    ["a stack name with a double separator", "a--b", base, /^stack name "a--b": use 1-24 characters/],
    ["PostgreSQL 14, past its end of life", "dev", { ...base, postgresVersion: 14 }, /^gaia:postgresVersion 14 is not offered on aws: use one of 15, 16, 17 \(major version only\).$/],
    ["a local server verified without its CA", "local", { platform: "local", preset: "dev", adminEmail: "a@gaia.example", backups: { enabled: false }, local: { sslMode: "verify-full" } }, /^gaia:local.sslMode verify-full needs the server's CA: set gaia:local.sslRootCert to its PEM/],
    ["replicas on a platform that has none", "local", { platform: "local", preset: "dev", adminEmail: "a@gaia.example", backups: { enabled: false }, replicas: 1 }, /gaia:replicas 1 is more than local allows \(0\)/],
    ["backups on a server that keeps none", "local", { platform: "local", preset: "dev", adminEmail: "a@gaia.example" }, /gaia:backups.enabled: local keeps no backups/],
    ["a stack name unusable as a database name", "Prod!", base, /stack name "Prod!"/],
    ["a custom stack without a preset", "review-42", base, /gaia:preset is required for environment "review-42"/],
    ["production naming no IAM role", "production", { ...base, aws: { ...aws, serviceRoles: {} } }, /^gaia:aws.serviceRoles.chat is required on production: the IAM role ARN of the chat service, the only identity that may read its credential.$/m],
    ["production on gcp naming no service account", "production", { ...base, platform: "gcp", region: "us-central1", aws: undefined, gcp: { project: "gaia-proj", network: "projects/gaia-proj/global/networks/n" } }, /^gaia:gcp.serviceAccounts.auth is required on production: the service account of the auth service/m],
    ["a recovery window without point-in-time recovery (on RDS it set a retention of 50 days, past RDS's 35)", "dev", { ...base, backups: { pitrDays: 50 } }, /^gaia:backups.pitrDays is set, but gaia:backups.pitr is false \(the dev preset's\), so nothing reads it: set gaia:backups.pitr to true, or remove pitrDays.$/m],
    ["a management host written as a URL, its password with it (printed in every plan)", "dev", { ...base, management: { host: "postgresql://gaia_admin:hunter2@db.internal:5432/postgres" } }, /^gaia:management.host is a URL, not a host name: set the host alone \(db.example.internal or an address\), its port in gaia:management.port; a password never goes there, and the value is not shown here.$/m],
    ["another platform's block, which nothing reads", "dev", { ...base, gcp: { project: "gaia-proj" } }, /^gaia:gcp holds the settings of platform gcp, but this stack's platform is aws \(gaia:platform\), so nothing reads it: remove it, or set gaia:platform to gcp.$/m],
    ["a stack with the production preset under another name naming no IAM role", "live", { ...base, preset: "production", aws: { ...aws, serviceRoles: {} } }, /^gaia:aws.serviceRoles.assets is required on production/m],
  ];

  it.each(bad)("refuses %s, naming the key and the fix", (_label, stack, raw, message, secretKeys) => {
    const found = problems(stack, raw, secretKeys);
    expect(found.length).toBeGreaterThan(0);
    expect(found.join("\n")).toMatch(message);
  });

  it("lets dev and staging name no application identity at all (the run warns), but not some of them", () => {
    for (const stack of ["dev", "staging"]) expect(problems(stack, { ...base, aws: { ...aws, serviceRoles: {} } }), stack).toEqual([]);
    expect(problems("staging", { ...base, aws: { ...aws, serviceRoles: { chat: serviceRoles.chat! } } })).toEqual([
      "gaia:aws.serviceRoles.assets is required: the IAM role ARN of the assets service, the only identity that may read its credential.",
      "gaia:aws.serviceRoles.auth is required: the IAM role ARN of the auth service, the only identity that may read its credential.",
      ...ADDED_SERVICES.map(required),
    ]);
  });

  it("lists every problem at once", () => {
    const found = problems("production", { ...base, replicas: 99, region: "mars-north-1", deletionProtection: false, finalSnapshot: false });
    expect(found).toHaveLength(4);
    expect(new GaiaConfigError("production", found).message).toMatch(/^Stack "production" has 4 configuration problem\(s\); nothing was created or changed:/);
  });
});

describe("production's protections, keyed on the preset whatever the stack is called", () => {
  const gcp = { project: "gaia-proj", network: "projects/gaia-proj/global/networks/n", serviceAccounts };
  const onGcp = { ...base, platform: "gcp", region: "us-central1", aws: undefined, gcp, alerts: { notify: "projects/gaia-proj/notificationChannels/42" } };
  const live = { ...base, preset: "production" };
  it.each([
    ["deletion protection", { deletionProtection: false }, "gaia:deletionProtection is false on a production stack: production databases keep deletion protection; remove the override (to take it down on purpose, set gaia:decommission: true)."],
    ["the final snapshot", { finalSnapshot: false }, "gaia:finalSnapshot is false on a production stack: production keeps a final snapshot; remove the override."],
    ["protect", { protect: false }, "gaia:protect is false on a production stack: production resources stay protected; remove the override (to take it down on purpose, set gaia:decommission: true)."],
    ["backups", { backups: { enabled: false } }, "gaia:backups: production needs backups with point-in-time recovery; remove the override that turns them off."],
    ["point-in-time recovery", { backups: { pitr: false } }, "gaia:backups: production needs backups with point-in-time recovery; remove the override that turns them off."],
    ["the standby", { highAvailability: false }, "gaia:highAvailability is false on a production stack: production runs with a standby; remove the override."],
    ["the recovery window", { backups: { pitrDays: 3 } }, "gaia:backups.pitrDays 3 is below production's recovery window of 7 days: keep 7 or more."],
    ["backup retention", { backups: { retentionDays: 5 } }, "gaia:backups.retentionDays 5 is below production's 7: keep 7 or more."],
    ["read replicas", { replicas: 1 }, "gaia:replicas 1 is below production's 2: keep 2 or more."],
    ["Redis's replica", { redis: { highAvailability: false } }, "gaia:redis.highAvailability is false on a production stack: production's Redis keeps a replica to fail over to; remove the override."],
  ])("refuses turning off %s on a stack named live with the production preset", (_label, override, message) => {
    // Turning one protection off may break a rule that depends on it too (backups for replicas): the protection's own refusal is among them.
    expect(problems("live", { ...live, ...override })).toContain(message);
    expect(problems("production", { ...base, ...override })).toContain(message);
  });

  it("checks the recovery window on gcp too, and lets production go above the floor", () => {
    expect(problems("live", { ...onGcp, preset: "production", backups: { pitrDays: 6 } })).toEqual(["gaia:backups.pitrDays 6 is below production's recovery window of 7 days: keep 7 or more."]);
    expect(problems("live", { ...live, replicas: 3, backups: { retentionDays: 14 } })).toEqual([]);
  });

  it("refuses a stack named after one environment wearing another's preset", () => {
    expect(problems("production", { ...base, preset: "dev" })).toContain("gaia:preset is dev on the production environment: an environment named production uses the production preset; remove gaia:preset.");
    expect(problems("staging", { ...base, preset: "dev" })).toEqual(["gaia:preset is dev on the staging environment: an environment named staging uses the staging preset; remove gaia:preset."]);
  });
});

describe("stack files and keys a person can get wrong", () => {
  it("names the file, line and column of YAML that does not parse, and the fix", () => {
    const root = mkdtempSync(path.join(tmpdir(), "gaia-stackfile-"));
    writeFileSync(path.join(root, "Pulumi.broken.yaml"), "config:\n  gaia:platform: aws\n   gaia:region: us-east-1\n");
    expect(() => readStackFile("broken", root)).toThrow(/^Pulumi\.broken\.yaml line 2, column 18, in gaia:platform: Nested mappings are not allowed in compact mappings: fix the YAML \(keys under config:, indented with spaces\)\.$/);
    writeFileSync(path.join(root, "Pulumi.list.yaml"), "config:\n  - gaia:platform\n");
    expect(() => readStackFile("list", root)).toThrow("Pulumi.list.yaml: config must be a map of keys such as gaia:platform: fix the file.");
    writeFileSync(path.join(root, "Pulumi.empty.yaml"), "");
    expect(readStackFile("empty", root)).toEqual({ config: {}, secretKeys: [], undecrypted: [] });
  });

  it("reports a key in the project's namespace once, with the key to use", () => {
    const misplaced = foreignKeys({ "gaia-database:platform": "aws" }, { project: "gaia-database", settings: stackSettings(), isSecret: () => false });
    const found = problems("dev", { adminEmail: "a@gaia.example", aws }, [], misplaced);
    expect(found).toEqual(["gaia-database:platform is in the project's namespace, where the program does not read it: set it as gaia:platform (pulumi config rm gaia-database:platform; pulumi config set gaia:platform …)."]);
  });
});

describe("GaiaDatabaseArgs", () => {
  it("declares every key a stack file may set, and no other (read from components/args.ts)", () => {
    const source = ts.createSourceFile("args.ts", readFileSync(path.join(PROJECT_ROOT, "components/args.ts"), "utf8"), ts.ScriptTarget.Latest);
    const args = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === "GaiaDatabaseArgs")!;
    const declared = args.members.map((m) => (m.name as ts.Identifier).text).sort();
    expect(declared).toEqual(stackKeys(Object.keys(PLATFORMS) as [string, ...string[]]).sort());
  });
});
