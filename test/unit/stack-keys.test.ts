import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GaiaConfigError, stackSettings } from "../../components/config";
import { checkSecretsAreSecret } from "../../components/core/rules";
import { editDistance, closest } from "../../components/core/suggest";
import { planStack } from "../../scripts/lib/offline";
import { RotationError, rotate } from "../../scripts/rotate";
import { PROJECT, PROJECT_ROOT, StackFileError, readStackFile, stackNames } from "../../scripts/lib/stackFile";
import { FOREIGN_KEYS, foreignKeys } from "../../stacks/configKeys";
import { checkStackFile, parseStackFile } from "../../stacks/stackFile";

/**
 * What Pulumi would let pass silently in a stack file, refused in one sentence naming the file,
 * the key and the fix, before any resource: the file's shape where the offline plan and the
 * program read it (stacks/stackFile.ts), keys outside gaia: where the program loads its
 * configuration (stacks/configKeys.ts, stacks/load.ts), under the offline plan as under the engine.
 */

/** The problems of a stack file's text, as `npm run plan` and the program (index.ts) read it. */
function fileProblems(text: string, file = "Pulumi.production.yaml"): string[] {
  try {
    parseStackFile(file, text, "gaia-database");
  } catch (error) {
    expect(error).toBeInstanceOf(StackFileError);
    return (error as StackFileError).problems;
  }
  return [];
}

const production = readStackFile("production").config;
const without = (config: Record<string, string>, ...keys: string[]) => Object.fromEntries(Object.entries(config).filter(([k]) => !keys.includes(k)));

/** The problems the program's configuration load finds in `config`, checking that no resource was registered. */
async function refusal(config: Record<string, string>, secretKeys: string[] = [], stack = "production"): Promise<string[]> {
  const registered: string[] = [];
  const failure = await planStack(stack, config, secretKeys, (type) => void registered.push(type)).then(() => undefined, (error: unknown) => error);
  expect(registered, "no resource, the stack itself included").toEqual([]);
  expect(failure).toBeInstanceOf(GaiaConfigError);
  return (failure as GaiaConfigError).problems;
}

