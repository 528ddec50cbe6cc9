/**
 * The cloud restore drill: `npm run drill:restore:rds -- <stack>`, for a scheduled workflow. The
 * local drill (scripts/drill-restore.ts) proves the restore path on an embedded server; this one
 * proves the environment's own RDS backups: it restores them into a throw-away instance, checks
 * what came back, deletes it, and reports the RPO and the RTO.
 *
 *   1. The decision moment is now. The stack's primary (`gaia-<env>-postgres`, or the instance a
 *      `gaia:restore` made the serving one: components/platforms/aws/index.ts) is described: its
 *      LatestRestorableTime is what a restore decided now would get back, so RPO = decision − it.
 *   2. restore-db-instance-to-point-in-time to the latest restorable time into
 *      `gaia-<env>-drill-<yyyymmddhhmm>`, with the source's subnet group, security groups,
 *      parameter group and class: without them RDS uses its defaults ("the default security
 *      group, the default subnet group, and the default DB parameter group", API reference), and
 *      the runner could not reach the copy, nor would it require TLS as the source does.
 *   3. `aws rds wait db-instance-available`, then its endpoint.
 *   4. The checks, as the analytics role (its URL from GAIA_DRILL_DATABASE_URL, host:port moved
 *      to the copy): the privilege check (ops/check-privileges.ts) and the newest security event.
 *      RTO = from the decision until they passed. The instance is private (not publicly
 *      accessible, in the source's subnets and security groups): the runner must be inside the
 *      VPC, a self-hosted runner the security group lets in (gaia:aws.allowedSecurityGroupIds
 *      or allowedCidrs: components/platforms/aws/index.ts allowIngress).
 *   5. Always, the copy is deleted (no final snapshot, no kept backups), and nothing else is.
 * Prints `restore drill (rds <env>): RPO <x> s, RTO <y> s, privileges ok`, or names the step that
 * failed and exits 1. Never prints the URL or its password.
 *
 *   GAIA_DRILL_DATABASE_URL  the analytics role's URL (`analytics` of `pulumi stack output connectionUrls --show-secrets --json`)
 *   GAIA_DRILL_DATABASE_CA   optional: the CA bundle (`pulumi stack output postgresCa`), for sslmode verify-full
 *   GAIA_AWS_CLI             the AWS CLI (default `aws` on PATH); credentials as it finds them
 *   GITHUB_RUN_ID            tags the copy (gaia:restore-drill), with GITHUB_RUN_ATTEMPT
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { decodeStackConfig } from "../components/core/config";
import { resolveRestore, restoredName, servingRestore } from "../components/core/restore";
import { exitAfterOutput } from "../ops/lib/env";
import { connect, databaseUrlWithCa, describeTarget } from "../ops/lib/postgres";
import { redact, rememberSecret } from "../ops/lib/redact";
import { environmentNames } from "../policy/naming";
import { AwsCliError, awsCli, type AwsCli } from "./lib/awsCli";
import { PROJECT_ROOT, readStackFile, stackNames } from "./lib/stackFile";

/** The steps, as a failure names them. */
export type DrillStep = "inputs" | "describe the source" | "restore" | "wait" | "describe the copy" | "privilege check" | "freshness check" | "delete";

export class DrillError extends Error {
  constructor(readonly step: DrillStep, message: string) {
    super(message);
  }
}

/**
 * The members read from DescribeDBInstances' DBInstance (boto/botocore
 * botocore/data/rds/2014-10-31/service-2.json: DBInstanceMessage.DBInstances, DBInstance,
 * Endpoint, DBSubnetGroup, VpcSecurityGroupMembership, DBParameterGroupStatus, Tag); timestamps
 * print as ISO 8601 (aws-cli v2 awscli/customizations/timestampformat.py, iso8601 by default).
 */
