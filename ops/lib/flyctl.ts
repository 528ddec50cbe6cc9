import { execFileSync } from "node:child_process";
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { OpsError, optionalEnv } from "./env";
import { isCredentialName, redact, rememberSecret, rememberSecretsIn, rememberUrlPasswords } from "./redact";

export { redact };

/**
 * flyctl, run without a terminal: every flag a prompt would ask for is passed, and what it
 * prints is captured and never echoed (several commands print connection strings with their
 * password: `mpg create`, `mpg attach`, `redis status`; flyctl internal/command/mpg/v2/run_create.go,
 * run_attach.go, internal/command/redis/status.go). flyctl reads FLY_API_TOKEN (or
 * FLY_ACCESS_TOKEN) from the environment (internal/config/config.go:150-151); set FLYCTL to use
 * another binary.
 *
 * Each run gets a config directory of its own, private (mkdtemp: 0700) and removed afterwards:
 * on every run flyctl logs each HTTP request and response body, passwords included, to
 * `<config dir>/logs/flyctl-<time>.log`, whatever LOG_LEVEL says, and keeps the last ten
 * (flyctl ad0172fac: internal/cli/cli.go:46,58; the file sink ignores the level,
 * internal/logger/split_logger.go:14-20, file_logger.go:23-25; internal/logger/logfile/fs.go:14-36,
 * 85-105, name.go:10-17; fly-go v0.9.6 http.go:64-121 logs the bodies at debug). The config
 * directory is FLY_CONFIG_DIR, else ~/.fly (helpers/config.go:11-21). Nothing stored there is
 * needed: a missing config.yml is no error and the token comes from the environment
 * (internal/config/config.go:129,150-151), so a `fly auth login` session is not used. One thing
 * of it is carried from call to call: the secrets versions (SECRETS_VERSIONS, below).
 *
 * The directory is removed in `finally`, which a killed process never reaches; so flyctl is kept
 * from writing the log at all: `logs` in it is made an empty file, flyctl's logDir() then fails
 * ("<dir> is not a directory"), InitLogFile returns that error and the command goes on without
 * a file (flyctl ad0172fac: internal/logger/logfile/fs.go:14-36, internal/cli/cli.go:45-49; the
 * lines it would have written stay in a buffer over a nil *os.File, whose writes fail:
 * internal/logger/global_logfile.go:13-24, file_logger.go:28-36). Directories left by a killed
 * run an hour ago or more are removed by the next call. The operator's settings that make flyctl
 * write or print more than it would are not passed on (NOT_PASSED_ON, below), and NO_COLOR is
 * set: colour codes glued to a URL would hide it from redact() (flyctl iostreams/color.go:36-42).
 *
 * LOG_LEVEL=warn whatever the operator's: at debug flyctl prints those bodies to stderr too
 * (internal/logger/logger.go:55-73, writer_logger.go:14-19). warn rather than flyctl's default,
 * info: errors are printed apart from the logger (internal/cli/cli.go:171), the commands used log
 * nothing at info, and an info line can hold a password (internal/command/redis/proxy.go:43).
 */
export function flyctl(args: string[], options: { stdin?: string } = {}): string {
  sweepStaleConfigDirs();
  const configDir = mkdtempSync(path.join(tmpdir(), CONFIG_DIR_PREFIX));
  writeFileSync(path.join(configDir, "logs"), "", { mode: 0o600 });
  if (Object.keys(secretsVersions).length > 0) writeFileSync(path.join(configDir, "config.yml"), stringifyYaml({ [SECRETS_VERSIONS]: secretsVersions }), { mode: 0o600 });
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !NOT_PASSED_ON.includes(name)));
  // What flyctl is handed on standard input is secrets (`secrets import`: NAME=VALUE lines): an error may echo one.
  rememberSecret(...(options.stdin ?? "").split("\n").map((line) => line.slice(line.indexOf("=") + 1)));
  try {
    const out = execFileSync(optionalEnv("FLYCTL") ?? "flyctl", args, {
      encoding: "utf8",
      input: options.stdin ?? "",
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...inherited, FLY_CONFIG_DIR: configDir, LOG_LEVEL: "warn", NO_COLOR: "1" },
    });
    // The connection URLs it printed as text (`mpg create`, `mpg attach`, `redis status`): a later error may quote their passwords.
    rememberUrlPasswords(out);
    return out;
  } catch (error) {
    const e = error as { code?: string; stderr?: string; status?: number };
    if (e.code === "ENOENT") throw new OpsError(`flyctl not found: install flyctl 0.4.84 or later (see docs/platforms.md, "Fly.io") or set FLYCTL to its path.`);
    // flyctl's own advice for a refused token is `flyctl auth login`, whose session the private
    // config directory never reads (and its multi-line message would lose its first line below).
    const refused = TOKEN_REFUSALS.find(([pattern]) => pattern.test(e.stderr ?? ""));
    if (refused) throw new OpsError(`flyctl ${command(args)} was refused: ${refused[1]}`);
    throw new OpsError(`flyctl ${command(args)} failed (exit ${e.status}): ${lastLines(e.stderr ?? "")}`);
  } finally {
    keepSecretsVersions(configDir);
    rmSync(configDir, { recursive: true, force: true });
  }
}

/**
 * flyctl's key, in its config.yml, of each app's secrets version (flyctl ad0172fac
 * internal/config/config.go:35). A change of an app's secrets (`secrets import`, `secrets unset`,
 * `mpg attach`) returns the app's new version, which flyctl saves there (internal/appsecrets/secrets.go:25-46,
 * minvers.go:37-56), and its later reads of the app's secrets ask for at least that version
 * (secrets.go:15-22; fly-go flaps ListAppSecrets `?version=`), "to ensure that the latest secrets
 * are used" (flyctl ad0dc5f75): read without it, a list may be served what the app had before.
 * In a config directory of its own, each call would read without it, and `mpg attach`, which
 * refuses a secret it finds (v2/run_attach.go:176-184), could find the one `secrets unset` took
 * off just before (ops/fly.ts attach). So the versions, and nothing else of the config, go from
 * each call to the next of this process.
 */