describe("provider keys, which the component's own providers never read", () => {
  it("refuses aws:region on a stack without gaia:region, saying to set gaia:region to it", async () => {
    expect(await refusal({ ...without(production, "gaia:region"), "aws:region": "eu-west-1" })).toEqual([
      "Pulumi.production.yaml: aws:region is not read: the component deploys where gaia:region says; set gaia:region: eu-west-1 instead (and remove aws:region).",
    ]);
  });

  it("refuses aws:region equal to gaia:region, saying only to remove it", async () => {
    expect(await refusal({ ...production, "aws:region": "us-east-1" })).toEqual([
      "Pulumi.production.yaml: aws:region is not read: the component deploys where gaia:region says, which is us-east-1 already; remove aws:region.",
    ]);
  });

  it("refuses aws:region other than gaia:region, saying where the stack deploys", async () => {
    expect(await refusal({ ...production, "aws:region": "eu-west-1" })).toEqual([
      "Pulumi.production.yaml: aws:region is not read: the component deploys where gaia:region says (us-east-1); remove aws:region, and set gaia:region: eu-west-1 instead if that is what the stack needs.",
    ]);
  });

  it("never shows a secret provider value", async () => {
    expect(await refusal({ ...without(production, "gaia:region"), "aws:region": "eu-west-1" }, ["aws:region"])).toEqual([
      "Pulumi.production.yaml: aws:region is not read: the component deploys where gaia:region says; set gaia:region: … instead (and remove aws:region).",
    ]);
  });

  it("refuses gcp:project, saying to set gaia:gcp.project", async () => {
    expect(await refusal({ ...production, "gcp:project": "gaia-prod" })).toEqual([
      "Pulumi.production.yaml: gcp:project is not read: the component deploys into the project gaia:gcp.project names; set gaia:gcp.project: gaia-prod instead (and remove gcp:project).",
    ]);
  });

  it("refuses gcp:region, saying where the stack deploys", async () => {
    expect(await refusal({ ...production, "gcp:region": "us-central1" })).toEqual([
      "Pulumi.production.yaml: gcp:region is not read: the component deploys where gaia:region says (us-east-1); remove gcp:region, and set gaia:region: us-central1 instead if that is what the stack needs.",
    ]);
  });

  it("refuses postgresql:host, saying to set gaia:management.host", async () => {
    expect(await refusal({ ...production, "postgresql:host": "127.0.0.1" })).toEqual([
      "Pulumi.production.yaml: postgresql:host is not read: the component reaches PostgreSQL where gaia:management says, else at the server it manages; set gaia:management.host: 127.0.0.1 instead (and remove postgresql:host).",
    ]);
  });

  it("refuses postgresql:port, saying to set gaia:management.port", async () => {
    expect(await refusal({ ...production, "postgresql:port": "6432" })).toEqual([
      "Pulumi.production.yaml: postgresql:port is not read: the component reaches PostgreSQL where gaia:management says, else at the server it manages; set gaia:management.port: 6432 instead (and remove postgresql:port).",
    ]);
  });

  it("refuses aws:profile, saying to set AWS_PROFILE where pulumi runs", async () => {
    expect(await refusal({ ...production, "aws:profile": "gaia-prod" })).toEqual([
      "Pulumi.production.yaml: aws:profile is not read: the component's AWS provider takes its credentials from the environment of whoever runs pulumi; set AWS_PROFILE=gaia-prod there instead (and remove aws:profile).",
    ]);
  });

  it.each([
    ["aws:accessKey", "Pulumi.production.yaml: aws:accessKey is not read: the component's AWS provider takes its credentials from the environment of whoever runs pulumi; set AWS_ACCESS_KEY_ID there instead (and remove aws:accessKey)."],
    ["aws:secretKey", "Pulumi.production.yaml: aws:secretKey is not read: the component's AWS provider takes its credentials from the environment of whoever runs pulumi; set AWS_SECRET_ACCESS_KEY there instead (and remove aws:secretKey)."],
    ["aws:token", "Pulumi.production.yaml: aws:token is not read: the component's AWS provider takes its credentials from the environment of whoever runs pulumi; set AWS_SESSION_TOKEN there instead (and remove aws:token)."],
    ["gcp:credentials", "Pulumi.production.yaml: gcp:credentials is not read: the component's Google Cloud provider takes its credentials from the environment of whoever runs pulumi; set GOOGLE_CREDENTIALS there instead (and remove gcp:credentials)."],
    ["gcp:accessToken", "Pulumi.production.yaml: gcp:accessToken is not read: the component's Google Cloud provider takes its credentials from the environment of whoever runs pulumi; set GOOGLE_OAUTH_ACCESS_TOKEN there instead (and remove gcp:accessToken)."],
  ])("refuses the credential %s, saying which variable to set, without its value", async (key, message) => {
    expect(await refusal({ ...production, [key]: "not-shown-anywhere" })).toEqual([message]);
  });

  it.each([
    ["aws:sharedCredentialsFiles", "Pulumi.production.yaml: aws:sharedCredentialsFiles is not read: the component's AWS provider takes its credentials from the environment of whoever runs pulumi; set AWS_SHARED_CREDENTIALS_FILE=/etc/gaia/credentials there instead (and remove aws:sharedCredentialsFiles)."],
    ["aws:sharedConfigFiles", "Pulumi.production.yaml: aws:sharedConfigFiles is not read: the component's AWS provider takes its credentials from the environment of whoever runs pulumi; set AWS_CONFIG_FILE=/etc/gaia/credentials there instead (and remove aws:sharedConfigFiles)."],
    ["gcp:impersonateServiceAccount", "Pulumi.production.yaml: gcp:impersonateServiceAccount is not read: the component's Google Cloud provider takes its credentials from the environment of whoever runs pulumi; set GOOGLE_IMPERSONATE_SERVICE_ACCOUNT=/etc/gaia/credentials there instead (and remove gcp:impersonateServiceAccount)."],
  ])("refuses %s, saying which variable to set to it", async (key, message) => {
    expect(await refusal({ ...production, [key]: "/etc/gaia/credentials" })).toEqual([message]);
  });

  it("refuses any other aws: key, saying the component's provider reads gaia:region alone", async () => {
    expect(await refusal({ ...production, "aws:defaultTags": '{"tags":{"team":"data"}}' })).toEqual([
      "Pulumi.production.yaml: aws:defaultTags is not read: the component makes its own AWS provider from gaia:region alone; remove it.",
    ]);
  });

  it("refuses any other gcp: key, saying what the component's provider reads", async () => {
    expect(await refusal({ ...production, "gcp:zone": "us-central1-a" })).toEqual([
      "Pulumi.production.yaml: gcp:zone is not read: the component makes its own Google Cloud provider from gaia:gcp.project and gaia:region alone; remove it.",
    ]);
  });

  it("refuses a platform's setting written in its provider's namespace, naming the gaia: key", async () => {
    expect(await refusal({ ...production, "aws:vpcId": "vpc-0abc" })).toEqual([
      "Pulumi.production.yaml: aws:vpcId is not read: the component makes its own AWS provider from gaia:region alone; did you mean gaia:aws.vpcId?",
    ]);
  });

  it("refuses any other postgresql: key, saying where the component's provider connects", async () => {
    expect(await refusal({ ...production, "postgresql:sslmode": "require" })).toEqual([
      "Pulumi.production.yaml: postgresql:sslmode is not read: the component makes its own PostgreSQL provider, with the admin credential of the server it manages (on local, gaia:local.postgresUrl's); remove it.",
    ]);
  });

  it("refuses random: keys, its provider taking no configuration", async () => {
    expect(await refusal({ ...production, "random:seed": "1" })).toEqual(["Pulumi.production.yaml: random:seed is not read: the random provider takes no configuration; remove it."]);
  });

  it("refuses command: keys, its provider taking no configuration", async () => {
    expect(await refusal({ ...production, "command:shell": "zsh" })).toEqual(["Pulumi.production.yaml: command:shell is not read: the command provider takes no configuration; remove it."]);
  });
});