interface DBInstance {
  DBInstanceIdentifier: string;
  DBInstanceClass?: string;
  DBInstanceStatus?: string;
  Endpoint?: { Address?: string; Port?: number };
  LatestRestorableTime?: string;
  DBSubnetGroup?: { DBSubnetGroupName?: string };
  VpcSecurityGroups?: { VpcSecurityGroupId?: string }[];
  DBParameterGroups?: { DBParameterGroupName?: string }[];
  TagList?: { Key?: string; Value?: string }[];
}

/** The tag that marks a drill's copy (RestoreDBInstanceToPointInTimeMessage.Tags; `Key=…,Value=…` is the CLI's shorthand, awscli/shorthand.py). */
const DRILL_TAG = "gaia:restore-drill";
/** A wait gives up after 30 min (waiters-2.json: 60 × 30 s); a large restore may take longer, so up to this many. */
const WAIT_ROUNDS = 4;

export interface RdsDrillOptions {
  stack: string;
  /** Where the stack files are (default: the project). */
  root?: string;
  /** The drill's environment, and the CLI's and the privilege check's (default: this process's). */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface RdsDrillResult {
  environment: string;
  source: string;
  target: string;
  decision: Date;
  latestRestorableTime: Date;
  rpoSeconds: number;
  rtoSeconds: number;
  /** The newest audit.security_events row in the copy; null when there is none. */
  newestEvent: Date | null;
}

/** What a stack file says the drill needs: its environment, region and the serving primary. */
function stackTarget(stack: string, root: string) {
  if (!stackNames(root).includes(stack)) throw new DrillError("inputs", `no stack file Pulumi.${stack}.yaml: give one of ${stackNames(root).join(", ")}.`);
  const values = decodeStackConfig(readStackFile(stack, root).config);
  if (values.platform !== "aws") throw new DrillError("inputs", `Pulumi.${stack}.yaml is on ${String(values.platform ?? "no platform")}, not aws: this drill restores RDS backups (npm run drill:restore is the local one).`);
  if (typeof values.region !== "string") throw new DrillError("inputs", `Pulumi.${stack}.yaml sets no gaia:region: the drill must know where the instance is.`);
  const environment = typeof values.environment === "string" ? values.environment : stack;
  const names = environmentNames(environment);
  // After a `gaia:restore`, the restored instance serves (components/platforms/aws/index.ts, `serving`).
  const restore = values.restore === undefined ? undefined : resolveRestore(values.restore as { pointInTime?: string }, { pitr: true, pitrDays: 35, platformWindow: "platform", platform: "aws" }, new Date());
  if (restore && !restore.restore) throw new DrillError("inputs", restore.problems.join(" "));
  return { environment, region: values.region, prefix: names.resourcePrefix, source: servingRestore(restore?.restore) ? restoredName(`${names.resourcePrefix}-postgres`, restore?.restore) : `${names.resourcePrefix}-postgres` };
}

/** The copy's name: the environment's prefix, `-drill-` and the decision's UTC minute. */
export function drillIdentifier(prefix: string, decision: Date): string {
  const minute = decision.toISOString().slice(0, 16).replace(/[-T:]/g, "");
  const name = `${prefix}-drill-${minute}`;
  // TargetDBInstanceIdentifier: 1 to 63 letters, digits or hyphens, a letter first, no "--", no trailing "-" (service-2.json).
  if (name.length > 63 || !/^[a-z](?:-?[a-z0-9])*$/.test(name)) throw new DrillError("inputs", `the copy's name ${name} is not an RDS identifier (at most 63 letters, digits and single hyphens).`);
  return name;
}

/** The analytics role's URL with its host and port moved to the copy; database, role, password and sslmode kept. */
export function atEndpoint(url: string, address: string, port: number): string {
  const moved = new URL(url);
  moved.hostname = address;
  moved.port = String(port);
  return moved.toString();
}

function describe(aws: AwsCli, identifier: string): DBInstance {
  const answer = aws.rds<{ DBInstances?: DBInstance[] }>("describe-db-instances", "--db-instance-identifier", identifier);
  const found = answer?.DBInstances?.[0];
  if (!found) throw new AwsCliError(`DescribeDBInstances returned no instance ${identifier}`, undefined, 0);
  return found;
}

/** Runs one step; its failure becomes a DrillError naming it, its text redacted. */
async function step<T>(name: DrillStep, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DrillError) throw error;
    throw new DrillError(name, redact(error instanceof Error ? error.message : String(error)));
  }
}

