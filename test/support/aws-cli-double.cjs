#!/usr/bin/env node
// A double of the AWS CLI v2 for the cloud restore drill (scripts/drill-restore-rds.ts), written from
// its sources: aws/aws-cli at 2.36.7 and the RDS model it bundles (awscli/botocore/data/rds/2014-10-31/
// service-2.json and waiters-2.json, the same as boto/botocore's botocore/data/rds/2014-10-31/).
//   - Flags: each input member of the operation, named as the CLI names it (botocore xform_name with
//     "-": DBSubnetGroupName → --db-subnet-group-name), a boolean also as --no-<name>
//     (awscli/arguments.py BooleanArgument), a list taking every value up to the next flag (nargs "+").
//     A flag the operation lacks fails as the CLI does ("Unknown options: --x", exit 252: awscli/
//     clidriver.py, errorhandler.py UnknownArgumentErrorHandler); one it has but the double does not
//     model fails with the double's own message, exit 2, never an answer AWS would not give.
//   - Output: `--output json` prints the response, ResponseMetadata dropped, indented 4 (awscli/
//     formatter.py JSONFormatter), timestamps as Python's isoformat (timestampformat.py, iso8601).
//   - Errors: "aws: [ERROR]: An error occurred (<Code>) when calling the <Operation> operation: <Message>"
//     on stderr, exit 254 (errorformat.py, errorhandler.py ClientErrorHandler, constants.py); a waiter's,
//     "Waiter <Name> failed: <reason>", exit 255 (GeneralExceptionHandler). Codes are the model's (an
//     error shape's "code"); messages are RDS's own, in no source: "DBInstance <id> not found." is the one
//     RDS is known to send, the others are the double's words.
// RDS itself is a JSON file (FAKE_AWS_STATE): { instances: { <id>: DBInstance + "_region" }, calls: [] }.
// Every call is recorded with its argv. An instance the drill restores is "creating" until waited for,
// then what its "_outcome" says (state.restoreOutcome when made, default "available"): "available" with
// state.restoredEndpoint as its Endpoint (where the test's PostgreSQL listens), a waiter failure state
// ("incompatible-restore", "failed"), or "never" (each wait runs out of attempts).
const fs = require("node:fs");

const stateFile = process.env.FAKE_AWS_STATE;