describe("Pulumi's own keys", () => {
  it("keeps pulumi:tags, pulumi:template and a pulumi:disable-default-providers the component can live with", async () => {
    const plan = await planStack("production", {
      ...production,
      "pulumi:tags": '{"team":"data"}',
      "pulumi:template": "https://github.com/pulumi/templates/aws-typescript",
      "pulumi:disable-default-providers": '["aws","gcp","postgresql"]',
    });
    expect(plan.resources.length).toBeGreaterThan(0);
  });

  it("refuses pulumi:disable-default-providers listing a provider the component uses by default", async () => {
    expect(await refusal({ ...production, "pulumi:disable-default-providers": '["*"]' })).toEqual([
      "Pulumi.production.yaml: pulumi:disable-default-providers lists *, but the component uses the default providers of random and command (its random passwords and ids, its ops commands), so every update would fail; list only aws, gcp or postgresql, whose providers it always makes itself, or remove it.",
    ]);
    expect(await refusal({ ...production, "pulumi:disable-default-providers": '["aws","random"]' })).toEqual([
      "Pulumi.production.yaml: pulumi:disable-default-providers lists random, but the component uses the default providers of random and command (its random passwords and ids, its ops commands), so every update would fail; list only aws, gcp or postgresql, whose providers it always makes itself, or remove it.",
    ]);
  });

  it("refuses pulumi:disable-default-providers that is not a list", async () => {
    expect(await refusal({ ...production, "pulumi:disable-default-providers": "aws" })).toEqual([
      "Pulumi.production.yaml: pulumi:disable-default-providers is not a list of package names, which Pulumi refuses.",
    ]);
  });

  it("refuses pulumi:autonaming, whose names the offline plan does not show", async () => {
    expect(await refusal({ ...production, "pulumi:autonaming": '{"pattern":"${name}"}' })).toEqual([
      "Pulumi.production.yaml: pulumi:autonaming would rename the resources the component lets Pulumi name (subnet groups, security groups) in a way the offline plan does not show; remove it.",
    ]);
  });

  it("refuses a misspelt pulumi: key with the key meant, and an unknown one", async () => {
    expect(await refusal({ ...production, "pulumi:tag": '{"team":"data"}' })).toEqual(["Pulumi.production.yaml: pulumi:tag is not a setting Pulumi reads: did you mean pulumi:tags?"]);
    expect(await refusal({ ...production, "pulumi:organization": "gaia" })).toEqual([
      "Pulumi.production.yaml: pulumi:organization is not a setting Pulumi reads: remove it (it reads pulumi:tags, pulumi:template, pulumi:disable-default-providers and pulumi:autonaming).",
    ]);
  });
});