/** The project's privilege check, as a command resource runs it (the project's Node, from its directory). */
function privilegeCheck(environment: string, url: string, ca: string | undefined, env: NodeJS.ProcessEnv): void {
  const { GAIA_DATABASE_CA: _inherited, ...rest } = env;
  const run = spawnSync(path.join(PROJECT_ROOT, "node_modules/.bin/node"), ["dist/ops/check-privileges.cjs"], {
    cwd: PROJECT_ROOT,
    env: { ...rest, GAIA_ENVIRONMENT: environment, GAIA_DATABASE_URL: url, ...(ca ? { GAIA_DATABASE_CA: ca } : {}) },
    encoding: "utf8",
    timeout: 120_000,
  });
  // Its verdict and differences go to stderr (ops/lib/env.ts runMain), the matrix to stdout.
  if (run.status !== 0) throw new Error(`exit ${run.status ?? run.signal}: ${(run.stderr || run.stdout || "").trim().split("\n").slice(0, 6).join(" / ")}`);
}

/** The newest security event in the copy, read as the analytics role: how recent the restored data is. */
async function newestEvent(url: string, ca: string | undefined): Promise<Date | null> {
  const client = await connect(databaseUrlWithCa(url, ca));
  try {
    const { rows } = await client.query<{ newest: Date | null }>("select max(created_at) as newest from audit.security_events");
    return rows[0]?.newest ?? null;
  } finally {
    await client.end();
  }
}

/**
 * Deletes the copy, and only a copy: an identifier without `-drill-` is refused whatever called
 * this. No final snapshot and no kept automated backups (DeleteDBInstanceMessage: SkipFinalSnapshot,
 * DeleteAutomatedBackups): it was made to be thrown away.
 */
export function deleteCopy(aws: AwsCli, identifier: string): void {
  if (!identifier.includes("-drill-")) throw new DrillError("delete", `refusing to delete ${identifier}: only a drill's copy (a name with -drill-) is ever deleted.`);
  aws.rds("delete-db-instance", "--db-instance-identifier", identifier, "--skip-final-snapshot", "--delete-automated-backups");
}

/** Whether the copy was asked for, and whether RDS said it made it: what the cleanup goes by. */
interface Copy {
  state: "none" | "asked" | "made";
}

