/**
 * A local plan applied on a real server as `pulumi up` would apply it, for the drills and the
 * tests: what the postgresql provider creates (roles with the plan's passwords and memberships,
 * the database) and the command resources run exactly as pulumi-command runs them.
 */
import { spawnSync } from "node:child_process";
import { Client } from "pg";
import { quoteIdent } from "../../policy/grants";
import { unwrap } from "./cloudMocks";
import { PROJECT_ROOT, type PlannedResource, type StackPlan } from "./offline";

const ofType = (plan: StackPlan, type: string) => plan.resources.filter((r) => r.type === type);

async function asAdmin<T>(adminUrl: string, action: (admin: Client) => Promise<T>): Promise<T> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await action(admin);
  } finally {
    await admin.end();
  }
}

/** The roles (with the plan's passwords and memberships) and the database, as the provider creates them before the commands run. */
export async function createPlannedRoles(plan: StackPlan, adminUrl: string): Promise<void> {
  await asAdmin(adminUrl, async (admin) => {
    const roles = ofType(plan, "postgresql:index/role:Role").map((r) => r.inputs as Record<string, unknown>);
    for (const role of roles) {
      const password = unwrap(role.password);
      await admin.query(`create role ${quoteIdent(String(role.name))} ${role.login ? "login" : "nologin"}${password ? ` password '${String(password)}'` : ""}`);
    }
    for (const role of roles) {
      for (const group of (role.roles as string[] | undefined) ?? []) await admin.query(`grant ${quoteIdent(group)} to ${quoteIdent(String(role.name))}`);
    }
    for (const db of ofType(plan, "postgresql:index/database:Database")) {
      // As resource_postgresql_database.go createDatabase writes it: ALLOW_CONNECTIONS as planned.
      await admin.query(`create database ${quoteIdent(String(db.inputs.name))} owner ${quoteIdent(String(db.inputs.owner))} allow_connections ${db.inputs.allowConnections === false ? "false" : "true"}`);
    }
  });
}

export async function dropPlannedRoles(plan: StackPlan, adminUrl: string): Promise<void> {
  await asAdmin(adminUrl, async (admin) => {
    for (const db of ofType(plan, "postgresql:index/database:Database")) {
      await admin.query(`drop database if exists ${quoteIdent(String(db.inputs.name))} with (force)`);
    }
    for (const role of ofType(plan, "postgresql:index/role:Role").reverse()) await admin.query(`drop role if exists ${quoteIdent(String(role.inputs.name))}`);
  });
}

export interface CommandRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A planned command resource's environment, its secrets in clear (the engine hands them so). */
export function plannedEnvironment(resource: PlannedResource): Record<string, string> {
  const environment = unwrap(resource.inputs.environment) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(unwrap(v))]));
}

/**
 * Runs a planned command resource's `create`, `update` or `delete` exactly as pulumi-command
 * would: `/bin/sh -c <command>` in the program's directory, with the resource's environment
 * added to the inherited one (provider/pkg/provider/local/commandOutputs.go), and `extra` on top.
 */
export function runPlannedCommand(resource: PlannedResource, verb: "create" | "update" | "delete", extra: Record<string, string> = {}): CommandRun {
  const commandLine = resource.inputs[verb];
  if (typeof commandLine !== "string") throw new Error(`${resource.name} has no ${verb} command`);
  const env = { ...process.env, ...plannedEnvironment(resource), ...extra };
  const result = spawnSync("/bin/sh", ["-c", commandLine], { cwd: PROJECT_ROOT, env, encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}
