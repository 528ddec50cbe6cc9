import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environmentNames } from "../../policy/naming";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { awsCli } from "../../scripts/lib/awsCli";
import { PROJECT_ROOT, planStack, type StackPlan } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { atEndpoint, deleteCopy, DrillError, rdsRestoreDrill, verdict, type RdsDrillResult } from "../../scripts/drill-restore-rds";
import { registerSecret } from "../support/canary";
import { createPlannedRoles, dropPlannedRoles, runPlanned } from "../support/planned";
import { SHARED_SERVER, withClient, withDatabase } from "../support/postgres";

/**
 * The cloud restore drill (scripts/drill-restore-rds.ts) against the AWS CLI double
 * (test/support/aws-cli-double.cjs: the CLI's flags, JSON and errors, from aws-cli and the RDS
 * model). The copy the double "restores" has its endpoint at the machine's PostgreSQL, where the
 * local stack's plan is applied under a name of this run, so the privilege check and the
 * freshness query really run, as the analytics role, through the URL the drill moved there.
 */
const DOUBLE = path.resolve(__dirname, "../support/aws-cli-double.cjs");
const double = require(DOUBLE) as { sourceInstance(o: Record<string, unknown>): Record<string, unknown> };
const environment = `drill${randomBytes(3).toString("hex")}`;
const names = environmentNames(environment);
const SOURCE = `${names.resourcePrefix}-postgres`;
/** Not the project stacks' region: it must come from the stack file. */
const REGION = "eu-west-3";
const STACK = "rehearsal";
const SUBNETS = `${names.resourcePrefix}-postgres-subnets-5e1f0a2`;
const GROUPS = ["sg-0a1b2c3d4e5f60718", "sg-0f1e2d3c4b5a69788"];
const PARAMETERS = `${names.resourcePrefix}-postgres-params-77c0d3e`;
const LAG_MS = 137_250;
const machine = new URL(SHARED_SERVER);

let plan: StackPlan;
let root: string;
/** The analytics role's URL as the stack hands it on AWS: at the source's endpoint (unresolvable here, so only a moved URL reaches the copy). */
let drillUrl: string;
let password: string;
/** Everything the drill said, in logs and errors, to search for the password at the end. */
const said: string[] = [];

interface Instance {
  DBInstanceStatus: string;
  TagList: { Key: string; Value: string }[];
  VpcSecurityGroups: { VpcSecurityGroupId: string }[];
  DBSubnetGroup: { DBSubnetGroupName: string };
  DBParameterGroups: { DBParameterGroupName: string }[];
  MultiAZ: boolean;
  PubliclyAccessible: boolean;
  DeletionProtection: boolean;
  _deletedWith?: { SkipFinalSnapshot: boolean; DeleteAutomatedBackups: boolean };
}
interface State {
  instances: Record<string, Instance>;
  calls: { argv: string[]; status: number }[];
  restoredEndpoint?: { Address: string; Port: number };
  restoreOutcome?: string;
}

/** A fresh RDS for the double: the stack's primary, its latest restorable time LAG_MS ago; the copy's endpoint at the machine's PostgreSQL. */
function rds(extra: Partial<State> = {}): { file: string; latest: Date; read(): State } {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "gaia-aws-")), "state.json");
  const latest = new Date(Date.now() - LAG_MS);
  const source = double.sourceInstance({ identifier: SOURCE, region: REGION, latestRestorableTime: latest.toISOString(), subnetGroup: SUBNETS, securityGroups: GROUPS, parameterGroup: PARAMETERS, instanceClass: "db.t4g.small" });
  writeFileSync(file, JSON.stringify({ instances: { [SOURCE]: source }, calls: [], restoredEndpoint: { Address: machine.hostname, Port: Number(machine.port || 5432) }, ...extra }));
  return { file, latest, read: () => JSON.parse(readFileSync(file, "utf8")) as State };
}

async function drill(stateFile: string, env: Record<string, string> = {}): Promise<{ result?: RdsDrillResult; error?: DrillError; logs: string[] }> {
  const logs: string[] = [];
  const outcome = await rdsRestoreDrill({
    stack: STACK,
    root,
    env: { ...process.env, GAIA_AWS_CLI: DOUBLE, FAKE_AWS_STATE: stateFile, GAIA_DRILL_DATABASE_URL: drillUrl, GITHUB_RUN_ID: "4242", GITHUB_RUN_ATTEMPT: "2", ...env },
    log: (line) => logs.push(line),
  }).then((result): { result?: RdsDrillResult; error?: DrillError } => ({ result }), (error: DrillError) => ({ error }));
  said.push(...logs, outcome.error?.message ?? "");
  return { ...outcome, logs };
}

const copyName = (state: State) => Object.keys(state.instances).find((id) => id !== SOURCE)!;
const commands = (state: State) => state.calls.map((c) => c.argv.slice(1, c.argv[1] === "wait" ? 3 : 2).join(" "));

