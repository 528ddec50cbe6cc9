/**
 * Inputs whose change replaces a stateful resource: the old one is deleted (its data with it,
 * or a credential rotated) and a new one created. From the provider sources, as built into the
 * pinned SDKs. A changed logical name also replaces; that the diff sees without this table.
 */
export interface ReplacementRule {
  /** Top-level inputs, or dotted paths into an object input. */
  inputs: readonly string[];
  source: string;
  /** Replaces only in one direction (a decrease, a downgrade), said in the diff instead. */
  note?: Readonly<Record<string, string>>;
}

export const REPLACEMENT_INPUTS: Readonly<Record<string, ReplacementRule>> = {
  "aws:rds/instance:Instance": {
    inputs: ["engine", "storageEncrypted", "kmsKeyId", "username", "availabilityZone", "characterSetName", "timezone", "snapshotIdentifier", "restoreToPointInTime", "dbName"],
    source: "hashicorp/terraform-provider-aws internal/service/rds/instance.go (ForceNew); identifier renames in place since PR 32687",
  },
  "aws:elasticache/replicationGroup:ReplicationGroup": {
    inputs: ["replicationGroupId", "atRestEncryptionEnabled", "kmsKeyId", "port", "subnetGroupName", "engine"],
    source: "hashicorp/terraform-provider-aws internal/service/elasticache/replication_group.go and engine_version.go",
    note: { engineVersion: "replaces only on a downgrade", transitEncryptionEnabled: "replaces below engine 7.0.5" },
  },
  "aws:kms/key:Key": {
    inputs: ["customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId"],
    source: "hashicorp/terraform-provider-aws internal/service/kms/key.go",
  },
  "aws:secretsmanager/secret:Secret": {
    inputs: ["name", "namePrefix"],
    source: "hashicorp/terraform-provider-aws internal/service/secretsmanager/secret.go",
  },
  "gcp:sql/databaseInstance:DatabaseInstance": {
    inputs: ["name", "project", "region", "encryptionKeyName", "masterInstanceName", "replicaConfiguration"],
    source: "hashicorp/terraform-provider-google google/services/sql/resource_sql_database_instance.go (ForceNew; disk shrink ignored with autoresize)",
    note: { "settings.ipConfiguration.privateNetwork": "replaces when removed", "settings.diskSize": "replaces on a shrink when autoresize is off" },
  },
  "gcp:redis/instance:Instance": {
    inputs: ["name", "project", "region", "tier", "authorizedNetwork", "connectMode", "transitEncryptionMode", "locationId", "customerManagedKey", "alternativeLocationId"],
    source: "hashicorp/terraform-provider-google google/services/redis/resource_redis_instance.go",
    note: { redisVersion: "replaces only on a downgrade" },
  },
  "postgresql:index/database:Database": {
    inputs: ["template", "encoding", "lcCollate", "lcCtype"],
    source: "cyrilgdn/terraform-provider-postgresql postgresql/resource_postgresql_database.go (name renames in place)",
  },
  "random:index/randomPassword:RandomPassword": {
    inputs: ["keepers", "length", "special", "upper", "lower", "numeric", "minNumeric", "minUpper", "minLower", "minSpecial", "overrideSpecial"],
    source: "hashicorp/terraform-provider-random internal/provider/resource_password.go: a replacement is a new password",
  },
  "random:index/randomId:RandomId": {
    inputs: ["keepers", "byteLength", "prefix"],
    source: "hashicorp/terraform-provider-random internal/provider/resource_id.go",
  },
  "command:local:Command": {
    inputs: ["triggers"],
    source: "pulumi/pulumi-command provider/pkg/provider/common/inputs.go (only triggers replace; other changes run update)",
  },
};
