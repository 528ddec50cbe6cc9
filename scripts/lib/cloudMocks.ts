import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * What the clouds would answer when a resource is created: the computed outputs the program
 * reads, with the names and shapes of the provider schemas (the SDKs' `types/output.d.ts`),
 * deterministic so plans are stable. What a provider marks secret (its
 * `additionalSecretOutputs`, e.g. gcp sql/databaseInstance.js serverCaCerts, redis/instance.js
 * authString) comes back wrapped as a secret, as the engine would hand it over.
 */
/** The id the provider gives a resource, where the program reads it. */
export function cloudId(type: string, name: string, inputs: Record<string, unknown>): string {
  switch (type) {
    case "aws:ec2/securityGroup:SecurityGroup":
      return `sg-${digest(name).slice(0, 17)}`;
    case "aws:secretsmanager/secret:Secret":
      return String(computed(type, name, inputs).arn);
    case "gcp:secretmanager/secret:Secret":
      return `projects/${inputs.project}/secrets/${inputs.secretId}`;
    default:
      return `${name}-id`;
  }
}

export function cloudState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  return { ...inputs, ...computed(type, name, inputs) };
}

/**
 * What the clouds would answer a function (an invoke) the program calls, in the shape of the
 * provider schema's result (the SDKs' `<module>/get<Name>.d.ts`); any other is refused, so a
 * new call is simulated on purpose, never answered with nothing.
 */
export function cloudCall(token: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (token) {
    // gcp sql/getCaCerts.d.ts GetCaCertsResult; `certs` as instances.listServerCas lists them:
    // the instance's current CA and, here, an upcoming one (as during a CA rotation), so the
    // plans show the bundle holding both. The current CA is the one `serverCaCerts` gives.
    case "gcp:sql/getCaCerts:getCaCerts": {
      const cert = (name: string) => ({ cert: mockCa(name), commonName: "C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA", createTime: "2026-01-01T00:00:00Z", expirationTime: "2036-01-01T00:00:00Z", sha1Fingerprint: digest(name).slice(0, 40) });
      return { activeVersion: digest(inputs.instance).slice(0, 40), certs: [cert(inputs.instance), cert(`${inputs.instance}-upcoming`)], id: `projects/${inputs.project}/instances/${inputs.instance}`, instance: inputs.instance, project: inputs.project };
    }
    default:
      throw new Error(`the program called ${token}, which the offline plan does not simulate`);
  }
}

