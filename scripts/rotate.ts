/**
 * Rotates credentials with no downtime: `npm run rotate -- <stack> [credential ...|--all]`.
 * Raises each credential's generation in the stack's config (`gaia:rotation`, see
 * components/rotation.ts), runs `pulumi up` through Pulumi's Automation API, checks that each
 * rotated credential logs in, and prints what rotated: login names and generations, never a
 * secret. Needs what `pulumi up -s <stack>` needs (the CLI, its backend, cloud credentials).
 */
import { Client } from "pg";
import { createClient } from "redis";
import { decodeStackConfig } from "../components/config";
import { platformNamed } from "../components/platforms";
import { rotatableCredentials, whyNotRotatable } from "../components/rotation";
import { SERVICE_ROLE_NAMES } from "../policy/access";
import { automation, outputValues, withProgress, type AutomationOptions } from "./lib/automation";
import { PROJECT_ROOT, readStackFile, stackNames } from "./lib/stackFile";

/** What rotation needs of a stack: its config (by path) and an update. The Automation API's stack, or a test's. */
export interface RotationStack {
  getConfigValue(key: string): Promise<string | undefined>;
  setConfigValue(key: string, value: string): Promise<void>;
  /** `pulumi up`; the stack's outputs, secrets decrypted. */
  up(): Promise<Record<string, unknown>>;
}

/** A request that cannot be carried out, said in one sentence; nothing was changed. */
export class RotationError extends Error {}

export interface RotateOptions {
  root?: string;
  open?: (stack: string, root: string) => Promise<RotationStack>;
  /** Proves a rotated credential logs in; throws a sentence if not. */
  logsIn?: (kind: "postgres" | "redis", url: string, ca: string) => Promise<void>;
}

export async function rotate(args: string[], options: RotateOptions = {}): Promise<string[]> {
  const root = options.root ?? PROJECT_ROOT;
  const [stack, ...rest] = args;
  const stacks = stackNames(root);
  if (!stack || stack.startsWith("-")) throw new RotationError(`name a stack: npm run rotate -- <${stacks.join("|")}> [credential ...|--all]`);
  if (!stacks.includes(stack)) throw new RotationError(`no stack file Pulumi.${stack}.yaml: use one of ${stacks.join(", ")}.`);
  const raw = decodeStackConfig(readStackFile(stack, root).config) as { platform?: string; services?: string[] };
  const services = raw.services ?? SERVICE_ROLE_NAMES;
  // A platform the registry does not know refuses nothing here; resolving the stack refuses it.
  const cannotRotate = platformNamed(raw.platform ?? "")?.cannotRotate ?? {};
  const known = rotatableCredentials(services, cannotRotate);
  const all = rest.includes("--all");
  const named = rest.filter((a) => a !== "--all");
  const unknown = named.filter((c) => !known.includes(c));
  const refused = unknown.map((c) => [c, whyNotRotatable(c, services, cannotRotate)] as const).find(([, why]) => why);
  if (refused) throw new RotationError(`${refused[0]} cannot be rotated on ${raw.platform}: ${refused[1]}.`);
  if (unknown.length) throw new RotationError(`${unknown.join(", ")} ${unknown.length > 1 ? "are" : "is"} not a credential of stack ${stack}: use ${known.join(", ")} or --all.`);
  if (!all && named.length === 0) throw new RotationError(`name the credentials to rotate (${known.join(", ")}) or --all.`);

  const target = await (options.open ?? openStack)(stack, root);
  const bumps: { key: string; from: number }[] = [];
  for (const key of all ? ["all"] : named) {
    const from = Number((await target.getConfigValue(`gaia:rotation.${key}`)) ?? 0);
    await target.setConfigValue(`gaia:rotation.${key}`, String(from + 1));
    bumps.push({ key, from });
  }
  const outputs = await target.up();
  const rotated = all ? known : named;
  const urls = (outputs.connectionUrls ?? {}) as Record<string, string>;
  const logsIn = options.logsIn ?? credentialLogsIn;
  const lines = bumps.map(({ key, from }) => `gaia:rotation.${key}: ${from} -> ${from + 1}`);
  for (const credential of rotated) {
    if (credential === "redis") {
      await logsIn("redis", String(outputs.redisUrl ?? ""), String(outputs.redisCa ?? ""));
      lines.push("redis rotated: the new password logs in");
    } else if (credential === "admin") {
      await logsIn("postgres", String(outputs.adminUrl ?? ""), String(outputs.postgresCa ?? ""));
      lines.push("admin rotated: the new password logs in");
    } else if (credential === "adminApiKey") {
      // Not a login: the schema command made the new key the admin's only active bootstrap key.
      lines.push("adminApiKey rotated: the new key is the admin's bootstrap key, the previous one is deactivated");
    } else {
      const url = urls[credential];
      if (!url) throw new RotationError(`the update left no URL for ${credential} in the stack's connectionUrls output.`);
      await logsIn("postgres", url, String(outputs.postgresCa ?? ""));
      lines.push(`${credential} rotated: now login ${decodeURIComponent(new URL(url).username)}, which logs in`);
    }
  }
  return lines;
}

/** The stack through Pulumi's Automation API (a local program in `root`; scripts/lib/automation.ts). */
export async function openStack(stack: string, root: string, options: AutomationOptions = {}): Promise<RotationStack> {
  const { LocalWorkspace, workspaceOptions } = await automation(options);
  const s = await LocalWorkspace.selectStack({ stackName: stack, workDir: root }, workspaceOptions);
  return {
    getConfigValue: async (key) => s.getConfig(key, true).then((v) => v.value, () => undefined),
    setConfigValue: (key, value) => s.setConfig(key, { value }, true),
    up: async () => outputValues((await withProgress((onOutput) => s.up({ onOutput }))).outputs),
  };
}

/** Connects with the credential and runs one command; a refusal is a sentence that names the login, never its password. */
export async function credentialLogsIn(kind: "postgres" | "redis", url: string, ca: string): Promise<void> {
  const who = `${decodeURIComponent(new URL(url).username) || "default"}@${new URL(url).host}`;
  try {
    if (kind === "postgres") {
      // The URL's sslmode as libpq means it: verify-full checks the CA and the name, verify-ca the
      // CA only (Cloud SQL's certificates name project:instance, not the address), require neither.
      const mode = /[?&]sslmode=([^&]*)/.exec(url)?.[1] ?? "disable";
      const ssl = mode === "verify-full" ? { ca, rejectUnauthorized: true }
        : mode === "verify-ca" ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined }
        : mode === "require" ? { rejectUnauthorized: false }
        : undefined;
      const client = new Client({ connectionString: url.replace(/[?&]sslmode=[^&]*/, ""), ssl });
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
    throw new RotationError(`the rotated ${kind} credential for ${who} does not log in (${(error as Error).message}): the previous one still works; run the rotation again once that is fixed.`);
  }
}

if (require.main === module) {
  rotate(process.argv.slice(2)).then(
    (lines) => console.log(lines.join("\n")),
    (error: unknown) => {
      console.error(error instanceof RotationError ? error.message : error);
      process.exit(1);
    },
  );
}