/** botocore's xform_name(name, "-") (awscli/botocore/__init__.py). */
function xform(name) {
  const special = /[A-Z]{2,}s$/.exec(name);
  const base = special ? `${name.slice(0, -special[0].length)}-${special[0].toLowerCase()}` : name;
  return base.replace(/(.)([A-Z][a-z]+)/g, "$1-$2").replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

// Input members by type (service-2.json); "modelled" are those the double acts on.
const B = "boolean", L = "list", S = "string", I = "integer", T = "timestamp";
const DESCRIBE = { DBInstanceIdentifier: S, Filters: L, MaxRecords: I, Marker: S };
const OPERATIONS = {
  "describe-db-instances": { name: "DescribeDBInstances", members: DESCRIBE, modelled: ["DBInstanceIdentifier"], run: describeInstances },
  "restore-db-instance-to-point-in-time": {
    name: "RestoreDBInstanceToPointInTime",
    required: ["TargetDBInstanceIdentifier"],
    members: {
      SourceDBInstanceIdentifier: S, TargetDBInstanceIdentifier: S, RestoreTime: T, UseLatestRestorableTime: B, DBInstanceClass: S, Port: I,
      AvailabilityZone: S, DBSubnetGroupName: S, MultiAZ: B, PubliclyAccessible: B, AutoMinorVersionUpgrade: B, LicenseModel: S, DBName: S,
      Engine: S, Iops: I, StorageThroughput: I, OptionGroupName: S, CopyTagsToSnapshot: B, Tags: L, StorageType: S, TdeCredentialArn: S,
      TdeCredentialPassword: S, VpcSecurityGroupIds: L, Domain: S, DomainIAMRoleName: S, DomainFqdn: S, DomainOu: S, DomainAuthSecretArn: S,
      DomainDnsIps: L, EnableIAMDatabaseAuthentication: B, EnableCloudwatchLogsExports: L, ProcessorFeatures: L, UseDefaultProcessorFeatures: B,
      DBParameterGroupName: S, DeletionProtection: B, SourceDbiResourceId: S, MaxAllocatedStorage: I, EnableCustomerOwnedIp: B, NetworkType: S,
      SourceDBInstanceAutomatedBackupsArn: S, BackupTarget: S, CustomIamInstanceProfile: S, AllocatedStorage: I, BackupRetentionPeriod: I,
      PreferredBackupWindow: S, DedicatedLogVolume: B, CACertificateIdentifier: S, EngineLifecycleSupport: S, AdditionalStorageVolumes: L,
      TagSpecifications: L, ManageMasterUserPassword: B, MasterUserSecretKmsKeyId: S,
    },
    modelled: ["SourceDBInstanceIdentifier", "TargetDBInstanceIdentifier", "RestoreTime", "UseLatestRestorableTime", "DBInstanceClass", "DBSubnetGroupName", "MultiAZ", "PubliclyAccessible", "Tags", "VpcSecurityGroupIds", "DBParameterGroupName", "DeletionProtection"],
    run: restore,
  },
  "delete-db-instance": {
    name: "DeleteDBInstance",
    required: ["DBInstanceIdentifier"],
    members: { DBInstanceIdentifier: S, SkipFinalSnapshot: B, FinalDBSnapshotIdentifier: S, DeleteAutomatedBackups: B },
    modelled: ["DBInstanceIdentifier", "SkipFinalSnapshot", "FinalDBSnapshotIdentifier", "DeleteAutomatedBackups"],
    run: deleteInstance,
  },
  // `aws rds wait db-instance-available` takes DescribeDBInstances' members (awscli/customizations/waiters.py).
  "wait db-instance-available": { name: "DescribeDBInstances", members: DESCRIBE, modelled: ["DBInstanceIdentifier"], run: waitAvailable },
};

class ClientError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
class WaiterError extends Error {}
class Usage extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** Python's datetime.isoformat() of a UTC timestamp: microseconds only when there are some, "+00:00". */
function isoformat(value) {
  const d = new Date(value);
  const ms = d.getUTCMilliseconds();
  return `${d.toISOString().slice(0, 19)}${ms ? `.${String(ms * 1000).padStart(6, "0")}` : ""}+00:00`;
}
/** A DBInstance as DescribeDBInstances returns it: the double's own fields (leading "_") left out. */
function shown(instance) {
  const out = Object.fromEntries(Object.entries(instance).filter(([key]) => !key.startsWith("_")));
  for (const key of ["LatestRestorableTime", "InstanceCreateTime"]) if (out[key]) out[key] = isoformat(out[key]);
  return out;
}
function find(state, id, region) {
  const found = state.instances[id];
  if (!found || found._region !== region) throw new ClientError("DBInstanceNotFound", `DBInstance ${id} not found.`);
  return found;
}

function describeInstances(state, flags, region) {
  const list = flags.DBInstanceIdentifier ? [find(state, flags.DBInstanceIdentifier, region)] : Object.values(state.instances).filter((i) => i._region === region);
  return { DBInstances: list.map(shown) };
}

/** RestoreDBInstanceToPointInTime: a new instance with the source's engine and storage, and what the request says or RDS's defaults (API reference). */
function restore(state, flags, region) {
  if (!flags.UseLatestRestorableTime === !flags.RestoreTime) throw new ClientError("InvalidParameterCombination", "Specify either RestoreTime or UseLatestRestorableTime.");
  const id = flags.TargetDBInstanceIdentifier;
  // "1 to 63 letters, numbers, or hyphens. First character must be a letter. Can't end with a hyphen or contain two consecutive hyphens."
  if (id.length > 63 || !/^[A-Za-z](?:-?[A-Za-z0-9])*$/.test(id)) throw new ClientError("InvalidParameterValue", `The parameter TargetDBInstanceIdentifier is not a valid identifier.`);
  const source = find(state, flags.SourceDBInstanceIdentifier, region);
  if (!source.BackupRetentionPeriod) throw new ClientError("PointInTimeRestoreNotEnabled", `Point-in-time restore is not enabled for ${source.DBInstanceIdentifier}.`);
  if (state.instances[id]) throw new ClientError("DBInstanceAlreadyExists", "DB instance already exists");
  const family = `postgres${String(source.EngineVersion ?? "16").split(".")[0]}`;
  const created = {
    DBInstanceIdentifier: id,
    DBInstanceClass: flags.DBInstanceClass ?? source.DBInstanceClass,
    Engine: source.Engine,
    EngineVersion: source.EngineVersion,
    DBInstanceStatus: "creating",
    MasterUsername: source.MasterUsername,
    AllocatedStorage: source.AllocatedStorage,
    BackupRetentionPeriod: source.BackupRetentionPeriod,
    VpcSecurityGroups: (flags.VpcSecurityGroupIds ?? [state.defaultSecurityGroup ?? "sg-0default00000000"]).map((VpcSecurityGroupId) => ({ VpcSecurityGroupId, Status: "active" })),
    DBParameterGroups: [{ DBParameterGroupName: flags.DBParameterGroupName ?? `default.${family}`, ParameterApplyStatus: "in-sync" }],
    DBSubnetGroup: { DBSubnetGroupName: flags.DBSubnetGroupName ?? "default", SubnetGroupStatus: "Complete" },
    MultiAZ: flags.MultiAZ ?? false,
    PubliclyAccessible: flags.PubliclyAccessible ?? false,
    StorageType: source.StorageType,
    StorageEncrypted: source.StorageEncrypted,
    DeletionProtection: flags.DeletionProtection ?? false,
    TagList: flags.Tags ?? [],
    _region: region,
    _outcome: state.restoreOutcome ?? "available",
    _restoredFrom: source.DBInstanceIdentifier,
  };
  state.instances[id] = created;
  return { DBInstance: shown(created) };
}

/** The DBInstanceAvailable waiter (waiters-2.json: 60 attempts, 30 s apart; here no sleeping), as botocore's Waiter.wait words its failures. */
function waitAvailable(state, flags, region) {
  let instance;
  try {
    instance = find(state, flags.DBInstanceIdentifier, region);
  } catch (error) {
    // No acceptor matches an error: "An error occurred (<Code>): <Message>" (waiter.py).
    throw new WaiterError(`Waiter DBInstanceAvailable failed: An error occurred (${error.code}): ${error.message}`);
  }
  if (instance.DBInstanceStatus === "creating") {
    if (instance._outcome === "never") throw new WaiterError("Waiter DBInstanceAvailable failed: Max attempts exceeded");
    instance.DBInstanceStatus = instance._outcome;
    if (instance._outcome === "available") {
      instance.Endpoint = { ...(state.restoredEndpoint ?? { Address: `${instance.DBInstanceIdentifier}.c0double0000.${region}.rds.amazonaws.com`, Port: 5432 }), HostedZoneId: "Z2R2ITUGPM61AM" };
    }
  }
  const failure = ["deleted", "deleting", "failed", "incompatible-restore", "incompatible-parameters"];
  if (failure.includes(instance.DBInstanceStatus)) {
    throw new WaiterError(`Waiter DBInstanceAvailable failed: Waiter encountered a terminal failure state: For expression "DBInstances[].DBInstanceStatus" we matched expected path: "${instance.DBInstanceStatus}" at least once`);
  }
  return undefined;
}

/** DeleteDBInstance: "deleting" from then on (RDS removes it some minutes later; the double keeps it to be looked at). */
function deleteInstance(state, flags, region) {
  const instance = find(state, flags.DBInstanceIdentifier, region);
  if (instance.DeletionProtection) throw new ClientError("InvalidParameterCombination", "Cannot delete protected DB Instance, please disable deletion protection and try again.");
  // "If you don't enable this parameter, you must specify the FinalDBSnapshotIdentifier parameter" (SkipFinalSnapshot).
  if (!flags.SkipFinalSnapshot && !flags.FinalDBSnapshotIdentifier) throw new ClientError("InvalidParameterCombination", "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.");
  if (instance.DBInstanceStatus === "deleting") throw new ClientError("InvalidDBInstanceState", `Instance ${instance.DBInstanceIdentifier} is already being deleted.`);
  instance.DBInstanceStatus = "deleting";
  instance._deletedWith = { SkipFinalSnapshot: !!flags.SkipFinalSnapshot, DeleteAutomatedBackups: flags.DeleteAutomatedBackups };
  return { DBInstance: shown(instance) };
}

/** The argv after `rds`: the command, its flags by member name, and the global options. */
function parse(argv) {
  const globals = {};
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--region" || argv[i] === "--output") globals[argv[i].slice(2)] = argv[++i];
    else rest.push(argv[i]);
  }
  const key = rest[0] === "wait" ? `wait ${rest[1]}` : rest[0];
  const operation = OPERATIONS[key];
  if (!operation) throw new Usage(`the double models no "aws rds ${key}"`, 2);
  const byFlag = {};
  for (const [member, type] of Object.entries(operation.members)) {
    byFlag[`--${xform(member)}`] = { member, type, value: true };
    if (type === B) byFlag[`--no-${xform(member)}`] = { member, type, value: false };
  }
  const flags = {};
  const unknown = [];
  const args = rest.slice(key.split(" ").length);
  for (let i = 0; i < args.length; i++) {
    const flag = byFlag[args[i]];
    if (!flag) {
      unknown.push(args[i]);
      continue;
    }
    if (!operation.modelled.includes(flag.member)) throw new Usage(`the double does not model ${args[i]}`, 2);
    if (flag.type === B) flags[flag.member] = flag.value;
    else if (flag.type === L) {
      const values = [];
      while (i + 1 < args.length && !args[i + 1].startsWith("--")) values.push(args[++i]);
      // Tags: one "Key=…,Value=…" shorthand per tag (awscli/shorthand.py).
      flags[flag.member] = flag.member === "Tags" ? values.map((v) => Object.fromEntries(v.split(",").map((kv) => kv.split(/=(.*)/s).slice(0, 2)))) : values;
    } else flags[flag.member] = args[++i];
  }
  if (unknown.length) throw new Usage(`\nusage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]\n\naws: [ERROR]: Unknown options: ${unknown.join(", ")}`, 252);
  const missing = (operation.required ?? []).filter((m) => flags[m] === undefined);
  if (missing.length) throw new Usage(`\naws: [ERROR]: An error occurred (ParamValidation): the following arguments are required: ${missing.map((m) => `--${xform(m)}`).join(", ")}`, 252);
  return { operation, flags, globals };
}