const secret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });
const digest = (name: string) => createHash("sha256").update(name).digest("hex");
/** A PEM-shaped stand-in for a CA certificate (the clouds' CAs are only known once created). */
const mockCa = (name: string) => `-----BEGIN CERTIFICATE-----\nMOCK${digest(name).slice(0, 56)}\n-----END CERTIFICATE-----\n`;
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
    // New keepers replace the resource, and the provider generates a new value
    // (terraform-provider-random: keepers RequiresReplace).
    case "random:index/randomPassword:RandomPassword":
      return { result: secret(`mock-${digest(`${name}${JSON.stringify(unwrap(inputs.keepers) ?? null)}`).slice(0, 24)}`) };
    case "random:index/randomId:RandomId":
      return { hex: digest(`${name}${JSON.stringify(unwrap(inputs.keepers) ?? null)}`).slice(0, 8) };
    case "aws:kms/key:Key":
      return { arn: `arn:aws:kms:mock-region:123456789012:key/${digest(name).slice(0, 8)}` };
    case "aws:rds/instance:Instance":
      return {
        address: `${inputs.identifier}.cmock.us-east-1.rds.amazonaws.com`,
        endpoint: `${inputs.identifier}.cmock.us-east-1.rds.amazonaws.com:5432`,
        port: 5432,
        arn: `arn:aws:rds:us-east-1:123456789012:db:${inputs.identifier}`,
        caCertIdentifier: "rds-ca-rsa2048-g1",
      };
    case "aws:ec2/securityGroup:SecurityGroup":
      return { arn: `arn:aws:ec2:us-east-1:123456789012:security-group/sg-${digest(name).slice(0, 17)}` };
    case "aws:rds/subnetGroup:SubnetGroup":
    case "aws:rds/parameterGroup:ParameterGroup":
    case "aws:elasticache/subnetGroup:SubnetGroup":
      return { name: inputs.name ?? name };
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return {
        primaryEndpointAddress: `master.${inputs.replicationGroupId}.abc123.use1.cache.amazonaws.com`,
        readerEndpointAddress: `replica.${inputs.replicationGroupId}.abc123.use1.cache.amazonaws.com`,
        arn: `arn:aws:elasticache:us-east-1:123456789012:replicationgroup:${inputs.replicationGroupId}`,
        // Its member clusters (the SDK's declared output, "the names of all the cache clusters
        // that are part of this replication group"), one per node; the <group>-001 form is
        // illustrative: the alarms take the names from this output, whatever ElastiCache calls them.
        memberClusters: Array.from({ length: Number(inputs.numCacheClusters ?? 1) }, (_, i) => `${inputs.replicationGroupId}-00${i + 1}`),
      };
    case "aws:secretsmanager/secret:Secret":
      return { arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${inputs.name}-${digest(name).slice(0, 6)}` };
    case "gcp:sql/databaseInstance:DatabaseInstance":
      return {
        privateIpAddress: privateIp(name, 20),
        connectionName: `${inputs.project}:${inputs.region}:${inputs.name}`,
        serverCaCerts: secret([
          { cert: mockCa(name), commonName: "C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA", createTime: "2026-01-01T00:00:00Z", expirationTime: "2036-01-01T00:00:00Z", sha1Fingerprint: digest(name).slice(0, 40) },
        ]),
      };
    case "gcp:redis/instance:Instance":
      return {
        host: privateIp(name, 30),
        // Memorystore serves TLS on 6378 (https://cloud.google.com/memorystore/docs/redis/in-transit-encryption).
        port: inputs.transitEncryptionMode === "SERVER_AUTHENTICATION" ? 6378 : 6379,
        authString: secret(`mock-${digest(name).slice(0, 24)}`),
        serverCaCerts: [{ cert: mockCa(name), createTime: "2026-01-01T00:00:00Z", expireTime: "2036-01-01T00:00:00Z", serialNumber: "0", sha1Fingerprint: digest(name).slice(0, 40) }],
      };
    case "gcp:secretmanager/secret:Secret":
      return { name: `projects/${inputs.project}/secrets/${inputs.secretId}` };
    case "command:local:Command":
      return { stdout: commandOutput(String(inputs.create ?? ""), unwrap(inputs.environment) as Record<string, unknown> | undefined), stderr: "" };
    default:
      return {};
  }
}

/**
 * What the ops scripts print as their last line where the program reads it (Fly), in the
 * shape ops/fly.ts prints from flyctl's answers (test/commands/fly.test.ts checks the two agree).
 */
function commandOutput(create: string, environment: Record<string, unknown> = {}): string {
  const env = (key: string) => String(unwrap(environment[key]) ?? "");
  if (create.endsWith("ops/fly.cjs postgres-apply")) {
    const clusterId = mockFlyClusterId(env("GAIA_FLY_CLUSTER"));
    return JSON.stringify({ clusterId, host: `direct.${clusterId}.flympg.net`, port: 5432, created: true, keepers: JSON.parse(env("GAIA_FLY_USER_KEEPERS") || "{}") });
  }
  if (create.endsWith("ops/fly.cjs redis-apply")) {
    return JSON.stringify({ host: `fly-${env("GAIA_FLY_REDIS")}.upstash.io`, port: 6379, created: true });
  }
  return "";
}

/** A Managed Postgres cluster id as Fly makes them: lowercase letters and digits. */
export function mockFlyClusterId(name: string): string {
  return digest(name).replace(/[^a-z0-9]/g, "").slice(0, 14);
}