beforeAll(async () => {
  const { config } = readStackFile("local");
  plan = await planStack(environment, { ...config, "gaia:environment": environment, "gaia:local": JSON.stringify({ postgresUrl: SHARED_SERVER }) }, ["gaia:local"]);
  // The stack as `pulumi up` applies it, its PostgreSQL part: roles, database, schema, sessions (no Redis: nothing to restore there).
  await createPlannedRoles(plan, SHARED_SERVER);
  for (const command of plan.resources.filter((r) => r.type === "command:local:Command" && !String(r.inputs.create).includes("redis-acl"))) {
    const run = runPlanned(command, "create");
    expect(run.status, `${command.name}: ${run.stderr}`).toBe(0);
  }
  const analytics = new URL((unwrap(plan.outputs.connectionUrls?.value) as Record<string, string>).analytics!);
  password = decodeURIComponent(analytics.password);
  analytics.hostname = `${SOURCE}.c0double0000.${REGION}.rds.amazonaws.com`;
  analytics.port = "5432";
  drillUrl = analytics.toString();
  // A stack file as the cloud stacks' (Pulumi.dev.yaml), under this run's environment.
  root = mkdtempSync(path.join(tmpdir(), "gaia-drill-stacks-"));
  writeFileSync(path.join(root, `Pulumi.${STACK}.yaml`), `config:\n  gaia:environment: ${environment}\n  gaia:platform: aws\n  gaia:region: ${REGION}\n`);
});

afterAll(async () => {
  if (plan) await dropPlannedRoles(plan, SHARED_SERVER);
});

