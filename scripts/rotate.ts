/**
 * Rotates credentials with no downtime: `npm run rotate -- <stack> [credential ...|--all] [--force] [--revoke | --retire-previous]`.
 * Raises each credential's generation in the stack's config (`gaia:rotation`, see
 * components/rotation.ts) by one from what the stack last applied (its `rotation` output), runs
 * `pulumi up` through Pulumi's Automation API, checks that each rotated credential logs in, and
 * prints what rotated: login names and generations, never a secret. Needs what
 * `pulumi up -s <stack>` needs (the CLI, its backend, cloud credentials).
 *
 * Idempotent: a credential named twice is rotated once, and a run after one whose update failed
 * finds the stack file one step ahead of what was applied and finishes that step instead of
 * raising it again, so no sequence of runs moves a credential by more than one per update.
 *
 * `--revoke` is for a credential that leaked: after the rotation, the login that was current
 * until now is retired at once (scripts/lib/retire.ts: a password nobody knows, its sessions
 * ended) instead of working until the next rotation. Every rotated credential's is tried; those
 * still alive are listed in one sentence, each with the command that finishes it, which for a
 * login is `--retire-previous`: it rotates nothing, checks the current login and retires the
 * previous one, both taken from what the stack applied, so running it again is safe.
 */
import { Client } from "pg";
import { createClient } from "redis";
import { decodeStackConfig } from "../components/config";
import { platformNamed } from "../components/platforms";
import { currentSlot, generationOf, rotatableCredentials, whyNotRotatable } from "../components/rotation";
import { ENVIRONMENT_NAME_PATTERN, ENVIRONMENT_NAME_RULE, environmentNames, type EnvironmentNames } from "../policy/naming";
import { policyRoles } from "../policy/grants";
import { redact, rememberEnvironmentSecrets } from "../ops/lib/redact";
import { SERVICE_ROLE_NAMES } from "../policy/access";
import { automation, outputValues, withProgress, type AutomationOptions } from "./lib/automation";
import { SessionsLeftError, retireLogin } from "./lib/retire";
import { PROJECT_ROOT, StackFileError, readStackFile, stackNames } from "./lib/stackFile";

/** What rotation needs of a stack: its config (by path) and an update. The Automation API's stack, or a test's. */
export interface RotationStack {
  /** A config value by path; undefined where the key is not set, and an error where the config cannot be read. */
  getConfigValue(key: string): Promise<string | undefined>;
  setConfigValue(key: string, value: string): Promise<void>;
  /** `pulumi up`; the stack's outputs, secrets decrypted. */
  up(): Promise<Record<string, unknown>>;
  /** The outputs of the stack's last successful update (`pulumi stack output`), secrets decrypted. */
  outputs(): Promise<Record<string, unknown>>;
}

/** A request that cannot be carried out, said in one sentence; nothing was changed. */
export class RotationError extends Error {}

export interface RotateOptions {
  root?: string;
  open?: (stack: string, root: string) => Promise<RotationStack>;
  /** Proves a rotated credential logs in; throws a sentence if not (a LoginRefusedError, which says why apart). */
  logsIn?: (kind: "postgres" | "redis", url: string, ca: string) => Promise<void>;
  /** How many sessions a PostgreSQL login has open, asked as the stack's admin. */
  sessionsOf?: (adminUrl: string, ca: string, login: string) => Promise<number>;
  /** Retires a PostgreSQL login at once (--revoke), as the stack's admin; how many sessions it ended. */
  retire?: (adminUrl: string, ca: string, login: string) => Promise<number>;
}

const FLAGS = ["--all", "--force", "--revoke", "--retire-previous"];