describe("namespaces nothing reads", () => {
  it("refuses a misspelt gaia namespace with the key meant", async () => {
    expect(await refusal({ ...production, "giaa:replicas": "3" })).toEqual([
      "Pulumi.production.yaml: giaa:replicas is in the giaa namespace, which nothing in this stack reads: did you mean gaia:replicas?",
    ]);
  });

  it("reports a required setting in a misspelt namespace once, not also as missing", async () => {
    expect(await refusal({ ...without(production, "gaia:platform"), "Gaia:platform": "aws" })).toEqual([
      "Pulumi.production.yaml: Gaia:platform is in the Gaia namespace, which nothing in this stack reads: did you mean gaia:platform?",
    ]);
  });

  it("refuses a platform's block written as a namespace, naming the gaia: key", async () => {
    expect(await refusal({ ...production, "fly:org": "gaia" })).toEqual([
      "Pulumi.production.yaml: fly:org is in the fly namespace, which nothing in this stack reads: did you mean gaia:fly.org?",
    ]);
  });

  it("refuses an unknown namespace", async () => {
    expect(await refusal({ ...production, "team:owner": "data" })).toEqual([
      'Pulumi.production.yaml: team:owner is in the team namespace, which nothing in this stack reads: remove it, or write it as gaia:<setting> if it is one (docs/configuration.md, "Stacks and configuration").',
    ]);
  });

  it("refuses a key in the project's namespace with the setting meant, or none", async () => {
    expect(await refusal({ ...production, "gaia-database:replica": "3" })).toEqual([
      "Pulumi.production.yaml: gaia-database:replica is in the project's namespace, where the program does not read it: set it as gaia:replicas (pulumi config rm gaia-database:replica; pulumi config set gaia:replicas …).",
    ]);
    expect(await refusal({ ...production, "gaia-database:owner": "data" })).toEqual([
      "Pulumi.production.yaml: gaia-database:owner is in the project's namespace, where the program does not read it, and names no setting: remove it (pulumi config rm gaia-database:owner).",
    ]);
  });

  it("suggests a misspelt gaia: key, and one of a block", async () => {
    expect(await refusal({ ...production, "gaia:replica": "3", "gaia:instance": '{"vcpu":8}' })).toEqual([
      "Pulumi.production.yaml: gaia:instance.vcpu is not a known setting: did you mean gaia:instance.vcpus?",
      "Pulumi.production.yaml: gaia:replica is not a known setting: did you mean gaia:replicas?",
    ]);
  });

  it("keeps every foreign key in one table, each namespace with a rule for its other keys", () => {
    for (const namespace of new Set(Object.keys(FOREIGN_KEYS).map((k) => k.split(":")[0]))) expect(FOREIGN_KEYS, namespace).toHaveProperty([`${namespace}:*`]);
    // Nothing in gaia: is foreign, however written.
    expect(foreignKeys({ "gaia:replicas": "3", "gaia:aws": "{}" }, { project: "gaia-database", settings: stackSettings(), isSecret: () => false })).toEqual([]);
  });
});