describe("npm run drill:restore:rds", () => {
  it("restores the latest into a throw-away copy with the source's network and parameters, checks it, deletes it, and prints RPO and RTO", async () => {
    const aws = rds();
    const { result, error, logs } = await drill(aws.file);
    expect(error).toBeUndefined();
    const state = aws.read();
    const copy = copyName(state);
    expect(copy).toMatch(new RegExp(`^${names.resourcePrefix}-drill-\\d{12}$`));
    // RPO from the double's LatestRestorableTime: the decision less it.
    const rpo = (result!.decision.getTime() - aws.latest.getTime()) / 1000;
    expect(rpo).toBeGreaterThanOrEqual(LAG_MS / 1000);
    expect(verdict(result!)).toBe(`restore drill (rds ${environment}): RPO ${rpo.toFixed(1)} s, RTO ${result!.rtoSeconds.toFixed(1)} s, privileges ok`);
    expect(commands(state)).toEqual(["describe-db-instances", "restore-db-instance-to-point-in-time", "wait db-instance-available", "describe-db-instances", "delete-db-instance"]);
    expect(state.calls.every((c) => c.status === 0)).toBe(true);
    expect(state.calls[1]!.argv).toEqual([
      "rds", "restore-db-instance-to-point-in-time",
      "--source-db-instance-identifier", SOURCE, "--target-db-instance-identifier", copy, "--use-latest-restorable-time",
      "--db-instance-class", "db.t4g.small", "--db-subnet-group-name", SUBNETS, "--vpc-security-group-ids", ...GROUPS,
      "--db-parameter-group-name", PARAMETERS, "--no-multi-az", "--no-publicly-accessible", "--no-deletion-protection",
      "--tags", "Key=gaia:restore-drill,Value=4242-2", "--region", REGION, "--output", "json",
    ]);
    expect(state.calls[4]!.argv).toEqual(["rds", "delete-db-instance", "--db-instance-identifier", copy, "--skip-final-snapshot", "--delete-automated-backups", "--region", REGION, "--output", "json"]);
    // What RDS made of it, as the double keeps it: the source's groups, private, single-AZ, tagged, and now being deleted.
    expect(state.instances[copy]).toMatchObject({
      DBInstanceStatus: "deleting",
      DBSubnetGroup: { DBSubnetGroupName: SUBNETS },
      VpcSecurityGroups: GROUPS.map((VpcSecurityGroupId) => ({ VpcSecurityGroupId })),
      DBParameterGroups: [{ DBParameterGroupName: PARAMETERS }],
      MultiAZ: false, PubliclyAccessible: false, DeletionProtection: false,
      TagList: [{ Key: "gaia:restore-drill", Value: "4242-2" }],
      _deletedWith: { SkipFinalSnapshot: true, DeleteAutomatedBackups: true },
    });
    expect(state.instances[SOURCE]!.DBInstanceStatus).toBe("available");
    expect(logs).toContain("audit.security_events in the copy: no rows to date");
    expect(logs.some((l) => l.startsWith(`privileges match the access policy, checked as role "${names.loginRole("analytics")}" at ${machine.hostname}:`))).toBe(true);
  });

  it("says how recent the restored data is: the newest security event", async () => {
    const at = new Date(Date.now() - 3_600_000);
    await withClient(withDatabase(SHARED_SERVER, names.database), (c) => c.query("insert into audit.security_events (event_type, created_at) values ('drill', $1)", [at]));
    const { result, logs } = await drill(rds().file);
    expect(result!.newestEvent?.toISOString()).toBe(at.toISOString());
    expect(logs.find((l) => l.startsWith("newest security event"))).toMatch(new RegExp(`^newest security event in the copy: ${at.toISOString()} \\(\\d+\\.\\d s before the decision\\)$`));
  });

  it("deletes the copy when the privilege check fails, and names the step", async () => {
    const aws = rds();
    const group = `"${names.groupRole("analytics")}"`;
    const admin = withDatabase(SHARED_SERVER, names.database);
    await withClient(admin, (c) => c.query(`grant delete on audit.security_events to ${group}`));
    try {
      const { result, error } = await drill(aws.file);
      expect(result).toBeUndefined();
      expect(error!.step).toBe("privilege check");
      expect(error!.message).toMatch(/differs from the access policy/);
    } finally {
      await withClient(admin, (c) => c.query(`revoke delete on audit.security_events from ${group}`));
    }
    const state = aws.read();
    expect(commands(state).at(-1)).toBe("delete-db-instance");
    expect(state.instances[copyName(state)]!.DBInstanceStatus).toBe("deleting");
  });

  it.each([
    ["the copy fails to restore", "incompatible-restore", 1, /terminal failure state: .*"incompatible-restore"/],
    ["the copy is never available", "never", 4, /Max attempts exceeded/],
  ])("deletes the copy when the wait fails (%s)", async (_, outcome, waits, message) => {
    const aws = rds({ restoreOutcome: outcome });
    const { error } = await drill(aws.file);
    expect(error!.step).toBe("wait");
    expect(error!.message).toMatch(message);
    const state = aws.read();
    expect(commands(state).filter((c) => c === "wait db-instance-available")).toHaveLength(waits);
    expect(commands(state).at(-1)).toBe("delete-db-instance");
    expect(state.instances[copyName(state)]!.DBInstanceStatus).toBe("deleting");
  });

  it("leaves alone a copy it did not make: a name another run's copy holds", async () => {
    const aws = rds();
    const state = aws.read();
    // Another run's copy under every name this minute and the next could give.
    for (const offset of [0, 60_000]) {
      const minute = new Date(Date.now() + offset).toISOString().slice(0, 16).replace(/[-T:]/g, "");
      state.instances[`${names.resourcePrefix}-drill-${minute}`] = { ...state.instances[SOURCE]!, TagList: [{ Key: "gaia:restore-drill", Value: "other-run" }] };
    }
    writeFileSync(aws.file, JSON.stringify(state));
    const { error } = await drill(aws.file);
    expect(error!.step).toBe("restore");
    expect(error!.message).toMatch(/^An error occurred \(DBInstanceAlreadyExists\) when calling the RestoreDBInstanceToPointInTime operation/);
    expect(commands(aws.read())).not.toContain("delete-db-instance");
  });

  it("says a missing source in one sentence, restoring nothing (the CLI, on the dev stack)", () => {
    const aws = rds({ instances: {} });
    const secret = registerSecret(`pw${randomBytes(12).toString("hex")}`);
    const run = spawnSync("node_modules/.bin/tsx", ["scripts/drill-restore-rds.ts", "dev"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, GAIA_AWS_CLI: DOUBLE, FAKE_AWS_STATE: aws.file, GAIA_DRILL_DATABASE_URL: `postgresql://gaia_dev_analytics_a:${secret}@gaia-dev-postgres.c0double0000.us-east-1.rds.amazonaws.com:5432/gaia_dev?sslmode=verify-full` },
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("restore drill (rds dev) failed at describe the source: there is no RDS instance gaia-dev-postgres to restore from (the stack's primary): is the stack deployed, in this account and region?\n");
    expect(commands(aws.read())).toEqual(["describe-db-instances"]);
    expect(aws.read().calls[0]!.argv).toContain("us-east-1");
  });

  it("refuses to delete anything but a drill's copy", () => {
    const aws = rds();
    expect(() => deleteCopy(awsCli(DOUBLE, REGION, { ...process.env, FAKE_AWS_STATE: aws.file }), SOURCE)).toThrow(`refusing to delete ${SOURCE}: only a drill's copy (a name with -drill-) is ever deleted.`);
    expect(aws.read().calls).toEqual([]);
  });

  it("moves only the host and port of the URL to the copy", () => {
    expect(atEndpoint("postgresql://u:p%40ss@old.example:5432/gaia_dev?sslmode=verify-full", "new.example", 6543)).toBe("postgresql://u:p%40ss@new.example:6543/gaia_dev?sslmode=verify-full");
  });

  it("never said the password or the URL", () => {
    expect(said.length).toBeGreaterThan(0);
    for (const line of said) {
      expect(line).not.toContain(password);
      expect(line).not.toContain(encodeURIComponent(password));
      expect(line).not.toContain(new URL(drillUrl).hostname);
    }
  });
});
