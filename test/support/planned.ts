import { spawnSync } from "node:child_process";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { PROJECT_ROOT, type PlannedResource, type StackPlan } from "../../scripts/lib/offline";
import { recordOutput } from "./canary";
import { withClient } from "./postgres";
import { byType } from "./stacks";

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Does on a real server what the plan says the postgresql provider does before the commands
 * run: the roles (with the plan's passwords and memberships) and the database.
 */
export async function createPlannedRoles(plan: StackPlan, adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (admin) => {
    const roles = byType(plan, "postgresql:index/role:Role").map((r) => r.inputs as Record<string, unknown>);
    for (const role of roles) {
      const password = unwrap(role.password);
      await admin.query(`create role ${quote(String(role.name))} ${role.login ? "login" : "nologin"}${password ? ` password '${String(password)}'` : ""}`);
    }
    for (const role of roles) {
      for (const group of (role.roles as string[] | undefined) ?? []) await admin.query(`grant ${quote(group)} to ${quote(String(role.name))}`);
    }
    for (const db of byType(plan, "postgresql:index/database:Database")) {
      // As resource_postgresql_database.go createDatabase writes it: ALLOW_CONNECTIONS as planned.
      await admin.query(`create database ${quote(String(db.inputs.name))} owner ${quote(String(db.inputs.owner))} allow_connections ${db.inputs.allowConnections === false ? "false" : "true"}`);
    }
  });
}

export async function dropPlannedRoles(plan: StackPlan, adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (admin) => {
    for (const db of byType(plan, "postgresql:index/database:Database")) {
      await admin.query(`drop database if exists ${quote(String(db.inputs.name))} with (force)`);
    }
    for (const role of byType(plan, "postgresql:index/role:Role").reverse()) await admin.query(`drop role if exists ${quote(String(role.inputs.name))}`);
  });
}

export interface CommandRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The stdout each resource's last successful create or update left in the state. */
const stateStdout = new Map<string, string>();

/**
 * Runs a planned command resource's `create`, `update` or `delete` exactly as
 * pulumi-command would: `/bin/sh -c <command>` in the program's directory, with the
 * resource's environment added to the inherited one, and, where the resource asks for it
 * (`addPreviousOutputInEnv`), the stdout its state holds as PULUMI_COMMAND_STDOUT
 * (provider/pkg/provider/local/commandOutputs.go).
 */
export function runPlanned(resource: PlannedResource, verb: "create" | "update" | "delete", override: Record<string, string> = {}): CommandRun {
  const commandLine = resource.inputs[verb];
  if (typeof commandLine !== "string") throw new Error(`${resource.name} has no ${verb} command`);
  const environment = unwrap(resource.inputs.environment) as Record<string, unknown>;
  const previous = resource.inputs.addPreviousOutputInEnv === true && stateStdout.has(resource.name) ? { PULUMI_COMMAND_STDOUT: stateStdout.get(resource.name)! } : {};
  const env = { ...process.env, ...Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(unwrap(v))])), ...previous, ...override };
  const result = spawnSync("/bin/sh", ["-c", commandLine], { cwd: PROJECT_ROOT, env, encoding: "utf8", timeout: 120_000 });
  recordOutput(`${resource.name}-${verb}`, result.stdout ?? "", result.stderr ?? "");
  if (result.status === 0 && verb !== "delete") stateStdout.set(resource.name, result.stdout);
  if (result.status === 0 && verb === "delete") stateStdout.delete(resource.name);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every generated secret in a plan: the values the providers would hand out. */
export function generatedSecrets(plan: StackPlan): string[] {
  const found = new Set<string>();
  const walk = (value: unknown) => {
    const plain = unwrap(value);
    if (typeof plain === "string") for (const match of plain.match(/mock-[0-9a-f]{24}/g) ?? []) found.add(match);
    else if (plain && typeof plain === "object") Object.values(plain).forEach(walk);
  };
  plan.resources.forEach((r) => walk(r.inputs));
  Object.values(plan.outputs).forEach((o) => walk(o.value));
  return [...found];
}