export async function rotate(args: string[], options: RotateOptions = {}): Promise<string[]> {
  const root = options.root ?? PROJECT_ROOT;
  const [stack, ...rest] = args;
  const stacks = stackNames(root);
  if (!stack || stack.startsWith("-")) throw new RotationError(`name a stack: npm run rotate -- <${stacks.join("|")}> [credential ...|--all]`);
  if (!stacks.includes(stack)) throw new RotationError(`no stack file Pulumi.${stack}.yaml: use one of ${stacks.join(", ")}.`);
  const raw = stackSettings(stack, root);
  const services = raw.services ?? SERVICE_ROLE_NAMES;
  // A platform the registry does not know refuses nothing here; resolving the stack refuses it.
  const cannotRotate = platformNamed(raw.platform ?? "")?.cannotRotate ?? {};
  const known = rotatableCredentials(services, cannotRotate);
  const all = rest.includes("--all");
  const force = rest.includes("--force");
  const revoke = rest.includes("--revoke");
  const retireOnly = rest.includes("--retire-previous");
  const retiring = revoke ? "--revoke" : retireOnly ? "--retire-previous" : undefined;
  // A credential named twice is rotated once.
  const named = [...new Set(rest.filter((a) => !FLAGS.includes(a)))];
  const unknown = named.filter((c) => !known.includes(c));
  const refused = unknown.map((c) => [c, whyNotRotatable(c, services, cannotRotate)] as const).find(([, why]) => why);
  if (refused) throw new RotationError(`${refused[0]} cannot be rotated on ${raw.platform}: ${refused[1]}.`);
  if (unknown.length) throw new RotationError(`${unknown.join(", ")} ${unknown.length > 1 ? "are" : "is"} not a credential of stack ${stack}: use ${known.join(", ")} or --all.`);
  if (!all && named.length === 0) throw new RotationError(`name the credentials to rotate (${known.join(", ")}) or --all.`);
  if (retiring && named.includes("redis")) {
    throw new RotationError(
      `${retiring} retires PostgreSQL logins; Redis keeps the previous password until the next rotation: run \`npm run rotate -- ${stack} redis\` twice (the second renews the leaked one); nothing was changed.`,
    );
  }
  const roles = policyRoles(services);
  const loginless = named.find((c) => !roles.includes(c));
  if (retireOnly && (revoke || force || loginless)) {
    throw new RotationError(
      revoke || force
        ? `--retire-previous rotates nothing, so it takes neither --revoke nor --force: run \`npm run rotate -- ${stack} ${all ? "--all" : named.join(" ")} --retire-previous\`; nothing was changed.`
        : `${loginless} has no previous login to retire: --retire-previous retires those of ${roles.join(", ")}; nothing was changed.`,
    );
  }
  const rerun = [all ? "--all" : named.join(" "), ...(revoke ? ["--revoke"] : [])].join(" ");

  const target = await (options.open ?? openStack)(stack, root).catch((error: unknown) => {
    throw new RotationError(`could not open stack ${stack} with the Pulumi CLI (${redact(firstLine(error))}): nothing was changed.`);
  });
  // Outputs that cannot be read are not "nothing applied": the generations to start from are unknown.
  const current = await target.outputs().catch((error: unknown) => {
    throw new RotationError(`could not read the outputs of stack ${stack}, which say what it applied (${redact(firstLine(error))}): nothing was changed; run again once \`pulumi stack output -s ${stack}\` works.`);
  });
  const applied = current.rotation as Record<string, number> | undefined;
  if (!applied) {
    throw new RotationError(`stack ${stack} has no applied generations (its \`rotation\` output): run \`pulumi up -s ${stack}\` once with this version, then rotate; nothing was changed.`);
  }
  if (retiring && !current.adminUrl) {
    throw new RotationError(
      `${retiring} retires the previous login as the stack's admin, and stack ${stack} has none of the component's (its platform keeps its admin): ` +
        `${revoke ? "rotate without --revoke" : "its previous logins work until the next rotation"}; nothing was changed.`,
    );
  }
  const environment = typeof raw.environment === "string" ? raw.environment : stack;
  if (!ENVIRONMENT_NAME_PATTERN.test(environment)) {
    throw new RotationError(`Pulumi.${stack}.yaml: gaia:environment ${JSON.stringify(raw.environment ?? stack)} is not an environment name: ${ENVIRONMENT_NAME_RULE}; nothing was changed.`);
  }
  const names = environmentNames(environment);
  const retirement = { stack, names, logsIn: options.logsIn ?? credentialLogsIn, retire: options.retire ?? retireAsAdmin };
  // The stack file plays no part: the logins are those of what the stack applied.
  if (retireOnly) return retirePrevious((all ? roles : named).filter((c) => urlOf(current, c)), current, retirement);
  const file = readGenerations(await readConfig(target, "gaia:rotation", stack), stack);
  // A key the program would refuse, found before anything is written: else the file would move and every rerun fail.
  const stranger = Object.keys(file).find((key) => key !== "all" && !known.includes(key));
  if (stranger) {
    throw new RotationError(`gaia:rotation.${stranger} in Pulumi.${stack}.yaml names no credential of stack ${stack} (${known.join(", ")}): remove it (\`pulumi config rm --path gaia:rotation.${stranger} -s ${stack}\`); nothing was changed.`);
  }
  const steps = (all ? ["all"] : named).map((key) => rotationStep(key, key === "all" ? known : [key], file, applied, stack));
  // A credential this run does not rotate must stand where the stack applied it: else the update would move it
  // unchecked (a failed --all resumed through one name) or be refused by the program on every rerun.
  const rotating = all ? known : named;
  const astray = known.find((c) => !rotating.includes(c) && applied[c] !== undefined && generationOf(file, c) !== applied[c]);
  if (astray) {
    throw new RotationError(
      `the stack file has ${astray} at generation ${generationOf(file, astray)} and the stack applied ${applied[astray]}: ` +
        (generationOf(file, astray) === applied[astray]! + 1 ? `finish that rotation first with \`npm run rotate -- ${stack} ${known.every((c) => applied[c] === undefined || generationOf(file, c) === applied[c] + 1) ? "--all" : astray}\`` : `set gaia:rotation so that ${astray} is at ${applied[astray]}`) +
        "; nothing was changed.",
    );
  }
  if (!force) await refuseWhileInUse(all ? known : named, current, options.sessionsOf ?? sessionsOf, stack, rerun);
  for (const { key, from, to } of steps) if (to !== from) await writeGeneration(target, key, to, stack, rerun);
  let outputs: Record<string, unknown>;
  try {
    outputs = await target.up();
  } catch (error) {
    const asked = steps.map(({ key, to }) => `${key} at ${to}`).join(", ");
    // An update can fail after it recorded its outputs (a policy violation at the end, a resource after the
    // credentials): the engine keeps the outputs of a failed update ("If there were errors, we update any stack outputs
    // that were updated": pulumi pkg/resource/deploy/step_executor.go:138-142, deployment_executor.go:417@v3.274.1).
    // Then the stack applied the new generations, and a rerun of the rotation would take a second step.
    const after = ((await target.outputs().catch(() => ({}))) as Record<string, unknown>).rotation as Record<string, number> | undefined;
    const moved = known.filter((c) => after?.[c] !== undefined && after[c] !== applied[c]);
    if (moved.length) {
      throw new RotationError(
        `pulumi up failed (${redact(firstLine(error))}) after the stack applied the rotation (${moved.map((c) => `${c} at ${after![c]}`).join(", ")}): the new logins are in place; ` +
          `fix what failed and run \`pulumi up -s ${stack}\`, never the rotation again, which would take a second step.`,
      );
    }
    throw new RotationError(
      `pulumi up failed (${redact(firstLine(error))}): the stack file asks for ${asked} and the stack still holds what it applied before, which keeps working; ` +
        `run \`npm run rotate -- ${stack} ${rerun}\` again to finish this rotation (it will not raise the generations again).`,
    );
  }
  const rotated = all ? known : named;
  const logsIn = retirement.logsIn;
  // Under --revoke a login that does not log in is listed with the rest at the end: the others are still retired.
  const refusedLogins = new Map<string, string>();
  const lines = steps.map(({ key, from, to, resumed }) => `gaia:rotation.${key}: ${resumed ? `${to} (the step the stack file already asked for, finished now)` : `${from} -> ${to}`}`);
  // Whether a rotated credential logs in: undefined if it does; under --revoke, why not (listed at the end, the other
  // logins still retired); otherwise the refusal is the error.
  const refusalOf = (kind: "redis" | "postgres", url: string, ca: string) =>
    logsIn(kind, url, ca).then(() => undefined, (error: unknown) => {
      if (!revoke) throw error;
      return whyRefused(error);
    });
  // Redis's or the admin's new credential that does not log in is listed with them.
  const notLoggingIn: string[] = [];
  const check = async (kind: "redis" | "postgres", credential: string, url: string, ca: string, done: string) => {
    const refusal = await refusalOf(kind, url, ca);
    if (refusal === undefined) lines.push(done);
    else notLoggingIn.push(`the rotated ${credential} credential does not log in (${refusal}), so its previous one still works and is kept: once that is fixed, run \`pulumi up -s ${stack}\`, which applies the same credential again (a rotation now would renew the one in use)`);
  };
  for (const credential of rotated) {
    if (credential === "redis") {
      await check("redis", "redis", String(outputs.redisUrl ?? ""), String(outputs.redisCa ?? ""), "redis rotated: the new password logs in");
    } else if (credential === "admin") {
      await check("postgres", "admin", String(outputs.adminUrl ?? ""), String(outputs.postgresCa ?? ""), "admin rotated: the new password logs in");
    } else if (credential === "adminApiKey") {
      // Not a login: the schema command made the new key the admin's only active bootstrap key.
      lines.push("adminApiKey rotated: the new key is the admin's bootstrap key, the previous one is deactivated");
    } else if (raw.platform === "fly") {
      // Fly keeps the URL in the app's secrets, never in the stack (components/platforms/fly): the renewed user is
      // attached, the secret staged; the app's machines take it at their next deploy, the previous user working until then.
      const login = names.loginRole(credential, currentSlot(appliedOf(outputs, credential)));
      const where = ((outputs.secretNames ?? {}) as Record<string, string>);
      const secret = Object.entries(where).find(([name]) => name.endsWith(`/postgres/${credential}`))?.[1] ?? "its app's DATABASE_URL";
      lines.push(`${credential} rotated: now Fly user ${login}, attached as ${secret} (staged: the app's next deploy takes it; the previous user works until the next rotation)`);
    } else {
      const url = urlOf(outputs, credential);
      if (!url) throw new RotationError(`the update left no URL for ${credential} in the stack's connectionUrls output.`);
      const refusal = await refusalOf("postgres", url, String(outputs.postgresCa ?? ""));
      if (refusal === undefined) lines.push(`${credential} rotated: now login ${loginOf(url)}, which logs in`);
      else refusedLogins.set(credential, refusal);
    }
  }
  if (!revoke) return lines;
  if (all && known.includes("redis")) lines.push("redis: its previous password stays valid until the next rotation (--revoke retires PostgreSQL logins)");
  return retirePrevious(rotated.filter((c) => urlOf(outputs, c)), outputs, { ...retirement, checked: { refused: refusedLogins, done: `${rotated.join(", ")} rotated`, lines, notLoggingIn } });
}

