import { execFileSync } from "node:child_process";
import { OpsError, optionalEnv } from "./env";

/**
 * flyctl, run without a terminal: every flag a prompt would ask for is passed, and what it
 * prints is captured and never echoed (several commands print connection strings with their
 * password: `mpg create`, `mpg attach`, `redis status`; flyctl internal/command/mpg/v2/run_create.go,
 * run_attach.go, internal/command/redis/status.go). flyctl reads FLY_API_TOKEN (or
 * FLY_ACCESS_TOKEN) from the environment (internal/config/config.go); set FLYCTL to use
 * another binary.
 */
export function flyctl(args: string[], options: { stdin?: string } = {}): string {
  try {
    return execFileSync(optionalEnv("FLYCTL") ?? "flyctl", args, { encoding: "utf8", input: options.stdin ?? "", stdio: ["pipe", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { code?: string; stderr?: string; status?: number };
    if (e.code === "ENOENT") throw new OpsError(`flyctl not found: install flyctl 0.4.84 or later (see README, "Fly.io") or set FLYCTL to its path.`);
    throw new OpsError(`flyctl ${command(args)} failed (exit ${e.status}): ${lastLines(e.stderr ?? "")}`);
  }
}

/**
 * A list flyctl prints as JSON, or as a sentence when it is empty: `mpg list`, `mpg users
 * list`, `mpg databases list` print "No … found …" even with --json (flyctl
 * internal/command/mpg/list.go, v2/run_users.go, v2/run_databases.go).
 */
export function flyList<T>(args: string[]): T[] {
  const out = flyctl([...args, "--json"]).trim();
  if (/^No .* found/.test(out)) return [];
  return parseJson<T[]>(out, args);
}

export function flyJson<T>(args: string[]): T {
  return parseJson<T>(flyctl([...args, "--json"]), args);
}

function parseJson<T>(out: string, args: string[]): T {
  try {
    return JSON.parse(out) as T;
  } catch {
    throw new OpsError(`flyctl ${command(args)} --json printed something that is not JSON; check the flyctl version (README, "Fly.io").`);
  }
}

/** The command's words, without values that could be secrets. */
function command(args: string[]): string {
  return args.filter((a) => !a.startsWith("-")).slice(0, 3).join(" ");
}

/** flyctl's own error lines, with anything shaped like a connection URL's credentials removed. */
function lastLines(stderr: string): string {
  return stderr.trim().split("\n").slice(-3).join(" ").replace(/(\w+:\/\/[^:/\s]*:)[^@\s]+@/g, "$1[secret]@");
}