const SECRETS_VERSIONS = "app_secrets_minvers";
const secretsVersions: Record<string, number> = {};

function keepSecretsVersions(configDir: string): void {
  let saved: unknown;
  try {
    saved = (parseYaml(readFileSync(path.join(configDir, "config.yml"), "utf8")) as Record<string, unknown> | null)?.[SECRETS_VERSIONS];
  } catch {
    return; // none saved (no change of secrets), or nothing readable
  }
  if (typeof saved !== "object" || saved === null) return;
  for (const [app, version] of Object.entries(saved)) {
    if (typeof version === "number" && Number.isSafeInteger(version)) secretsVersions[app] = Math.max(secretsVersions[app] ?? 0, version);
  }
}

/**
 * flyctl's refusals of the session, with what to do here: no token (command.go RequireSession,
 * handleReLogin without a terminal: fly-go's ErrNoAuthToken), and `fly mpg` given a token with no
 * macaroon (internal/command/mpg/mpg.go validateMPGTokenCompatibility).
 */
const TOKEN_REFUSALS: [RegExp, string][] = [
  [/No access token available/, "no Fly token: set FLY_API_TOKEN to an org token (`fly tokens create org`). A `fly auth login` session is not used: flyctl runs here with a config directory of its own (docs/platforms.md, \"Fly.io\")."],
  [/MPG commands require updated tokens/, "FLY_API_TOKEN (or FLY_ACCESS_TOKEN) is an older-style token, which `fly mpg` refuses: set it to an org token from `fly tokens create org` (docs/platforms.md, \"Fly.io\")."],
];

/**
 * What flyctl reads from the environment that would put more of its traffic where it may be read
 * (flyctl ad0172fac): FLYCTL_OUTPUT_HAR writes every request and response to a HAR file
 * (internal/httptracing/har.go:18-23); FLY_TRACE_COLLECTOR_URL exports traces
 * (internal/tracing/tracing.go:38); FLY_VERBOSE and the older VERBOSE print more
 * (internal/config/config.go:44,154; flyctl/flyctl.go:78); FLY_LOG_GQL_ERRORS logs GraphQL errors
 * (config.go:46,156; internal/cmdutil/preparers/preparers.go:56); FLY_JSON changes what is
 * printed to JSON, which the parsing here does not expect (config.go:155);
 * FLY_GHA_ERROR_ANNOTATION prints errors again as a GitHub annotation (internal/cli/cli.go:154);
 * CLICOLOR_FORCE colours output even into a pipe (iostreams/color.go:40-42). The rest of the
 * environment is passed on: PATH, HOME, proxies and CA bundles are the operator's to set.
 */
export const NOT_PASSED_ON = [
  "FLYCTL_OUTPUT_HAR", "FLY_TRACE_COLLECTOR_URL", "FLY_VERBOSE", "VERBOSE", "FLY_LOG_GQL_ERRORS", "FLY_JSON",
  "FLY_GHA_ERROR_ANNOTATION", "CLICOLOR_FORCE",
];

const CONFIG_DIR_PREFIX = "gaia-flyctl-";
/** Older than any flyctl run of ours: a directory this old was left by a run that was killed. */
const STALE_AFTER_MS = 60 * 60 * 1000;

/** Removes this user's flyctl config directories left by killed runs. */
function sweepStaleConfigDirs(): void {
  const uid = process.getuid?.();
  let entries: string[] = [];
  try {
    entries = readdirSync(tmpdir()).filter((name) => name.startsWith(CONFIG_DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of entries) {
    const dir = path.join(tmpdir(), name);
    try {
      const stat = lstatSync(dir);
      if (stat.isDirectory() && (uid === undefined || stat.uid === uid) && Date.now() - stat.mtimeMs > STALE_AFTER_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // gone meanwhile, or not ours to remove
    }
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
  let parsed: T;
  try {
    parsed = JSON.parse(out) as T;
  } catch {
    throw new OpsError(`flyctl ${command(args)} --json printed something that is not JSON; check the flyctl version (docs/platforms.md, "Fly.io").`);
  }
  // The passwords and URLs it holds (`mpg users create`, `redis status`), so that a later error quoting one is redacted whatever its form.
  rememberSecretsIn(parsed, isCredentialName);
  return parsed;
}

/** The command's words, without values that could be secrets. */
function command(args: string[]): string {
  return args.filter((a) => !a.startsWith("-")).slice(0, 3).join(" ");
}

/** flyctl's own error lines, redacted. */
function lastLines(stderr: string): string {
  return redact(stderr).trim().split("\n").slice(-3).join(" ");
}

/**
 * The "Read Regions" row of `fly redis status`: a render.VerticalTable row since flyctl v0.4.33
 * (internal/render/render.go on tablewriter v1.1.x: ` Read Regions   │ ord,sjc `), "None" when
 * there are none (internal/command/redis/status.go); older flyctl wrote `Read Regions = ord`.
 * A status without the row is an error, never "no replicas".
 */
export function readRegions(status: string): string[] {
  const row = /^\s*Read Regions\s*[│|=]\s*(.*?)\s*$/mu.exec(status);
  if (!row) throw new OpsError(`\`fly redis status\` printed no "Read Regions" row: flyctl's output changed; check the installed flyctl (v0.4.84 or later).`);
  const value = row[1]!;
  return value === "None" ? [] : value.split(",").map((r) => r.trim()).filter(Boolean).sort();
}
