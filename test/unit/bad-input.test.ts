/**
 * Bad input refused at its root, each in its sentence (issue "Bad input never hangs, crashes or
 * passes silently"): what the stack-file fuzzer (test/graph/stackfile-fuzz.test.ts) and a trial
 * of a platform engineer's mistakes found planned silently or thrown with a stack.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { planStack } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { StackFileError } from "../../stacks/stackFile";
import { GaiaConfigError, resolveConfig } from "../../components/config";
import { exposureProblem, isPrivateCidr } from "../../components/platforms/shared/exposure";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { PLATFORM_FIXTURES } from "../support/stacks";

function problems(stack: string, platform: "aws" | "gcp" | "fly" | "local", extra: Record<string, unknown>): string[] {
  const fixture = platform === "local" ? undefined : PLATFORM_FIXTURES[platform];
  const raw = {
    platform, adminEmail: "admin@gaia.example",
    ...(fixture ? { region: fixture.region, [platform]: fixture.settings, ...("alerts" in fixture ? { alerts: fixture.alerts } : {}) } : { local: {}, backups: { enabled: false } }),
    ...extra,
  };
  try {
    resolveConfig(stack, raw);
    return [];
  } catch (error) {
    // A refusal, never a bare Error: the plan prints a GaiaConfigError's sentences without a stack.
    expect(error).toBeInstanceOf(GaiaConfigError);
    return (error as GaiaConfigError).problems;
  }
}

describe("an environment name that breaks the rules is a sentence, never a stack", () => {
  it.each(["Fuzz", "a--b", "trail-", "a".repeat(25)])("stack name %s", (stack) => {
    expect(problems(stack, "aws", { preset: "dev" })).toEqual([
      `stack name "${stack}": use 1-24 characters: a lowercase letter first, then lowercase letters and digits, with single "-" between them and none at the end (it names the database, the roles and every cloud resource), or set gaia:environment to such a name.`,
    ]);
  });

  it("gaia:environment, with the other problems of the file listed beside it", () => {
    expect(problems("dev", "aws", { environment: "a_b", preset: "dev", replicas: -1 }).sort()).toEqual([
      'gaia:environment "a_b": use 1-24 characters: a lowercase letter first, then lowercase letters and digits, with single "-" between them and none at the end ("a_b" would share the database gaia_a_b, its roles and its Redis user with "a-b": name it "a-b") (it names the database, the roles and every cloud resource).',
      "gaia:replicas: must be 0 or more (got -1); set gaia:replicas to a whole number, 0 for none.",
    ]);
  });
});

describe("a size beyond the largest the platform offers is refused, naming the largest", () => {
  it("RDS: more vCPUs or memory than db.m7g.4xlarge", () => {
    expect(problems("dev", "aws", { instance: { vcpus: 64, memoryMb: 200000 } })).toEqual([
      "gaia:instance asks 64 vCPU(s) and 200000 MB, more than the largest RDS class the component offers, db.m7g.4xlarge (16 vCPU(s), 65536 MB): lower gaia:instance, or name a class with gaia:instance.class.",
    ]);
    // A class named is the operator's choice: not compared with the table.
    expect(problems("dev", "aws", { instance: { vcpus: 64, memoryMb: 200000, class: "db.r7g.16xlarge" } })).toEqual([]);
  });

  it("ElastiCache: more memory than cache.m7g.xlarge", () => {
    expect(problems("dev", "aws", { redis: { memoryMb: 1000000 } })).toEqual([
      "gaia:redis.memoryMb asks 1000000 MB, more than the largest ElastiCache node the component offers, cache.m7g.xlarge (12930 MB): lower gaia:redis.memoryMb.",
    ]);
  });

  it("Cloud SQL: more than 96 vCPUs, or more than 6.5 GB per vCPU", () => {
    expect(problems("dev", "gcp", { instance: { vcpus: 1000 } })).toEqual(["gaia:instance.vcpus 1000 is more than Cloud SQL's custom machines have (96): lower it."]);
    expect(problems("dev", "gcp", { instance: { vcpus: 2, memoryMb: 20000 } })).toEqual([
      "gaia:instance.memoryMb 20000 is more than Cloud SQL gives 2 vCPU(s) (6.5 GB each, 13312 MB): raise gaia:instance.vcpus to 4, or lower memoryMb.",
    ]);
    expect(problems("dev", "gcp", { instance: { vcpus: 96, memoryMb: 2000000 } })).toEqual([
      "gaia:instance.memoryMb 2000000 is more than Cloud SQL gives 96 vCPU(s) (6.5 GB each, 638976 MB): lower it to 638976 MB or less.",
    ]);
  });

  it("pools beyond any server's 5000 connections: with a class the tables do not know, and on an existing server", () => {
    // Every service of the policy (chat, assets, auth: 6010 connections; more with a service added since).
    const services = SERVICE_ROLE_NAMES.length;
    const pools = `gaia:pool (1000 + 1000 overflow for ${services} service(s), plus 10 reserved: ${services * 2000 + 10} connections) exceeds the 5000 connections of the largest server on`;
    expect(problems("dev", "aws", { instance: { class: "db.x9.mega" }, pool: { size: 1000, maxOverflow: 1000 } })).toEqual([`${pools} aws: lower gaia:pool.`]);
    expect(problems("local-x", "local", { preset: "dev", pool: { size: 1000, maxOverflow: 1000 } })).toEqual([`${pools} local: lower gaia:pool.`]);
  });
});

describe("network exposure is named", () => {
  it("refuses, in production, allowedCidrs beyond the private ranges", () => {
    expect(problems("production", "aws", { aws: { ...PLATFORM_FIXTURES.aws.settings, allowedCidrs: ["10.1.0.0/16", "0.0.0.0/0"] } })).toContain(
      "gaia:aws.allowedCidrs lets 0.0.0.0/0 reach PostgreSQL (5432) and Redis (6379), addresses beyond the private ranges (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10): list the applications' private subnets instead, or their security groups.",
    );
  });

  it("plans it elsewhere (a warning on the component says the same), and private ranges everywhere", () => {
    expect(problems("dev", "aws", { aws: { ...PLATFORM_FIXTURES.aws.settings, allowedCidrs: ["0.0.0.0/0"] } })).toEqual([]);
    expect(problems("production", "aws", { aws: { ...PLATFORM_FIXTURES.aws.settings, allowedCidrs: ["10.1.0.0/16", "172.20.0.0/16", "192.168.1.0/24", "100.64.0.0/10"] } })).toEqual([]);
  });

  it("tells private ranges from the rest, at their edges", () => {
    expect(["10.0.0.0/8", "10.255.0.0/16", "172.16.0.0/12", "172.31.255.0/24", "192.168.0.0/16", "100.127.0.0/16", "10.1.2.3/32"].map(isPrivateCidr)).toEqual(Array(7).fill(true));
    expect(["0.0.0.0/0", "10.0.0.0/7", "172.15.0.0/16", "172.32.0.0/16", "192.169.0.0/16", "8.8.8.8/32", "100.128.0.0/16"].map(isPrivateCidr)).toEqual(Array(7).fill(false));
    expect(exposureProblem("k", ["10.0.0.0/8"], "p")).toBeUndefined();
  });
});

it("refuses an admin address longer than an address may be", () => {
  expect(problems("dev", "aws", { adminEmail: `${"a".repeat(65)}@gaia.example` })).toEqual([
    `gaia:adminEmail: has more than 64 characters before the @, more than an address may have (got "${"a".repeat(65)}@gaia.example"); set gaia:adminEmail to the environment administrator's address.`,
  ]);
});

describe("a setting the platform's table says it has not is refused where it is asked for", () => {
  it("gaia:redis.memoryMb on fly and local, whose Redis has no size to set; read on aws and gcp", () => {
    expect(problems("dev", "fly", { redis: { memoryMb: 99999999 } })).toEqual([
      "gaia:redis.memoryMb is not read on fly: its Redis has no size to set (Upstash on Fly grows as it is used); remove it.",
    ]);
    expect(problems("local-x", "local", { preset: "dev", redis: { memoryMb: 512 } })).toEqual([
      "gaia:redis.memoryMb is not read on local: its Redis has no size to set (it is the existing server's); remove it.",
    ]);
    expect(problems("dev", "fly", { redis: { highAvailability: false } })).toEqual([]);
    expect(problems("dev", "aws", { redis: { memoryMb: 512 } })).toEqual([]);
    expect(problems("dev", "gcp", { redis: { memoryMb: 1024 } })).toEqual([]);
  });
});

describe("stack files a trial of mistakes found crashing or passing (named regressions of the fuzzer's kinds)", () => {
  const root = mkdtempSync(path.join(tmpdir(), "gaia-bad-input-"));
  const base = "config:\n  gaia:platform: aws\n  gaia:preset: dev\n  gaia:region: us-east-1\n  gaia:adminEmail: a@gaia.example\n";
  let n = 0;
  /** The file planned as `npm run plan` plans it: its refusal's sentences, or "planned". */
  async function refusal(extra: string, head = base): Promise<string[] | "planned"> {
    const stack = `bad-${++n}`;
    writeFileSync(path.join(root, `Pulumi.${stack}.yaml`), head + extra);
    try {
      const { config, secretKeys } = readStackFile(stack, root);
      await planStack(stack, config, secretKeys);
      return "planned";
    } catch (error) {
      // Printed without a stack by the plan: a GaiaConfigError or a StackFileError, nothing else.
      expect(error instanceof GaiaConfigError || error instanceof StackFileError, String((error as Error).stack)).toBe(true);
      return (error as GaiaConfigError | StackFileError).problems.map((p) => p.replace(`Pulumi.${stack}.yaml`, "Pulumi.<stack>.yaml"));
    }
  }

  it("keys named like an Object member (constructor, toString, __proto__) are keys, not a crash or silence", async () => {
    expect(await refusal("  constructor:x: 1\n")).toContain('Pulumi.<stack>.yaml: constructor:x is in the constructor namespace, which nothing in this stack reads: remove it, or write it as gaia:<setting> if it is one (docs/configuration.md, "Stacks and configuration").');
    expect(await refusal("  toString:x: 1\n")).toContain('Pulumi.<stack>.yaml: toString:x is in the toString namespace, which nothing in this stack reads: remove it, or write it as gaia:<setting> if it is one (docs/configuration.md, "Stacks and configuration").');
    expect(await refusal("  gaia:toString:\n  foo: 1\n")).toContain("Pulumi.<stack>.yaml: gaia:toString has no value, so Pulumi reads it as an empty string: give it one, or remove it.");
    expect(await refusal("  gaia:__proto__: 1\n")).toContain('Pulumi.<stack>.yaml: gaia:__proto__ is not a known setting: remove it or correct its name (see docs/configuration.md, "Stacks and configuration").');
  });

  it("a YAML !!set where a map belongs is refused, not planned as the preset's", async () => {
    expect(await refusal("  gaia:redis: !!set {a, b}\n")).toEqual(["Pulumi.<stack>.yaml: gaia:redis is a YAML !!set, which reaches the program as nothing it reads: write it as a map of keys and values (key: value), or a list."]);
  });

  it("a second YAML document, and a list as a key, are sentences of ours, not yaml's advice or a console warning", async () => {
    expect(await refusal("  gaia:replicas: 0\n---\nfoo: 1\n")).toEqual([
      "Pulumi.<stack>.yaml line 7, after gaia:replicas: a second YAML document (---) begins here, which Pulumi does not read: a stack file is one document; remove the --- and what follows, or move its keys under config:.",
    ]);
    expect(await refusal("  ? [a, b]\n  : 1\n")).toEqual([
      "Pulumi.<stack>.yaml: a key under config is a list or a map (? [...] or ? {...}), which Pulumi reads as no key of its config: write the key as text.",
    ]);
  });

  it("an unknown preset is one sentence, not also 'required'", async () => {
    expect(await refusal("", base.replace("gaia:preset: dev", "gaia:preset: prod"))).toEqual([
      'Pulumi.<stack>.yaml: gaia:preset: Invalid option: expected one of "dev"|"staging"|"production" (got "prod"); set gaia:preset to one of dev, staging, production.',
    ]);
  });

  it("storage beyond RDS's 65536 GiB is named at storageGb, and a long value is not printed back whole", async () => {
    expect(await refusal("  gaia:instance:\n    storageGb: 70000\n    maxStorageGb: 77000\n")).toContain("Pulumi.<stack>.yaml: gaia:instance.storageGb 70000 is above RDS's 65536 GiB: lower it.");
    const [long] = (await refusal("", base.replace("gaia:region: us-east-1", `gaia:region: ${"x".repeat(100_000)}`))) as string[];
    expect(long!.length).toBeLessThan(600);
  });
});