function main() {
  const argv = process.argv.slice(2);
  const state = JSON.parse(fs.readFileSync(stateFile, "utf8"));
  state.calls.push({ argv });
  const save = () => fs.writeFileSync(stateFile, JSON.stringify(state, null, 1));
  let status = 0;
  try {
    if (argv[0] !== "rds") throw new Usage(`the double models no "aws ${argv[0]}"`, 2);
    const { operation, flags, globals } = parse(argv.slice(1));
    const region = globals.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    // NoRegionErrorHandler: exit 253.
    if (!region) throw new Usage('\naws: [ERROR]: An error occurred (NoRegion): You must specify a region. You can also configure your region by running "aws configure".', 253);
    try {
      const answer = operation.run(state, flags, region);
      if (answer !== undefined) process.stdout.write(`${JSON.stringify(answer, null, 4)}\n`);
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      throw new Usage(`\naws: [ERROR]: An error occurred (${error.code}) when calling the ${operation.name} operation: ${error.message}`, 254);
    }
  } catch (error) {
    if (error instanceof WaiterError) error = new Usage(`\naws: [ERROR]: ${error.message}`, 255);
    if (!(error instanceof Usage)) throw error;
    process.stderr.write(`${error.message}\n`);
    status = error.status;
  }
  state.calls.at(-1).status = status;
  save();
  process.exit(status);
}