const urlOf = (outputs: Record<string, unknown>, credential: string) => ((outputs.connectionUrls ?? {}) as Record<string, string | undefined>)[credential];
const loginOf = (url: string) => decodeURIComponent(new URL(url).username);
/** The generation of a credential the stack applied (its `rotation` output); 0 before any rotation. */
const appliedOf = (outputs: Record<string, unknown>, credential: string) => ((outputs.rotation ?? {}) as Record<string, number>)[credential] ?? 0;
const whyRefused = (error: unknown) => (error instanceof LoginRefusedError ? error.why : redact(firstLine(error)));
const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

interface Retirement {
  stack: string;
  names: EnvironmentNames;
  logsIn: NonNullable<RotateOptions["logsIn"]>;
  retire: NonNullable<RotateOptions["retire"]>;
  /**
   * --revoke: the rotation checked the current logins; those that did not log in, with why, what it
   * did (for the message) and what it printed. Without it (--retire-previous) they are checked here.
   */
  checked?: { refused: Map<string, string>; done: string; lines: string[]; notLoggingIn?: string[] };
}

/**
 * Retires each credential's previous login: the slot that is not current at the generation the
 * stack applied (`outputs`, its `rotation` output), never the login of its connection URL, which
 * clients use now, and only once that one logs in. Every credential is tried; if any previous login
 * is still alive, one sentence lists each with the one command that finishes it.
 */