describe("a stack file's shape, as Pulumi reads it", () => {
  it("names a nested key written at the top level as an indentation slip", () => {
    expect(fileProblems("config:\n  gaia:platform: aws\n  gaia:instance:\nvcpus: 4\n", "Pulumi.x.yaml")).toEqual([
      "vcpus is at the top level of Pulumi.x.yaml, where Pulumi ignores it: indent it under gaia:instance.",
    ]);
  });

  it("names a nested key written beside its block as an indentation slip, every one of them", () => {
    expect(fileProblems("config:\n  gaia:instance:\n  vcpus: 4\n  memoryMb: 8192\n")).toEqual([
      "vcpus is beside gaia:instance in Pulumi.production.yaml, not under it: indent it under gaia:instance.",
      "memoryMb is beside gaia:instance in Pulumi.production.yaml, not under it: indent it under gaia:instance.",
    ]);
  });

  it("names a platform's setting that slipped out of its block", () => {
    expect(fileProblems("config:\n  gaia:gcp:\n    network: projects/p/global/networks/n\n  project: p\n")).toEqual([
      "project is beside gaia:gcp in Pulumi.production.yaml, not under it: indent it under gaia:gcp.",
    ]);
  });

  it("refuses a misspelt config: with the key meant", () => {
    expect(fileProblems("confg:\n  gaia:platform: aws\n")).toEqual([
      "Pulumi.production.yaml: confg is not a top-level key of a stack file, so Pulumi ignores it and everything under it: did you mean config?",
    ]);
  });

  it("refuses a config key written at the top level", () => {
    expect(fileProblems("gaia:replicas: 3\nconfig:\n  gaia:platform: aws\n")).toEqual([
      "gaia:replicas is at the top level of Pulumi.production.yaml, where Pulumi ignores it: indent it under config:.",
    ]);
  });

  it("refuses a setting's name at the top level, with the key to write under config:", () => {
    expect(fileProblems("replicas: 3\nconfig:\n  gaia:platform: aws\n")).toEqual([
      "replicas is at the top level of Pulumi.production.yaml, where Pulumi ignores it: write it under config: as gaia:replicas.",
    ]);
    expect(fileProblems("replica: 3\nconfig:\n  gaia:platform: aws\n")).toEqual([
      "replica is at the top level of Pulumi.production.yaml, where Pulumi ignores it: did you mean gaia:replicas, under config:?",
    ]);
  });

  it("refuses any other top-level key, naming those a stack file holds", () => {
    expect(fileProblems("config:\n  gaia:platform: aws\nowner: data\n")).toEqual([
      "owner is at the top level of Pulumi.production.yaml, where Pulumi ignores it: remove it (a stack file holds config:, environment:, secretsprovider:, encryptedkey:, encryptionsalt:).",
    ]);
  });

  it("refuses a config key without a namespace, with the setting meant, or none", () => {
    expect(fileProblems("config:\n  gaia:platform: aws\n  replicas: 2\n")).toEqual([
      "replicas in Pulumi.production.yaml has no namespace, so Pulumi reads it as gaia-database:replicas, which the program does not read: did you mean gaia:replicas?",
    ]);
    expect(fileProblems("config:\n  gaia:platform: aws\n  owner: data\n")).toEqual([
      'owner in Pulumi.production.yaml has no namespace, so Pulumi reads it as gaia-database:owner, which nothing reads: remove it, or write it as gaia:<setting> if it is one (docs/configuration.md, "Stacks and configuration").',
    ]);
  });

  it("refuses a setting without a value, which Pulumi reads as an empty string", () => {
    expect(fileProblems("config:\n  gaia:platform: aws\n  gaia:instance:\n  gaia:adminEmail:\n")).toEqual([
      "Pulumi.production.yaml: gaia:instance has no value, so Pulumi reads it as an empty string: indent its settings under it, or remove it.",
      "Pulumi.production.yaml: gaia:adminEmail has no value, so Pulumi reads it as an empty string: give it one, or remove it.",
    ]);
  });

  it("refuses a key Pulumi cannot parse, and one written twice in two forms", () => {
    expect(fileProblems("config:\n  gaia:aws:vpcId: vpc-0abc\n")).toEqual([
      "Pulumi.production.yaml: gaia:aws:vpcId is not a key Pulumi can read (namespace:name, with one colon): did you mean gaia:aws.vpcId?",
    ]);
    expect(fileProblems("config:\n  team:a:b:c: 1\n")).toEqual([
      "Pulumi.production.yaml: team:a:b:c is not a key Pulumi can read (namespace:name, with one colon): write it as namespace:name, such as gaia:replicas.",
    ]);
    expect(fileProblems("config:\n  gaia:replicas: 1\n  gaia:config:replicas: 2\n")).toEqual([
      "Pulumi.production.yaml: gaia:config:replicas and gaia:replicas are the same key to Pulumi (gaia:replicas): keep one.",
    ]);
  });

  it("reads gaia:config:<key> as gaia:<key>, as Pulumi does", () => {
    expect(parseStackFile("Pulumi.x.yaml", "config:\n  gaia:config:replicas: 2\n", "gaia-database").config).toEqual({ "gaia:replicas": "2" });
  });

  it("refuses a credential in plain text beside a secret one under the same key", () => {
    const text = "config:\n  gaia:platform: local\n  gaia:local:\n    postgresUrl:\n      secure: v1:AAAA\n    redisUrl: redis://default:hunter2@127.0.0.1:6379\n";
    expect(fileProblems(text, "Pulumi.local.yaml")).toEqual([
      "Pulumi.local.yaml: gaia:local.redisUrl is stored in plain text: set it with `pulumi config set --secret --path gaia:local.redisUrl …`.",
    ]);
  });

  it("refuses a credential in plain text at any depth", () => {
    expect(fileProblems("config:\n  gaia:local:\n    proxy:\n      apiToken: t0k3n\n", "Pulumi.local.yaml")).toEqual([
      "Pulumi.local.yaml: gaia:local.proxy.apiToken is stored in plain text: set it with `pulumi config set --secret --path gaia:local.proxy.apiToken …`.",
    ]);
  });

  it("lists every problem at once under one line naming the file", () => {
    expect(() => parseStackFile("Pulumi.x.yaml", "config:\n  replicas: 2\nconfgi: {}\n", "gaia-database")).toThrow(
      "Pulumi.x.yaml has 2 problems; nothing was created or changed:\n" +
        "  - replicas in Pulumi.x.yaml has no namespace, so Pulumi reads it as gaia-database:replicas, which the program does not read: did you mean gaia:replicas?\n" +
        "  - Pulumi.x.yaml: confgi is not a top-level key of a stack file, so Pulumi ignores it and everything under it: did you mean config?",
    );
  });

  it("is read where the offline plan reads it and where the program reads it (index.ts), naming Pulumi.<stack>.yaml", () => {
    const root = mkdtempSync(path.join(tmpdir(), "gaia-stackfile-"));
    writeFileSync(path.join(root, "Pulumi.qa.yaml"), "config:\n  gaia:platform: aws\n  gaia:instance:\nvcpus: 4\n");
    const message = "vcpus is at the top level of Pulumi.qa.yaml, where Pulumi ignores it: indent it under gaia:instance.";
    expect(() => readStackFile("qa", root)).toThrow(message);
    expect(() => checkStackFile("qa", root, "gaia-database")).toThrow(message);
    // A stack whose configuration lives elsewhere (no file) is left to the engine's.
    expect(checkStackFile("elsewhere", root, "gaia-database")).toBeUndefined();
  });

  it("is refused by npm run rotate too, before the Pulumi CLI is asked anything", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "gaia-stackfile-"));
    writeFileSync(path.join(root, "Pulumi.qa.yaml"), "config:\n  gaia:platform: local\n  replicas: 2\n");
    await expect(rotate(["qa", "chat"], { root })).rejects.toThrow(
      new RotationError("replicas in Pulumi.qa.yaml has no namespace, so Pulumi reads it as gaia-database:replicas, which the program does not read: did you mean gaia:replicas? Nothing was changed."),
    );
    writeFileSync(path.join(root, "Pulumi.qa.yaml"), "config:\n  gaia:platform: local\n  gaia:instance:\n");
    await expect(rotate(["qa", "chat"], { root })).rejects.toThrow(
      new RotationError("Pulumi.qa.yaml: gaia:instance has no value, so Pulumi reads it as an empty string: indent its settings under it, or remove it; nothing was changed."),
    );
  });

  it("passes every committed stack file and every CLI-written fixture", () => {
    // The namespace a key without one goes to is this project's, as Pulumi.yaml names it.
    expect(readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")).toMatch(new RegExp(`^name: ${PROJECT}$`, "m"));
    for (const stack of stackNames()) expect(() => readStackFile(stack), stack).not.toThrow();
    const fixtures = path.join(PROJECT_ROOT, "test/fixtures/pulumi-cli");
    const written = readdirSync(fixtures).flatMap((f) => /^Pulumi\.([^.]+)\.yaml$/.exec(f)?.[1] ?? []);
    expect(written.length).toBeGreaterThan(0);
    for (const stack of written) expect(() => readStackFile(stack, fixtures), stack).not.toThrow();
  });
});

describe("credentials in plain text where only the engine's word is known (no stack file)", () => {
  it("refuses one at any depth of the platform's block unless the whole key is secret", () => {
    expect(checkSecretsAreSecret("fake", { tunnel: { adminUrl: "postgresql://admin:pw@db/postgres", port: 5432 } }, new Set())).toEqual([
      "gaia:fake.tunnel.adminUrl is stored in plain text: set it with `pulumi config set --secret --path gaia:fake.tunnel.adminUrl …`.",
    ]);
    expect(checkSecretsAreSecret("fake", { tunnel: { adminUrl: "postgresql://admin:pw@db/postgres" } }, new Set(["fake"]))).toEqual([]);
  });
});

describe("suggestions", () => {
  it("counts a swap of neighbours as one edit, and suggests only what is close", () => {
    expect(editDistance("giaa", "gaia")).toBe(1);
    expect(editDistance("confg", "config")).toBe(1);
    expect(closest("ADMINEMAIL", ["adminEmail", "region"])).toBe("adminEmail");
    expect(closest("replica", ["replicas", "region"])).toBe("replicas");
    expect(closest("owner", ["replicas", "region"])).toBeUndefined();
  });
});