/** A source instance as DescribeDBInstances shows the stack's primary (components/platforms/aws/index.ts sets these). */
function sourceInstance({ identifier, region, latestRestorableTime, subnetGroup, securityGroups, parameterGroup, instanceClass = "db.t4g.micro", backupRetentionPeriod = 1 }) {
  return {
    DBInstanceIdentifier: identifier,
    DBInstanceClass: instanceClass,
    Engine: "postgres",
    EngineVersion: "16.4",
    DBInstanceStatus: "available",
    MasterUsername: "gaia_admin",
    Endpoint: { Address: `${identifier}.c0double0000.${region}.rds.amazonaws.com`, Port: 5432, HostedZoneId: "Z2R2ITUGPM61AM" },
    AllocatedStorage: 20,
    PreferredBackupWindow: "00:00-01:00",
    BackupRetentionPeriod: backupRetentionPeriod,
    VpcSecurityGroups: securityGroups.map((VpcSecurityGroupId) => ({ VpcSecurityGroupId, Status: "active" })),
    DBParameterGroups: [{ DBParameterGroupName: parameterGroup, ParameterApplyStatus: "in-sync" }],
    DBSubnetGroup: { DBSubnetGroupName: subnetGroup, SubnetGroupStatus: "Complete" },
    MultiAZ: false,
    LatestRestorableTime: latestRestorableTime,
    PubliclyAccessible: false,
    StorageType: "gp3",
    StorageEncrypted: true,
    DeletionProtection: false,
    TagList: [],
    _region: region,
  };
}

if (require.main === module) main();
else module.exports = { sourceInstance, xform, isoformat };
