import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cloudState, isSecretValue } from "../../scripts/lib/cloudMocks";
import { PROJECT_ROOT } from "../../scripts/lib/offline";

/**
 * The simulated clouds answer only with properties the providers declare: each mocked output
 * name is an output of the resource class in the installed SDK (generated from the provider
 * schema), and what the provider marks secret comes back secret. A mock that invents a shape
 * fails here, not in a deployment.
 */
const MOCKED: [type: string, inputs: Record<string, unknown>][] = [
  ["random:index/randomPassword:RandomPassword", {}],
  ["random:index/randomId:RandomId", {}],
  ["aws:kms/key:Key", {}],
  ["aws:rds/instance:Instance", { identifier: "gaia-x-postgres" }],
  ["aws:ec2/securityGroup:SecurityGroup", {}],
  ["aws:rds/subnetGroup:SubnetGroup", {}],
  ["aws:rds/parameterGroup:ParameterGroup", {}],
  ["aws:elasticache/subnetGroup:SubnetGroup", {}],
  ["aws:elasticache/replicationGroup:ReplicationGroup", { replicationGroupId: "gaia-x-redis" }],
  ["aws:secretsmanager/secret:Secret", { name: "gaia/x/redis" }],
  ["gcp:sql/databaseInstance:DatabaseInstance", { project: "p", region: "r", name: "gaia-x-postgres" }],
  ["gcp:redis/instance:Instance", { transitEncryptionMode: "SERVER_AUTHENTICATION" }],
  ["gcp:secretmanager/secret:Secret", { project: "p", secretId: "s" }],
  ["command:local:Command", { create: "true" }],
];

/** `aws:rds/instance:Instance` -> node_modules/@pulumi/aws/rds/instance.d.ts (the file name's case varies). */
function declarationFile(type: string): string {
  const [pkg, module, resource] = type.split(":") as [string, string, string];
  const [folder, name] = (module.includes("/") ? module.split("/") : [module, resource]) as [string, string];
  const dir = path.join(PROJECT_ROOT, "node_modules", "@pulumi", pkg, folder === "index" ? "" : folder);
  const file = readdirSync(dir).find((f) => f.toLowerCase() === `${name.toLowerCase()}.d.ts`);
  if (!file) throw new Error(`no declaration for ${type} in ${dir}`);
  return path.join(dir, file);
}

function declaredOutputs(type: string): Set<string> {
  const source = readFileSync(declarationFile(type), "utf8");
  return new Set([...source.matchAll(/readonly (\w+): pulumi\.Output</g)].map((m) => m[1]!));
}

function declaredSecretOutputs(type: string): string[] {
  const js = readFileSync(declarationFile(type).replace(/\.d\.ts$/, ".js"), "utf8");
  const list = /additionalSecretOutputs: \[([^\]]*)\]/.exec(js)?.[1] ?? "";
  return [...list.matchAll(/"(\w+)"/g)].map((m) => m[1]!);
}

describe("the simulated clouds", () => {
  it.each(MOCKED)("answer %s with outputs its provider declares, secret where the provider makes them secret", (type, inputs) => {
    const outputs = declaredOutputs(type);
    const state = cloudState(type, "gaia-x", inputs);
    const invented = Object.keys(state).filter((key) => !(key in inputs) && !outputs.has(key));
    expect(invented).toEqual([]);
    for (const key of declaredSecretOutputs(type).filter((k) => k in state && !(k in inputs))) {
      expect(isSecretValue(state[key]), `${type}.${key}`).toBe(true);
    }
  });
});