/** The drill's restore and checks, from the decision on. */
async function restoreAndCheck(aws: AwsCli, target: { environment: string; source: string; target: string; runId: string }, inputs: { url: string; ca?: string; env: NodeJS.ProcessEnv }, decision: Date, started: number, copy: Copy, log: (line: string) => void): Promise<RdsDrillResult> {
  const source = await step("describe the source", () => {
    try {
      return describe(aws, target.source);
    } catch (error) {
      if (error instanceof AwsCliError && error.code === "DBInstanceNotFound") throw new DrillError("describe the source", `there is no RDS instance ${target.source} to restore from (the stack's primary): is the stack deployed, in this account and region?`);
      throw error;
    }
  });
  if (!source.LatestRestorableTime) throw new DrillError("describe the source", `${target.source} has no latest restorable time: it keeps no automated backups (gaia:backups), so there is nothing to restore.`);
  const latest = new Date(source.LatestRestorableTime);
  log(`decision at ${decision.toISOString()}: ${target.source} restorable to ${latest.toISOString()}`);

  // RestoreDBInstanceToPointInTimeMessage members, as the CLI names them (xform_name: UseLatestRestorableTime → --use-latest-restorable-time; a boolean's --no- form, awscli/arguments.py BooleanArgument).
  const groups = (source.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId).filter((id): id is string => !!id);
  const subnetGroup = source.DBSubnetGroup?.DBSubnetGroupName;
  const parameterGroup = source.DBParameterGroups?.[0]?.DBParameterGroupName;
  if (!subnetGroup || groups.length === 0 || !parameterGroup || !source.DBInstanceClass) throw new DrillError("describe the source", `${target.source} did not say its subnet group, security groups, parameter group and class: the copy would get RDS's defaults.`);
  await step("restore", () => {
    copy.state = "asked";
    aws.rds(
      "restore-db-instance-to-point-in-time",
      "--source-db-instance-identifier", target.source,
      "--target-db-instance-identifier", target.target,
      "--use-latest-restorable-time",
      "--db-instance-class", source.DBInstanceClass!,
      "--db-subnet-group-name", subnetGroup,
      "--vpc-security-group-ids", ...groups,
      "--db-parameter-group-name", parameterGroup,
      "--no-multi-az", "--no-publicly-accessible", "--no-deletion-protection",
      "--tags", `Key=${DRILL_TAG},Value=${target.runId}`,
    );
    copy.state = "made";
  });
  log(`restoring ${target.source} into ${target.target}`);

  await step("wait", () => {
    // waiters-2.json DBInstanceAvailable: success when available; deleted, deleting, failed, incompatible-restore and incompatible-parameters fail at once.
    for (let round = 1; ; round++) {
      try {
        return void aws.rds("wait", "db-instance-available", "--db-instance-identifier", target.target);
      } catch (error) {
        if (!(error instanceof AwsCliError && /Max attempts exceeded/.test(error.message))) throw error;
        if (round === WAIT_ROUNDS) throw new Error(`${error.message} (${WAIT_ROUNDS} waits of up to 30 min each: still not available)`);
      }
    }
  });
  const restored = await step("describe the copy", () => describe(aws, target.target));
  const address = restored.Endpoint?.Address;
  const port = restored.Endpoint?.Port;
  if (!address || !port) throw new DrillError("describe the copy", `${target.target} is available but has no endpoint.`);
  log(`${target.target} available at ${address}:${port} after ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const url = atEndpoint(inputs.url, address, port);
  await step("privilege check", () => privilegeCheck(target.environment, url, inputs.ca, inputs.env));
  log(`privileges match the access policy, checked as ${describeTarget(url)}`);
  const newest = await step("freshness check", () => newestEvent(url, inputs.ca));
  const rtoSeconds = (performance.now() - started) / 1000;
  log(newest ? `newest security event in the copy: ${newest.toISOString()} (${((decision.getTime() - newest.getTime()) / 1000).toFixed(1)} s before the decision)` : "audit.security_events in the copy: no rows to date");
  return {
    environment: target.environment,
    source: target.source,
    target: target.target,
    decision,
    latestRestorableTime: latest,
    // What a loss at the decision would lose: the writes after the latest restorable time (USER_PIT.html: "typically within 5 minutes of the current time").
    rpoSeconds: Math.max(0, (decision.getTime() - latest.getTime()) / 1000),
    rtoSeconds,
    newestEvent: newest,
  };
}

/** The inputs the checks need, read before anything is created: a drill that cannot check must not restore. */
function checkInputs(env: NodeJS.ProcessEnv): { url: string; ca?: string } {
  const given = env.GAIA_DRILL_DATABASE_URL;
  if (!given) throw new DrillError("inputs", "GAIA_DRILL_DATABASE_URL is not set: it must hold the analytics role's URL (`analytics` of `pulumi stack output connectionUrls --show-secrets --json`).");
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new DrillError("inputs", "GAIA_DRILL_DATABASE_URL is not a URL (its value is not shown).");
  }
  if (!/^postgres(ql)?:$/.test(url.protocol) || !url.password) throw new DrillError("inputs", "GAIA_DRILL_DATABASE_URL must be a postgresql:// URL with the role's password (its value is not shown).");
  rememberSecret(given);
  if (!existsSync(path.join(PROJECT_ROOT, "dist/ops/check-privileges.cjs"))) throw new DrillError("inputs", "dist/ops is not built: run `npm run build:ops` (npm ci does it).");
  return { url: given, ca: env.GAIA_DRILL_DATABASE_CA || undefined };
}

/**
 * The drill. Resolves to its result, or rejects with a DrillError naming the failed step; either
 * way the copy, once made, has been deleted (a failed delete is a DrillError of its own, naming
 * the instance left behind).
 */
export async function rdsRestoreDrill(options: RdsDrillOptions): Promise<RdsDrillResult> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const stack = await step("inputs", () => stackTarget(options.stack, options.root ?? PROJECT_ROOT));
  const inputs = { ...(await step("inputs", () => checkInputs(env))), env };
  const aws = awsCli(env.GAIA_AWS_CLI || "aws", stack.region, env);
  const runId = env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? "1"}` : `manual-${randomBytes(4).toString("hex")}`;

  const decision = new Date();
  const started = performance.now();
  const target = { ...stack, target: drillIdentifier(stack.prefix, decision), runId };
  const copy: Copy = { state: "none" };
  let failure: DrillError | undefined;
  let result: RdsDrillResult | undefined;
  try {
    result = await restoreAndCheck(aws, target, inputs, decision, started, copy, log);
  } catch (error) {
    failure = error instanceof DrillError ? error : new DrillError("inputs", redact(String(error)));
  }
  try {
    // A restore that failed may still have made the copy (its answer lost after RDS took it): then it carries this run's tag.
    // One that did not, or a name taken by another run's copy, is left alone.
    if (copy.state === "asked" && ownCopy(aws, target.target, runId)) copy.state = "made";
    if (copy.state === "made") {
      deleteCopy(aws, target.target);
      log(`deleting ${target.target} (no final snapshot, no kept backups)`);
    }
  } catch (error) {
    const left = `${redact(error instanceof Error ? error.message : String(error))}; ${target.target} is left behind: delete it (aws rds delete-db-instance --db-instance-identifier ${target.target} --skip-final-snapshot --delete-automated-backups --region ${stack.region})`;
    failure = failure ? new DrillError(failure.step, `${failure.message}; and at delete: ${left}`) : new DrillError("delete", left);
  }
  if (failure) throw failure;
  return result!;
}

/** Whether `identifier` exists and carries this run's drill tag (DBInstance.TagList). */
function ownCopy(aws: AwsCli, identifier: string, runId: string): boolean {
  try {
    return (describe(aws, identifier).TagList ?? []).some((t) => t.Key === DRILL_TAG && t.Value === runId);
  } catch (error) {
    if (error instanceof AwsCliError && error.code === "DBInstanceNotFound") return false;
    throw error;
  }
}

/** The drill's line. */
export function verdict(result: RdsDrillResult): string {
  return `restore drill (rds ${result.environment}): RPO ${result.rpoSeconds.toFixed(1)} s, RTO ${result.rtoSeconds.toFixed(1)} s, privileges ok`;
}

if (require.main === module) {
  const stack = process.argv[2];
  if (!stack) {
    console.error("usage: npm run drill:restore:rds -- <stack>   (an aws stack: dev, staging, production)");
    process.exit(2);
  }
  rdsRestoreDrill({ stack }).then(
    (result) => {
      console.log(verdict(result));
      exitAfterOutput(0);
    },
    (error: unknown) => {
      const failed = error instanceof DrillError ? `failed at ${error.step}: ${error.message}` : `failed: ${error instanceof Error ? error.message : String(error)}`;
      console.error(redact(`restore drill (rds ${stack}) ${failed}`));
      exitAfterOutput(1);
    },
  );
}