async function retirePrevious(credentials: readonly string[], outputs: Record<string, unknown>, how: Retirement): Promise<string[]> {
  const { stack, logsIn, retire, checked } = how;
  const refused = new Map(checked?.refused);
  const lines = [...(checked?.lines ?? [])];
  const retired: string[] = [];
  const alive: string[] = [...(checked?.notLoggingIn ?? [])];
  const ca = String(outputs.postgresCa ?? "");
  const finish = (credential: string) => `\`npm run rotate -- ${stack} ${credential} --retire-previous\``;
  for (const credential of credentials) {
    const current = loginOf(urlOf(outputs, credential)!);
    const generation = appliedOf(outputs, credential);
    // The other slot of the login the stack applied, never a name made from the stack file (whose gaia:environment
    // may not be applied yet and name another environment's logins on the same server).
    const slot = /_([ab])$/.exec(current)?.[1];
    const previous = slot ? `${current.slice(0, -1)}${slot === "a" ? "b" : "a"}` : undefined;
    if (!previous || slot !== currentSlot(generation)) {
      alive.push(`${previous ?? current} is not retired: ${credential}'s login in the stack's connectionUrls output (${current}) is not the slot its rotation output (${generation}) gives; run \`pulumi up -s ${stack}\` to bring them together, then ${finish(credential)}`);
      continue;
    }
    if (!checked) {
      await logsIn("postgres", urlOf(outputs, credential)!, ca).then(
        () => lines.push(`${credential}: current login ${current} logs in`),
        (error: unknown) => refused.set(credential, whyRefused(error)),
      );
    }
    const refusal = refused.get(credential);
    if (refusal !== undefined) {
      alive.push(`${previous} still logs in, not retired, as ${credential}'s current login ${current} does not log in (${refusal}): once it does, run ${finish(credential)}`);
      continue;
    }
    try {
      const ended = await retire(String(outputs.adminUrl ?? ""), ca, previous);
      lines.push(`${credential}: previous login ${previous} retired (a password nobody knows; ${ended} session(s) ended)`);
      retired.push(previous);
    } catch (error) {
      alive.push(error instanceof SessionsLeftError ? error.message : `${previous} still logs in (retiring it failed: ${redact(firstLine(error))}): run ${finish(credential)}`);
    }
  }
  if (alive.length === 0) return lines;
  const someRetired = retired.length ? `${count(retired.length, "previous login")} retired (${retired.join(", ")})` : "no previous login retired";
  throw new RotationError(
    `${checked ? `${checked.done}${retired.length ? ` and ${someRetired}` : ""}` : someRetired}, but ${alive.length === 1 ? "1 previous login is" : `${alive.length} previous logins are`} still alive: ${alive.join("; ")}.`,
  );
}

