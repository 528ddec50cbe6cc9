import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * What the clouds would answer when a resource is created: the computed outputs the program
 * reads (addresses, ARNs, generated values), deterministic so plans are stable. Generated
 * secrets come back wrapped as secrets, as the real providers mark them.
 */
export function cloudState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  return { ...inputs, ...computed(type, name, inputs) };
}

const secret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });
const digest = (name: string) => createHash("sha256").update(name).digest("hex");
const privateIp = (name: string, net: number) => `10.${net}.${parseInt(digest(name).slice(0, 2), 16)}.${parseInt(digest(name).slice(2, 4), 16) || 1}`;

/** True where a value arrived at the engine wrapped as a secret. */
export function isSecretValue(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
}

/** Inputs may arrive wrapped as secrets; the clouds see the value. */
export function unwrap(value: unknown): unknown {
  return isSecretValue(value) ? (value as { value: unknown }).value : value;
}

function computed(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "random:index/randomPassword:RandomPassword":
      return { result: secret(`mock-${digest(name).slice(0, 24)}`) };
    case "random:index/randomId:RandomId":
      return { hex: digest(name).slice(0, 8) };
    case "aws:kms/key:Key":
      return { arn: `arn:aws:kms:mock-region:123456789012:key/${digest(name).slice(0, 8)}` };
    case "aws:rds/instance:Instance":
      return {
        address: `${inputs.identifier}.cmock.rds.amazonaws.com`,
        port: 5432,
        arn: `arn:aws:rds:mock-region:123456789012:db:${inputs.identifier}`,
      };
    case "aws:rds/subnetGroup:SubnetGroup":
    case "aws:rds/parameterGroup:ParameterGroup":
    case "aws:elasticache/subnetGroup:SubnetGroup":
      return { name: inputs.name ?? name };
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return { primaryEndpointAddress: `master.${inputs.replicationGroupId}.mock.cache.amazonaws.com` };
    case "aws:secretsmanager/secret:Secret":
      return { arn: `arn:aws:secretsmanager:mock-region:123456789012:secret:${inputs.name}-${digest(name).slice(0, 6)}` };
    case "gcp:sql/databaseInstance:DatabaseInstance":
      return { privateIpAddress: privateIp(name, 20), connectionName: `${inputs.project}:${inputs.region}:${inputs.name}` };
    case "gcp:redis/instance:Instance":
      return { host: privateIp(name, 30), port: 6379, authString: secret(`mock-${digest(name).slice(0, 24)}`) };
    case "gcp:secretmanager/secret:Secret":
      return { name: `projects/${inputs.project}/secrets/${inputs.secretId}` };
    case "command:local:Command":
      return { stdout: commandOutput(String(inputs.create ?? ""), unwrap(inputs.environment) as Record<string, unknown> | undefined), stderr: "" };
    default:
      return {};
  }
}

/** What the ops scripts print as their last line where the program reads it (Fly). */
function commandOutput(create: string, environment: Record<string, unknown> = {}): string {
  const env = (key: string) => String(unwrap(environment[key]) ?? "");
  if (create.endsWith("fly.ts postgres-apply")) {
    const app = env("GAIA_FLY_APP");
    const regions = JSON.parse(env("GAIA_FLY_REPLICA_REGIONS") || "[]") as string[];
    return JSON.stringify({ host: `${app}.flycast`, port: 5432, replicaHosts: regions.map((r, i) => `${r}-${i + 1}.vm.${app}.internal`) });
  }
  if (create.endsWith("fly.ts redis-apply")) {
    const redis = env("GAIA_FLY_REDIS");
    return JSON.stringify({ host: `fly-${redis}.upstash.io`, port: 6379, password: `mock-${digest(redis).slice(0, 24)}` });
  }
  return "";
}