/**
 * A rotation renews the login that is not current, which the previous rotation's clients may
 * still hold (a second rotation too soon after the first). Refused while that login has sessions
 * open, asked of PostgreSQL as the stack's admin (pg_stat_activity), unless `--force`.
 */
async function refuseWhileInUse(credentials: readonly string[], outputs: Record<string, unknown>, count: NonNullable<RotateOptions["sessionsOf"]>, stack: string, args: string): Promise<void> {
  const urls = (outputs.connectionUrls ?? {}) as Record<string, string>;
  const adminUrl = String(outputs.adminUrl ?? "");
  if (!adminUrl) return; // no admin login of the component's (Fly): the platform's own users
  for (const credential of credentials) {
    const url = urls[credential];
    if (!url) continue;
    // The login the update renews: the one beside the current, whose name ends in the other slot.
    const renewed = decodeURIComponent(new URL(url).username).replace(/_(a|b)$/, (_, slot: string) => (slot === "a" ? "_b" : "_a"));
    const open = await count(adminUrl, String(outputs.postgresCa ?? ""), renewed).catch((error: unknown) => {
      throw new RotationError(`could not count the sessions of ${renewed} as the stack's admin (${redact(firstLine(error))}): reach the server as \`pulumi up\` does, or run \`npm run rotate -- ${stack} ${args} --force\` to rotate without this check; nothing was changed.`);
    });
    if (open > 0) {
      throw new RotationError(
        `${renewed} still has ${open} session(s) open, clients of the credential before the current one: renewing it now would refuse their next connection. ` +
          `Wait until they reconnect with the current credential (a connection pool's lifetime at most), or run \`npm run rotate -- ${stack} ${args} --force\`; nothing was changed.`,
      );
    }
  }
}

/** retireLogin (scripts/lib/retire.ts) connected as the stack's admin. */
export function retireAsAdmin(adminUrl: string, ca: string, login: string): Promise<number> {
  return asAdmin(adminUrl, ca, (admin) => retireLogin(admin, login));
}

/** Sessions of `login` now, from pg_stat_activity, asked as the admin. */
export function sessionsOf(adminUrl: string, ca: string, login: string): Promise<number> {
  return asAdmin(adminUrl, ca, async (admin) => (await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1", [login])).rows[0]!.n);
}

/** One connection as the stack's admin, its TLS as the URL's sslmode says, closed after `work`. */
async function asAdmin<T>(adminUrl: string, ca: string, work: (admin: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl.replace(/[?&]sslmode=[^&]*/, ""), ssl: sslFor(adminUrl, ca) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The URL's sslmode as libpq means it: verify-full checks the CA and the name, verify-ca the CA only (Cloud SQL's certificates name project:instance, not the address), require neither. */
function sslFor(url: string, ca: string) {
  const mode = /[?&]sslmode=([^&]*)/.exec(url)?.[1] ?? "disable";
  return mode === "verify-full" ? { ca, rejectUnauthorized: true }
    : mode === "verify-ca" ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined }
    : mode === "require" ? { rejectUnauthorized: false }
    : undefined;
}

/**
 * One key of `gaia:rotation` (a credential, or `all` for every one): its value in the stack
 * file now (`from`) and the value that moves each of its credentials one step from what the
 * stack applied (`to`). Where the file is already one step ahead for each (a run whose update
 * failed), the step is finished, not taken again (`resumed`). Anything else (the file behind
 * what was applied, more than one step ahead, or `all` with some credentials ahead and some
 * not) is refused in one sentence.
 */
export function rotationStep(key: string, credentials: readonly string[], file: Record<string, number>, applied: Record<string, number>, stack: string) {
  const from = file[key] ?? 0;
  const ahead = credentials.map((c) => ({ c, by: generationOf(file, c) - (applied[c] ?? generationOf(file, c)) }));
  if (ahead.every(({ by }) => by === 0)) return { key, from, to: from + 1, resumed: false };
  if (ahead.every(({ by }) => by === 1)) return { key, from, to: from, resumed: true };
  const odd = ahead.find(({ by }) => by !== 0 && by !== 1) ?? ahead.find(({ by }) => by === 1)!;
  throw new RotationError(
    odd.by < 0 ? `the stack file has ${odd.c} at generation ${generationOf(file, odd.c)}, behind the ${applied[odd.c]} stack ${stack} applied: use the stack file that raised it (git pull); nothing was changed.`
    : odd.by > 1 ? `the stack file has ${odd.c} at generation ${generationOf(file, odd.c)}, ${odd.by} ahead of the ${applied[odd.c]} stack ${stack} applied: set gaia:rotation so that it is at most one ahead; nothing was changed.`
    : `${odd.c} has a rotation the stack has not applied yet (generation ${generationOf(file, odd.c)}, applied ${applied[odd.c]}): finish it first with \`npm run rotate -- ${stack} ${odd.c}\`; nothing was changed.`,
  );
}

/**
 * `gaia:rotation` as the stack file holds it: a map of whole numbers, or one sentence saying what
 * to set. A scalar or a list is not taken for a map: `pulumi config set --path` on a list fails
 * after the check, and on a scalar silently replaces it.
 */
function readGenerations(text: string | undefined, stack: string): Record<string, number> {
  const notAMap = (shown: string) =>
    new RotationError(
      `gaia:rotation in Pulumi.${stack}.yaml is ${shown}, not a map of credential to generation: replace it with one (\`pulumi config rm gaia:rotation -s ${stack}\`, then \`pulumi config set --path gaia:rotation.<credential> <n> -s ${stack}\` for each, at what the stack applied); nothing was changed.`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text ?? "{}");
  } catch {
    throw notAMap(JSON.stringify(text));
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw notAMap(JSON.stringify(value));
  const entries = Object.entries(value);
  // A whole number a step can be added to: past 2^53 adding one changes nothing (9007199254740992 + 1), a "rotation" that renews nothing.
  const bad = entries.find(([, n]) => !Number.isSafeInteger(n) || (n as number) < 0 || !Number.isSafeInteger((n as number) + 1));
  if (bad) throw new RotationError(`gaia:rotation.${bad[0]} in Pulumi.${stack}.yaml is ${JSON.stringify(bad[1])}: set it to a whole number below 2^53 (\`pulumi config set --path gaia:rotation.${bad[0]} <n> -s ${stack}\`); nothing was changed.`);
  return Object.fromEntries(entries) as Record<string, number>;
}

/** The settings rotate reads from the stack file itself, each of the type the program takes. */
interface StackSettings {
  platform?: string;
  services?: string[];
  environment?: string;
}

const isString = (value: unknown) => typeof value === "string";
const SETTING_TYPES: Record<keyof StackSettings, { ok: (value: unknown) => boolean; fix: (stack: string) => string }> = {
  platform: { ok: isString, fix: (stack) => `set it to a platform's name (\`pulumi config set gaia:platform <name> -s ${stack}\`)` },
  environment: { ok: isString, fix: (stack) => `set it to the environment's name (\`pulumi config set gaia:environment <name> -s ${stack}\`)` },
  services: { ok: (value) => Array.isArray(value) && value.every(isString), fix: () => "set it to a list of service names (`gaia:services: [chat, auth]` under config:)" },
};

/**
 * The stack file's settings, or one sentence naming the file, the key and the fix: a hand edit
 * may leave YAML that does not parse (StackFileError, from the file itself) or a value of the
 * wrong type (a string where a list belongs), which would otherwise surface as a stack trace or
 * as a list of the string's letters.
 */
function stackSettings(stack: string, root: string): StackSettings {
  let config: Record<string, string>;
  try {
    config = readStackFile(stack, root).config;
  } catch (error) {
    // Several problems are listed under a line that already says nothing was changed; one that asks "did you mean …?" keeps its question.
    if (error instanceof StackFileError) {
      const { message, problems } = error;
      throw new RotationError(problems.length > 1 ? message : message.endsWith("?") ? `${message} Nothing was changed.` : `${message.replace(/\.$/, "")}; nothing was changed.`);
    }
    throw error;
  }
  const raw = decodeStackConfig(config);
  for (const [key, type] of Object.entries(SETTING_TYPES)) {
    if (raw[key] !== undefined && !type.ok(raw[key])) {
      throw new RotationError(`gaia:${key} in Pulumi.${stack}.yaml is ${JSON.stringify(raw[key])}: ${type.fix(stack)}; nothing was changed.`);
    }
  }
  return raw as StackSettings;
}

/** A config value through the Pulumi CLI; its failure (not a missing key, which is undefined) in one sentence. */
async function readConfig(target: RotationStack, key: string, stack: string): Promise<string | undefined> {
  return target.getConfigValue(key).catch((error: unknown) => {
    throw new RotationError(`could not read ${key} of Pulumi.${stack}.yaml with the Pulumi CLI (${redact(firstLine(error))}): nothing was changed.`);
  });
}

/** One generation written through the Pulumi CLI; a failure says what a rerun does (it finishes, never raises twice). */
async function writeGeneration(target: RotationStack, key: string, to: number, stack: string, rerun: string): Promise<void> {
  await target.setConfigValue(`gaia:rotation.${key}`, String(to)).catch((error: unknown) => {
    throw new RotationError(
      `could not set gaia:rotation.${key} to ${to} in Pulumi.${stack}.yaml with the Pulumi CLI (${redact(firstLine(error))}): nothing was deployed; run \`npm run rotate -- ${stack} ${rerun}\` again once it can be written (it will not raise what it already wrote).`,
    );
  });
}

/** The line of an error that says what failed: the first naming an error (the engine's and the CLI's put a header first), or else the first. */
const firstLine = (error: unknown) => {
  const lines = (error instanceof Error ? error.message : String(error)).split("\n").map((l) => l.trim()).filter(Boolean);
  const at = Math.max(0, lines.findIndex((l) => /\berror\b/i.test(l)));
  const line = lines[at] ?? "no message";
  // A header that announces what follows ("… problem(s); nothing was created or changed:") is nothing without it.
  return line.endsWith(":") && lines[at + 1] ? `${line} ${lines[at + 1]}` : line;
};

/**
 * What the rotation's `pulumi up` adds to a plain one: the policy pack deploys run with, named by
 * GAIA_POLICY_PACK (the rotation job sets it as deploy-stack.yml passes `--policy-pack`), handed to
 * the CLI as `--policy-pack` (@pulumi/pulumi 3.270.0 automation/stack.js UpOptions.policyPacks).
 */
export function upOptions(env: NodeJS.ProcessEnv = process.env): { policyPacks?: string[] } {
  return env.GAIA_POLICY_PACK ? { policyPacks: [env.GAIA_POLICY_PACK] } : {};
}

/** The stack through Pulumi's Automation API (a local program in `root`; scripts/lib/automation.ts). */
export async function openStack(stack: string, root: string, options: AutomationOptions = {}): Promise<RotationStack> {
  const { LocalWorkspace, workspaceOptions } = await automation(options);
  const s = await LocalWorkspace.selectStack({ stackName: stack, workDir: root }, workspaceOptions);
  return {
    // Only a key that is not set reads as undefined: any other failure (a backend out of reach)
    // would otherwise read as no generations at all.
    getConfigValue: async (key) =>
      s.getConfig(key, true).then(
        (v) => v.value,
        (error: unknown) => {
          if (/configuration key '[^']*' not found/.test(String((error as Error).message))) return undefined;
          throw error;
        },
      ),
    setConfigValue: (key, value) => s.setConfig(key, { value }, true),
    up: async () => outputValues((await withProgress((onOutput) => s.up({ onOutput, ...upOptions() }))).outputs),
    outputs: async () => outputValues(await s.outputs()),
  };
}

/** A credential that does not log in: who (login@host, never the password) and why, apart for the messages that list several. */
export class LoginRefusedError extends RotationError {
  constructor(kind: "postgres" | "redis", who: string, readonly why: string) {
    super(`the rotated ${kind} credential for ${who} does not log in (${why}): the previous one still works; run the rotation again once that is fixed.`);
  }
}

/** Connects with the credential and runs one command; a refusal is a sentence that names the login, never its password. */
export async function credentialLogsIn(kind: "postgres" | "redis", url: string, ca: string): Promise<void> {
  // An update that left no URL for it (an output missing) is a sentence too, not a TypeError's trace.
  if (!URL.canParse(url)) throw new RotationError(`the update left no ${kind} URL to check the rotated credential with (the stack's outputs lack it): run \`pulumi up\` again and check its outputs.`);
  const who = `${decodeURIComponent(new URL(url).username) || "default"}@${new URL(url).host}`;
  try {
    if (kind === "postgres") {
      const client = new Client({ connectionString: url.replace(/[?&]sslmode=[^&]*/, ""), ssl: sslFor(url, ca) });
      await client.connect();
      await client.query("select 1");
      await client.end();
    } else {
      const client = createClient({ url, socket: { connectTimeout: 5_000, reconnectStrategy: false, ...(ca ? { tls: true as const, ca } : {}) } });
      client.on("error", () => undefined);
      await client.connect();
      await client.ping();
      await client.quit();
    }
  } catch (error) {
    throw new LoginRefusedError(kind, who, (error as Error).message);
  }
}

if (require.main === module) {
  rememberEnvironmentSecrets();
  rotate(process.argv.slice(2)).then(
    (lines) => console.log(lines.join("\n")),
    (error: unknown) => {
      // An expected failure is one sentence; anything else shows where it came from, redacted (the stack's outputs, read
      // with their secrets, are remembered: scripts/lib/automation.ts outputValues).
      console.error(redact(error instanceof RotationError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)));
      process.exit(1);
    },
  );
}
