import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { transformSync } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outputValues } from "../../scripts/lib/automation";
import { planStack } from "../../scripts/lib/offline";
import { docBlocks } from "../support/docs";
import { startTestPostgres } from "../support/embedded";
import type { EmbeddedServer } from "../../scripts/lib/embeddedPostgres";
import { PROJECT_ROOT, readStackConfig, readStackFile } from "../../scripts/lib/stackFile";
import { LoginRefusedError, RotationError, credentialLogsIn, openStack, retireAsAdmin, rotate, sessionsOf, upOptions, type RotationStack } from "../../scripts/rotate";
import { SessionsLeftError, quoteLiteral, retireLogin } from "../../scripts/lib/retire";
import { SLOTS, type Slot } from "../../components/rotation";
import { cliProject } from "../support/pulumiCli";
import { query, withClient } from "../support/postgres";
import { SERVICE_ROLE_NAMES } from "../../policy/access";
import { NOT_A_SERVICE } from "../support/services";
import { stackOn } from "../support/stacks";

/**
 * `npm run rotate`: the config bump through the Automation API and the real Pulumi CLI (file
 * backend, passphrase), the update injected (the engine cannot run here: it plans the program
 * with the stack's new config instead), the login check against PostgreSQL 17 that checks passwords.
 */
function localProject() {
  const project = cliProject([path.join(PROJECT_ROOT, "Pulumi.local.yaml")]);
  project.pulumi("stack", "init", "local");
  const pulumiRoot = path.dirname(path.dirname(project.cli));
  const envVars = Object.fromEntries(Object.entries(project.env).filter((e): e is [string, string] => e[1] !== undefined));
  const updates: Record<string, unknown>[] = [];
  /** What the stack's last successful update left as its outputs, as the engine keeps them in the state; none before the first. */
  const state: { outputs: Record<string, unknown> } = { outputs: {} };
  const failing = { updates: 0 };
  const planned = async (stack: string, root: string) => {
    const { config, secretKeys } = readStackConfig(stack, { root, pulumi: project.cli, env: project.env });
    return outputValues((await planStack(stack, config, secretKeys)).outputs);
  };
  const open = async (stack: string, root: string): Promise<RotationStack> => {
    const real = await openStack(stack, root, { pulumiRoot, envVars });
    return {
      ...real,
      // In place of the engine: the program under the mocked runtime with the config the CLI now
      // holds; a failing update (as an unreachable server fails it) leaves the outputs as they were.
      up: async () => {
        if (failing.updates > 0) {
          failing.updates--;
          throw new Error("update failed:\n  postgresql:index:Role (gaia_local_chat_b): error: dial tcp 127.0.0.1:5432: connect: connection refused");
        }
        const outputs = await planned(stack, root);
        updates.push(outputs);
        state.outputs = outputs;
        return outputs;
      },
      outputs: async () => state.outputs,
    };
  };
  /** The stack as a first `pulumi up` leaves it. */
  const deploy = async () => void (state.outputs = await planned("local", project.root));
  const checked: string[] = [];
  /** Logins that do not log in, as a server refuses a password it does not hold. */
  const refusing = new Set<string>();
  const logsIn = async (kind: "postgres" | "redis", url: string) => {
    const login = decodeURIComponent(new URL(url).username);
    if (refusing.has(login)) throw new LoginRefusedError(kind, `${login}@${new URL(url).host}`, `password authentication failed for user "${login}"`);
    checked.push(`${kind} ${login}`);
  };
  /** Sessions open per login, as pg_stat_activity would say (none unless a test says so). */
  const sessions: Record<string, number> = {};
  const sessionsOf = async (_admin: string, _ca: string, login: string) => sessions[login] ?? 0;
  /** Logins retiring was tried on, each after the checks of the new ones (`checked` at that moment); how it fails, by login (none unless a test says so). */
  const retired: { login: string; checkedBefore: string[] }[] = [];
  const retireFailures: Record<string, Error> = {};
  const retire = async (_admin: string, _ca: string, login: string) => {
    retired.push({ login, checkedBefore: [...checked] });
    if (retireFailures[login]) throw retireFailures[login];
    return 3;
  };
  return { project, updates, checked, failing, deploy, sessions, refusing, retired, retireFailures, state, options: { root: project.root, open, logsIn, sessionsOf, retire } };
}

/**
 * Logins `<prefix>_a` and `_b` on a PostgreSQL 17, created as the stack's admin does: the
 * superuser, or a CREATEROLE admin of their own as a cloud's is (PostgreSQL 16+ grants it the
 * logins WITH ADMIN, not INHERIT: it may not end their sessions without pg_signal_backend).
 */
let createroleAdmins = 0;
async function retireLogins(server: EmbeddedServer, prefix: string, admin: "superuser" | "createrole") {
  const url = (user: string, password: string) => `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/postgres?sslmode=disable`;
  const superuserUrl = url("postgres", server.password);
  const adminRole = admin === "createrole" ? `cloud_admin_${++createroleAdmins}` : "postgres";
  if (admin === "createrole") await withClient(superuserUrl, (root) => root.query(`CREATE ROLE ${adminRole} LOGIN CREATEROLE PASSWORD 'pw-cloud-admin-1'`));
  const adminUrl = admin === "createrole" ? url(adminRole, "pw-cloud-admin-1") : superuserUrl;
  const password = (slot: Slot) => `pw-retire-${slot}`;
  await withClient(adminUrl, async (client) => {
    for (const slot of SLOTS) await client.query(`CREATE ROLE ${client.escapeIdentifier(`${prefix}_${slot}`)} LOGIN PASSWORD ${client.escapeLiteral(password(slot))}`);
  });
  const connect = (slot: Slot) => new Client({ connectionString: url(`${prefix}_${slot}`, password(slot)) });
  /** A session of the slot's login, held open; its end (the server's termination) is not an uncaught error. */
  const hold = async (slot: Slot) => {
    const client = connect(slot);
    await client.connect();
    client.on("error", () => undefined);
    return client;
  };
  return { adminRole, adminUrl, superuserUrl, connect, hold };
}

describe("npm run rotate", () => {
  let handEdited: Promise<ReturnType<typeof localProject> & { deployed: string }> | undefined;

  it("raises the generation through the CLI, updates, checks the new login, and prints no secret", async () => {
    const { project, updates, checked, deploy, options } = localProject();
    await deploy();
    const lines = await rotate(["local", "chat"], options);
    expect(lines).toEqual(["gaia:rotation.chat: 0 -> 1", "chat rotated: now login gaia_local_chat_b, which logs in"]);
    expect(readStackFile("local", project.root).config["gaia:rotation"]).toBe('{"chat":1}');
    expect(checked).toEqual(["postgres gaia_local_chat_b"]);
    const urls = updates[0]!.connectionUrls as Record<string, string>;
    expect(new URL(urls.chat!).username).toBe("gaia_local_chat_b");
    expect(new URL(urls.auth!).username).toBe("gaia_local_auth_a");
    for (const url of Object.values(urls)) expect(lines.join("\n")).not.toContain(decodeURIComponent(new URL(url).password));

    // The next rotation alternates back; --all moves every credential, redis included.
    expect((await rotate(["local", "chat"], options))[0]).toBe("gaia:rotation.chat: 1 -> 2");
    expect(new URL((updates[1]!.connectionUrls as Record<string, string>).chat!).username).toBe("gaia_local_chat_a");
    const everything = await rotate(["local", "--all"], options);
    expect(everything[0]).toBe("gaia:rotation.all: 0 -> 1");
    expect(everything).toContain("redis rotated: the new password logs in");
    expect(everything).toContain("adminApiKey rotated: the new key is the admin's bootstrap key, the previous one is deactivated");
    // Every PostgreSQL role of the policy, each service included (chat, assets, auth and any added since), then Redis.
    const roles = ["owner", "analytics", ...SERVICE_ROLE_NAMES];
    expect(checked.slice(-(roles.length + 1))).toEqual([...roles.map((r) => `postgres gaia_local_${r}_b`), "redis gaia_local"]);
    expect(JSON.parse(readStackFile("local", project.root).config["gaia:rotation"]!)).toEqual({ all: 1, chat: 2 });
  });

  it.each([
    [["local", NOT_A_SERVICE], `${NOT_A_SERVICE} is not a credential of stack local: use owner, analytics, ${SERVICE_ROLE_NAMES.join(", ")}, redis, adminApiKey or --all.`],
    [["local"], `name the credentials to rotate (owner, analytics, ${SERVICE_ROLE_NAMES.join(", ")}, redis, adminApiKey) or --all.`],
    // A name that is an Object's own property elsewhere (attack of 2026-12-05): no platform's reason.
    [["local", "toString"], `toString is not a credential of stack local: use owner, analytics, ${SERVICE_ROLE_NAMES.join(", ")}, redis, adminApiKey or --all.`],
    [["local", "chat", "admin"], "admin cannot be rotated on local: the admin of a local stack is your own (gaia:local.postgresUrl): change its password on the server, then `pulumi config set --secret gaia:local.postgresUrl` with the new URL."],
    [["qa", "chat"], "no stack file Pulumi.qa.yaml: use one of local."],
    [["local", "redis", "--retire-previous"], "--retire-previous retires PostgreSQL logins; Redis keeps the previous password until the next rotation: run `npm run rotate -- local redis` twice (the second renews the leaked one); nothing was changed."],
    [["local", "adminApiKey", "--retire-previous"], `adminApiKey has no previous login to retire: --retire-previous retires those of owner, analytics, ${SERVICE_ROLE_NAMES.join(", ")}; nothing was changed.`],
    [["local", "chat", "--retire-previous", "--force"], "--retire-previous rotates nothing, so it takes neither --revoke nor --force: run `npm run rotate -- local chat --retire-previous`; nothing was changed."],
  ])("refuses %j in one sentence and changes nothing", async (args, message) => {
    const { project, updates, deploy, options } = localProject();
    await deploy();
    const before = readFileSync(path.join(project.root, "Pulumi.local.yaml"), "utf8");
    await expect(rotate(args, options)).rejects.toThrow(new RotationError(message));
    expect(readFileSync(path.join(project.root, "Pulumi.local.yaml"), "utf8")).toBe(before);
    expect(updates).toEqual([]);
  });

  it.each([
    ["redis", "redis cannot be rotated on fly: Upstash's `fly redis reset` refuses the old password at once and every app must be given the new URL: do it in a maintenance window as docs/rotation.md says."],
  ])("refuses %s on a Fly stack with why, changing nothing", async (credential, message) => {
    const { project, updates, options } = localProject();
    const flyStack = path.join(project.root, "Pulumi.qa.yaml");
    writeFileSync(flyStack, `config:\n${Object.entries(stackOn("staging", "fly")).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join("\n")}\n`);
    const before = readFileSync(flyStack, "utf8");
    await expect(rotate(["qa", credential], options)).rejects.toThrow(new RotationError(message));
    expect(readFileSync(flyStack, "utf8")).toBe(before);
    expect(updates).toEqual([]);
  });

  it("rotates a role on a Fly stack: the renewed slot's user attached to its app, staged, no URL through the stack; slot b then a", async () => {
    const { project, options } = localProject();
    const config: Record<string, string> = { ...stackOn("staging", "fly"), "gaia:preset": "staging" };
    writeFileSync(path.join(project.root, "Pulumi.qa.yaml"), `config:\n${Object.entries(config).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join("\n")}\n`);
    const planned = async () => outputValues((await planStack("qa", config)).outputs);
    let applied = await planned();
    // The stack's config and state in memory: `gaia:rotation.<key>` set by path, as the CLI does.
    const open = async (): Promise<RotationStack> => ({
      getConfigValue: async (key) => config[key],
      setConfigValue: async (key, value) => {
        const [, credential] = key.split(".");
        config["gaia:rotation"] = JSON.stringify({ ...JSON.parse(config["gaia:rotation"] ?? "{}"), [credential!]: Number(value) });
      },
      up: async () => (applied = await planned()),
      outputs: async () => applied,
    });
    const staged = "(staged: the app's next deploy takes it; the previous user works until the next rotation)";
    expect(await rotate(["qa", "chat"], { ...options, open })).toEqual(["gaia:rotation.chat: 0 -> 1", `chat rotated: now Fly user gaia_qa_chat_b, attached as gaia-chat:GAIA_DATABASE_URL ${staged}`]);
    expect(await rotate(["qa", "chat"], { ...options, open })).toEqual(["gaia:rotation.chat: 1 -> 2", `chat rotated: now Fly user gaia_qa_chat_a, attached as gaia-chat:GAIA_DATABASE_URL ${staged}`]);
    // --revoke needs the stack's admin, which Fly keeps.
    await expect(rotate(["qa", "chat", "--revoke"], { ...options, open })).rejects.toThrow(
      new RotationError("--revoke retires the previous login as the stack's admin, and stack qa has none of the component's (its platform keeps its admin): rotate without --revoke; nothing was changed."),
    );
  });

  it("moves chat one step at most through two failed updates and a doubled name, each failure one sentence that says what to run", async () => {
    const { project, updates, failing, deploy, options } = localProject();
    await deploy();
    const chat = () => JSON.parse(readStackFile("local", project.root).config["gaia:rotation"] ?? "{}").chat ?? 0;
    failing.updates = 2;
    for (let run = 0; run < 2; run++) {
      const failure = await rotate(["local", "chat"], options).then(() => undefined, (error: unknown) => error);
      expect(failure).toBeInstanceOf(RotationError);
      const message = (failure as Error).message;
      expect(message).toBe(
        "pulumi up failed (postgresql:index:Role (gaia_local_chat_b): error: dial tcp 127.0.0.1:5432: connect: connection refused): the stack file asks for chat at 1 and the stack still holds what it applied before, which keeps working; " +
          "run `npm run rotate -- local chat` again to finish this rotation (it will not raise the generations again).",
      );
      expect(message, "one sentence, no stack trace").not.toContain("\n");
      expect(chat(), `after failed run ${run + 1}`).toBe(1);
    }
    expect(updates).toEqual([]);
    const lines = await rotate(["local", "chat", "chat"], options);
    expect(lines[0]).toBe("gaia:rotation.chat: 1 (the step the stack file already asked for, finished now)");
    expect(chat()).toBe(1);
    expect(updates).toHaveLength(1);
    expect(new URL((updates[0]!.connectionUrls as Record<string, string>).chat!).username).toBe("gaia_local_chat_b");
    // Applied now: the next run takes the next step, one.
    expect((await rotate(["local", "chat", "chat"], options))[0]).toBe("gaia:rotation.chat: 1 -> 2");
  });

  it("refuses a stack file behind or ahead of what the stack applied, and a stack with nothing applied, changing nothing", async () => {
    const { project, updates, deploy, options } = localProject();
    const stackFile = path.join(project.root, "Pulumi.local.yaml");
    await expect(rotate(["local", "chat"], options)).rejects.toThrow(new RotationError("stack local has no applied generations (its `rotation` output): run `pulumi up -s local` once with this version, then rotate; nothing was changed."));
    project.pulumi("config", "set", "-s", "local", "--path", "gaia:rotation.chat", "2");
    await deploy();
    project.pulumi("config", "set", "-s", "local", "--path", "gaia:rotation.chat", "1");
    let before = readFileSync(stackFile, "utf8");
    await expect(rotate(["local", "chat"], options)).rejects.toThrow(new RotationError("the stack file has chat at generation 1, behind the 2 stack local applied: use the stack file that raised it (git pull); nothing was changed."));
    project.pulumi("config", "set", "-s", "local", "--path", "gaia:rotation.chat", "4");
    before = readFileSync(stackFile, "utf8");
    await expect(rotate(["local", "chat"], options)).rejects.toThrow(new RotationError("the stack file has chat at generation 4, 2 ahead of the 2 stack local applied: set gaia:rotation so that it is at most one ahead; nothing was changed."));
    expect(readFileSync(stackFile, "utf8")).toBe(before);
    project.pulumi("config", "set", "-s", "local", "--path", "gaia:rotation.chat", "3");
    await expect(rotate(["local", "--all"], options)).rejects.toThrow(new RotationError("chat has a rotation the stack has not applied yet (generation 3, applied 2): finish it first with `npm run rotate -- local chat`; nothing was changed."));
    expect(updates).toEqual([]);
  });

  it("refuses to rotate when the stack's outputs cannot be read, or its config cannot be read or written, saying so and what was changed", async () => {
    const { project, updates, deploy, options } = localProject();
    await deploy();
    const stackFile = path.join(project.root, "Pulumi.local.yaml");
    const before = readFileSync(stackFile, "utf8");
    const failing = (what: Partial<Record<keyof RotationStack, () => Promise<never>>>) => ({
      ...options,
      open: async (stack: string, root: string) => ({ ...(await options.open(stack, root)), ...what }),
    });
    const outage = () => Promise.reject(new Error("error: failed to load checkpoint: blob (key \".pulumi/stacks/gaia-database/local.json\") (code=Unknown): read: connection reset by peer"));
    await expect(rotate(["local", "chat"], failing({ outputs: outage }))).rejects.toThrow(
      new RotationError(
        "could not read the outputs of stack local, which say what it applied (error: failed to load checkpoint: blob (key \".pulumi/stacks/gaia-database/local.json\") (code=Unknown): read: connection reset by peer): nothing was changed; run again once `pulumi stack output -s local` works.",
      ),
    );
    await expect(rotate(["local", "chat"], failing({ getConfigValue: outage }))).rejects.toThrow(
      new RotationError(
        "could not read gaia:rotation of Pulumi.local.yaml with the Pulumi CLI (error: failed to load checkpoint: blob (key \".pulumi/stacks/gaia-database/local.json\") (code=Unknown): read: connection reset by peer): nothing was changed.",
      ),
    );
    expect(readFileSync(stackFile, "utf8")).toBe(before);
    await expect(rotate(["local", "chat"], failing({ setConfigValue: () => Promise.reject(new Error("error: open Pulumi.local.yaml: permission denied")) }))).rejects.toThrow(
      new RotationError(
        "could not set gaia:rotation.chat to 1 in Pulumi.local.yaml with the Pulumi CLI (error: open Pulumi.local.yaml: permission denied): nothing was deployed; run `npm run rotate -- local chat` again once it can be written (it will not raise what it already wrote).",
      ),
    );
    expect(updates).toEqual([]);
  });

  it("refuses to renew a login that still has sessions, saying how long to wait or to force it, and --force rotates", async () => {
    const { project, updates, deploy, sessions, options } = localProject();
    await deploy();
    const stackFile = path.join(project.root, "Pulumi.local.yaml");
    const before = readFileSync(stackFile, "utf8");
    sessions.gaia_local_chat_b = 2;
    await expect(rotate(["local", "chat"], options)).rejects.toThrow(
      new RotationError(
        "gaia_local_chat_b still has 2 session(s) open, clients of the credential before the current one: renewing it now would refuse their next connection. " +
          "Wait until they reconnect with the current credential (a connection pool's lifetime at most), or run `npm run rotate -- local chat --force`; nothing was changed.",
      ),
    );
    expect(readFileSync(stackFile, "utf8")).toBe(before);
    expect(updates).toEqual([]);
    // Another credential's renewed login has none: it rotates.
    expect((await rotate(["local", "auth"], options))[0]).toBe("gaia:rotation.auth: 0 -> 1");
    expect((await rotate(["local", "chat", "--force"], options))[0]).toBe("gaia:rotation.chat: 0 -> 1");
  });

  it("--revoke retires the login that was current once the new one logs in, slot a then slot b, and refuses Redis", async () => {
    const { project, updates, deploy, retired, options } = localProject();
    await deploy();
    expect(await rotate(["local", "chat", "--revoke"], options)).toEqual([
      "gaia:rotation.chat: 0 -> 1",
      "chat rotated: now login gaia_local_chat_b, which logs in",
      "chat: previous login gaia_local_chat_a retired (a password nobody knows; 3 session(s) ended)",
    ]);
    expect(retired).toEqual([{ login: "gaia_local_chat_a", checkedBefore: ["postgres gaia_local_chat_b"] }]);
    // The other slot, the next time: b was current, a is renewed, b retired.
    expect((await rotate(["local", "chat", "--revoke"], options))[2]).toBe("chat: previous login gaia_local_chat_b retired (a password nobody knows; 3 session(s) ended)");
    expect(retired.map((r) => r.login)).toEqual(["gaia_local_chat_a", "gaia_local_chat_b"]);
    // Without --revoke, nothing is retired.
    await rotate(["local", "auth"], options);
    expect(retired).toHaveLength(2);

    const stackFile = path.join(project.root, "Pulumi.local.yaml");
    const before = readFileSync(stackFile, "utf8");
    const done = updates.length;
    await expect(rotate(["local", "redis", "--revoke"], options)).rejects.toThrow(
      new RotationError("--revoke retires PostgreSQL logins; Redis keeps the previous password until the next rotation: run `npm run rotate -- local redis` twice (the second renews the leaked one); nothing was changed."),
    );
    expect(readFileSync(stackFile, "utf8")).toBe(before);
    expect(updates).toHaveLength(done);
  });

  it("refuses a run that would move a credential it does not rotate, and generations that are not whole numbers, in one sentence (attack of 2026-12-05)", async () => {
    const { project, updates, deploy, failing, sessions, options } = localProject();
    await deploy();
    // A failed --all leaves every credential one ahead: resuming through one name would move them all unchecked.
    failing.updates = 1;
    await expect(rotate(["local", "--all"], options)).rejects.toThrow(RotationError);
    sessions.gaia_local_auth_b = 5;
    await expect(rotate(["local", "chat"], options)).rejects.toThrow(
      new RotationError("the stack file has owner at generation 1 and the stack applied 0: finish that rotation first with `npm run rotate -- local --all`; nothing was changed."),
    );
    expect(updates).toEqual([]);
    // Not whole numbers, as a hand edit may leave them.
    for (const [value, shown] of [['{"chat":"1"}', '"1"'], ['{"chat":1.5}', "1.5"]] as const) {
      const local = localProject();
      await local.deploy();
      local.project.pulumi("config", "set", "gaia:rotation", value, "--stack", "local");
      await expect(rotate(["local", "chat"], local.options)).rejects.toThrow(
        new RotationError(`gaia:rotation.chat in Pulumi.local.yaml is ${shown}: set it to a whole number below 2^53 (\`pulumi config set --path gaia:rotation.chat <n> -s local\`); nothing was changed.`),
      );
    }
    void project;
  });

  it.each([
    ["generations as a string", '  gaia:rotation: "1"\n', "gaia:rotation in Pulumi.local.yaml is 1, not a map of credential to generation: replace it with one (`pulumi config rm gaia:rotation -s local`, then `pulumi config set --path gaia:rotation.<credential> <n> -s local` for each, at what the stack applied); nothing was changed."],
    ["generations as a list", "  gaia:rotation: [1, 2]\n", "gaia:rotation in Pulumi.local.yaml is [1,2], not a map of credential to generation: replace it with one (`pulumi config rm gaia:rotation -s local`, then `pulumi config set --path gaia:rotation.<credential> <n> -s local` for each, at what the stack applied); nothing was changed."],
    ["generations as JSON cut short", "  gaia:rotation: '{\"chat\": 1'\n", 'gaia:rotation in Pulumi.local.yaml is "{\\"chat\\": 1", not a map of credential to generation: replace it with one (`pulumi config rm gaia:rotation -s local`, then `pulumi config set --path gaia:rotation.<credential> <n> -s local` for each, at what the stack applied); nothing was changed.'],
    ["a generation nested one level too deep", "  gaia:rotation:\n    chat:\n      all: 1\n", 'gaia:rotation.chat in Pulumi.local.yaml is {"all":1}: set it to a whole number below 2^53 (`pulumi config set --path gaia:rotation.chat <n> -s local`); nothing was changed.'],
    ["YAML indented one space short", "  gaia:rotation:\n    chat: 1\n   all: 2\n", "Pulumi.local.yaml line 8, column 1, in gaia:rotation.all: All mapping items must start at the same column: fix the YAML (keys under config:, indented with spaces); nothing was changed."],
    ["a key given twice", "  gaia:rotation: {chat: 1}\n  gaia:rotation: {chat: 2}\n", "Pulumi.local.yaml line 7, column 3, in gaia:rotation: Map keys must be unique: fix the YAML (keys under config:, indented with spaces); nothing was changed."],
    ["services as a string", "  gaia:services: chat\n", 'gaia:services in Pulumi.local.yaml is "chat": set it to a list of service names (`gaia:services: [chat, auth]` under config:); nothing was changed.'],
    // The attack of 2026-12-05 on rotation (helper-26): errors yaml raises only when it builds the values, and a name.
    ["a generation no step can be added to", "  gaia:rotation: {chat: 9007199254740992}\n", "gaia:rotation.chat in Pulumi.local.yaml is 9007199254740992: set it to a whole number below 2^53 (`pulumi config set --path gaia:rotation.chat <n> -s local`); nothing was changed."],
    ["a key that names no credential", "  gaia:rotation: {bogus: 1}\n", `gaia:rotation.bogus in Pulumi.local.yaml names no credential of stack local (owner, analytics, ${SERVICE_ROLE_NAMES.join(", ")}, redis, adminApiKey): remove it (\`pulumi config rm --path gaia:rotation.bogus -s local\`); nothing was changed.`],
    ["an alias to no anchor", "  gaia:services: *nope\n", "Pulumi.local.yaml: Unresolved alias (the anchor must be set before the alias): nope: write the value out instead of an alias (*name); nothing was changed."],
  ])("refuses a hand-edited stack file with %s in one sentence naming the file, the key and the fix, changing nothing", async (_, edit, message) => {
    // One deployed stack for every case (each refused, none updates it), its file as deployed before each edit.
    handEdited ??= (async () => {
      const local = localProject();
      await local.deploy();
      return { ...local, deployed: readFileSync(path.join(local.project.root, "Pulumi.local.yaml"), "utf8") };
    })();
    const { project, updates, options, deployed } = await handEdited;
    const stackFile = path.join(project.root, "Pulumi.local.yaml");
    writeFileSync(stackFile, deployed.replace("config:\n", `config:\n${edit}`));
    const before = readFileSync(stackFile, "utf8");
    const failure = await rotate(["local", "chat"], options).then(() => undefined, (error: unknown) => error);
    // A RotationError is what `npm run rotate` prints as its message alone; anything else, with its stack trace.
    expect(failure).toBeInstanceOf(RotationError);
    expect((failure as Error).message).toBe(message);
    expect(readFileSync(stackFile, "utf8")).toBe(before);
    expect(updates).toEqual([]);
  });

  it("reads a config key that is not set as none, and a config the CLI cannot read as an error, not as none", async () => {
    const { project } = localProject();
    const pulumiRoot = path.dirname(path.dirname(project.cli));
    const envVars = Object.fromEntries(Object.entries(project.env).filter((e): e is [string, string] => e[1] !== undefined));
    const stack = await openStack("local", project.root, { pulumiRoot, envVars });
    expect(await stack.getConfigValue("gaia:rotation")).toBeUndefined();
    writeFileSync(path.join(project.root, "Pulumi.local.yaml"), "config:\n  gaia:rotation:\n    chat: 1\n   all: 2\n");
    await expect(stack.getConfigValue("gaia:rotation")).rejects.toThrow(/error: invalid YAML file/);
  });

  it("--all --revoke tries to retire every rotated credential's previous login, then lists exactly those still alive, each with the one command that finishes it, slot a then slot b", async () => {
    const { deploy, retired, retireFailures, options } = localProject();
    await deploy();
    const roles = ["owner", "analytics", ...SERVICE_ROLE_NAMES];
    for (const slot of ["a", "b"]) {
      retired.length = 0;
      retireFailures[`gaia_local_chat_${slot}`] = new Error("connect ECONNREFUSED 127.0.0.1:5432");
      retireFailures[`gaia_local_auth_${slot}`] = new SessionsLeftError(`gaia_local_auth_${slot}`, "permission denied to terminate process");
      const others = roles.filter((r) => r !== "chat" && r !== "auth").map((r) => `gaia_local_${r}_${slot}`);
      const alive = {
        chat: `gaia_local_chat_${slot} still logs in (retiring it failed: connect ECONNREFUSED 127.0.0.1:5432): run \`npm run rotate -- local chat --retire-previous\``,
        auth: `gaia_local_auth_${slot} no longer logs in, but its open sessions could not be ended (permission denied to terminate process): end them as a role with pg_signal_backend: SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'gaia_local_auth_${slot}'`,
      };
      await expect(rotate(["local", "--all", "--revoke"], options)).rejects.toThrow(
        new RotationError(
          `${roles.join(", ")}, redis, adminApiKey rotated and ${others.length} previous logins retired (${others.join(", ")}), but 2 previous logins are still alive: ` +
            `${roles.filter((r) => r === "chat" || r === "auth").map((r) => alive[r as "chat" | "auth"]).join("; ")}.`,
        ),
      );
      // Each one tried, past the failures.
      expect(retired.map((r) => r.login)).toEqual(roles.map((r) => `gaia_local_${r}_${slot}`));
    }
    // The command given for chat finishes it: its previous login (slot b now) retired.
    delete retireFailures.gaia_local_chat_b;
    expect(await rotate(["local", "chat", "--retire-previous"], options)).toEqual([
      "chat: current login gaia_local_chat_a logs in",
      "chat: previous login gaia_local_chat_b retired (a password nobody knows; 3 session(s) ended)",
    ]);
  });

  it("--revoke whose new login does not log in retires nothing of that credential and gives the command that finishes, which never retires the current login, slot b then slot a", async () => {
    const { deploy, updates, failing, refusing, retired, state, options } = localProject();
    await deploy();
    for (const [fresh, previous] of [["b", "a"], ["a", "b"]]) {
      retired.length = 0;
      refusing.add(`gaia_local_chat_${fresh}`);
      const alive = (done: string) =>
        new RotationError(
          `${done}, but 1 previous login is still alive: gaia_local_chat_${previous} still logs in, not retired, as chat's current login gaia_local_chat_${fresh} does not log in ` +
            `(password authentication failed for user "gaia_local_chat_${fresh}"): once it does, run \`npm run rotate -- local chat --retire-previous\`.`,
        );
      await expect(rotate(["local", "chat", "--revoke"], options)).rejects.toThrow(alive("chat rotated"));
      // The command it gives, while the new login still fails: the same, nothing retired.
      await expect(rotate(["local", "chat", "--retire-previous"], options)).rejects.toThrow(alive("no previous login retired"));
      expect(retired).toEqual([]);
      // Once it logs in: the previous login retired, never the one just handed out; run twice, the same.
      refusing.delete(`gaia_local_chat_${fresh}`);
      const done = [`chat: current login gaia_local_chat_${fresh} logs in`, `chat: previous login gaia_local_chat_${previous} retired (a password nobody knows; 3 session(s) ended)`];
      expect(await rotate(["local", "chat", "--retire-previous"], options)).toEqual(done);
      expect(await rotate(["local", "chat", "--retire-previous"], options)).toEqual(done);
      expect(retired.map((r) => r.login)).toEqual([`gaia_local_chat_${previous}`, `gaia_local_chat_${previous}`]);
    }
    // From what the stack applied (chat at 2: login a current), not from the stack file: one ahead after a failed update, it changes nothing.
    failing.updates = 1;
    await expect(rotate(["local", "chat"], options)).rejects.toThrow(/^pulumi up failed/);
    expect(await rotate(["local", "chat", "--retire-previous"], options)).toEqual([
      "chat: current login gaia_local_chat_a logs in",
      "chat: previous login gaia_local_chat_b retired (a password nobody knows; 3 session(s) ended)",
    ]);
    expect(updates).toHaveLength(2);
    // Outputs at odds with each other (a URL of login a, a rotation output that makes b current): the URL's login is kept.
    state.outputs = { ...state.outputs, rotation: { ...(state.outputs.rotation as Record<string, number>), chat: 3 } };
    retired.length = 0;
    await expect(rotate(["local", "chat", "--retire-previous"], options)).rejects.toThrow(
      new RotationError(
        "no previous login retired, but 1 previous login is still alive: gaia_local_chat_b is not retired: chat's login in the stack's connectionUrls output (gaia_local_chat_a) is not the slot its rotation output (3) gives; " +
          "run `pulumi up -s local` to bring them together, then `npm run rotate -- local chat --retire-previous`.",
      ),
    );
    expect(retired).toEqual([]);
  });

  // The attack of 2026-12-05 on rotation (helper-26).
  it("--retire-previous retires the other slot of the login the stack applied, never one named from the stack file's gaia:environment", async () => {
    const { project, deploy, retired, options } = localProject();
    await deploy();
    // An environment set in the stack file and not applied yet: its logins may be another environment's on the same server.
    const file = path.join(project.root, "Pulumi.local.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace(/^( +gaia:environment:).*$/m, "$1 shared"));
    expect(readFileSync(file, "utf8")).toMatch(/gaia:environment: shared$/m);
    expect(await rotate(["local", "chat", "--retire-previous"], options)).toEqual([
      "chat: current login gaia_local_chat_a logs in",
      "chat: previous login gaia_local_chat_b retired (a password nobody knows; 3 session(s) ended)",
    ]);
    expect(retired.map((r) => r.login)).toEqual(["gaia_local_chat_b"]);
  });

  it("says an update that failed after the stack applied the rotation is done, and to run pulumi up, never the rotation again (a second step)", async () => {
    const { deploy, updates, options } = localProject();
    await deploy();
    // A failure after the outputs were recorded, as a mandatory policy at the end of the update fails it.
    const open: typeof options.open = async (stack, root) => {
      const real = await options.open(stack, root);
      return { ...real, up: async () => {
        await real.up();
        throw new Error("error: preview failed: mandatory policy violation");
      } };
    };
    await expect(rotate(["local", "chat"], { ...options, open })).rejects.toThrow(
      new RotationError(
        "pulumi up failed (error: preview failed: mandatory policy violation) after the stack applied the rotation (chat at 1): the new logins are in place; " +
          "fix what failed and run `pulumi up -s local`, never the rotation again, which would take a second step.",
      ),
    );
    expect(updates).toHaveLength(1);
  });

  it("--all --revoke whose Redis credential does not log in still retires every PostgreSQL login and lists Redis with what to run, renewing nothing in use", async () => {
    const { deploy, refusing, retired, options } = localProject();
    await deploy();
    refusing.add("gaia_local");
    const roles = ["owner", "analytics", ...SERVICE_ROLE_NAMES];
    await expect(rotate(["local", "--all", "--revoke"], options)).rejects.toThrow(
      new RotationError(
        `${roles.join(", ")}, redis, adminApiKey rotated and ${roles.length} previous logins retired (${roles.map((r) => `gaia_local_${r}_a`).join(", ")}), but 1 previous login is still alive: ` +
          'the rotated redis credential does not log in (password authentication failed for user "gaia_local"), so its previous one still works and is kept: once that is fixed, run `pulumi up -s local`, which applies the same credential again (a rotation now would renew the one in use).',
      ),
    );
    expect(retired.map((r) => r.login)).toEqual(roles.map((r) => `gaia_local_${r}_a`));
  });

  describe("retiring a login on PostgreSQL 17", () => {
    let server: EmbeddedServer;
    beforeAll(async () => void (server = await startTestPostgres("retire")));
    afterAll(async () => server?.stop());

    it("retires a login on PostgreSQL 17: its password refused, its sessions ended within a second, the current login serving", async () => {
      const pg = await retireLogins(server, "gaia_x_chat", "superuser");
      const held = await pg.hold("a");
      const lost = new Promise<number>((resolve) => held.on("error", () => resolve(Date.now())));
      const start = Date.now();
      expect(await retireAsAdmin(pg.adminUrl, "", "gaia_x_chat_a")).toBe(1);
      expect((await lost) - start).toBeLessThan(1_000);
      await expect(held.query("select 1")).rejects.toThrow();
      // The retired password is refused (28P01); the other login still serves.
      await expect(pg.connect("a").connect()).rejects.toMatchObject({ code: "28P01" });
      const current = await pg.hold("b");
      expect((await current.query("select current_user as who")).rows[0].who).toBe("gaia_x_chat_b");
      await current.end();
      expect(await sessionsOf(pg.adminUrl, "", "gaia_x_chat_a")).toBe(0);
    });

    it("retires a login as a CREATEROLE admin with or without pg_signal_backend: with it, its sessions end; without, the password is still retired and the message says what is left", async () => {
      const pg = await retireLogins(server, "gaia_y_chat", "createrole");
      const held = await pg.hold("a");
      await expect(retireAsAdmin(pg.adminUrl, "", "gaia_y_chat_a")).rejects.toThrow(
        /^gaia_y_chat_a no longer logs in, but its open sessions could not be ended \(permission denied to terminate process\): end them as a role with pg_signal_backend: SELECT pg_terminate_backend\(pid\) FROM pg_stat_activity WHERE usename = 'gaia_y_chat_a'$/,
      );
      await expect(pg.connect("a").connect()).rejects.toMatchObject({ code: "28P01" });
      expect((await held.query("select 1 as one")).rows[0].one).toBe(1);

      // Granted pg_signal_backend, as RDS's rds_superuser holds it: the sessions end too.
      await withClient(pg.superuserUrl, (root) => root.query(`GRANT pg_signal_backend TO ${pg.adminRole}`));
      const heldB = await pg.hold("b");
      expect(await retireAsAdmin(pg.adminUrl, "", "gaia_y_chat_b")).toBe(1);
      await expect(heldB.query("select 1")).rejects.toThrow();
      await held.end().catch(() => undefined);
    });

    it("gives the statement that ends the sessions of a login whose name holds a quote, quoted as quote_literal quotes it, slot a and slot b", async () => {
      const pg = await retireLogins(server, "gaia_o'x_chat", "createrole");
      for (const slot of SLOTS) {
        const held = await pg.hold(slot);
        const ended = new Promise<void>((resolve) => held.on("error", () => resolve()));
        const failure = await retireAsAdmin(pg.adminUrl, "", `gaia_o'x_chat_${slot}`).then(() => undefined, (error: unknown) => error);
        expect(failure).toBeInstanceOf(SessionsLeftError);
        const statement = `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'gaia_o''x_chat_${slot}'`;
        expect((failure as Error).message).toBe(
          `gaia_o'x_chat_${slot} no longer logs in, but its open sessions could not be ended (permission denied to terminate process): end them as a role with pg_signal_backend: ${statement}`,
        );
        // The statement as given, run as a role that may signal: it parses, and it ends the session.
        expect(await query(pg.superuserUrl, statement)).toEqual([{ pg_terminate_backend: true }]);
        await ended;
      }
      for (const text of ["gaia_o'x_chat_a", "it''s", "back\\slash'"]) {
        expect(quoteLiteral(text)).toBe((await query<{ q: string }>(pg.superuserUrl, "SELECT quote_literal($1::text) AS q", [text]))[0]!.q);
      }
    });

    it("counts a session that does not end within the wait as left, with the statement that ends it, slot a and slot b", async () => {
      const pg = await retireLogins(server, "gaia_z_chat", "superuser");
      for (const [slot, sessions] of [["a", 1], ["b", 2]] as const) {
        const held = await Promise.all(Array.from({ length: sessions }, () => pg.hold(slot)));
        // The first session's backend stopped (SIGSTOP): the terminate signal waits until it runs again.
        const stuck = (await held[0]!.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
        const ended = new Promise<void>((resolve) => held[0]!.on("error", () => resolve()));
        process.kill(stuck, "SIGSTOP");
        try {
          const failure = await withClient(pg.superuserUrl, (admin) => retireLogin(admin, `gaia_z_chat_${slot}`, 300)).then(() => undefined, (error: unknown) => error);
          expect(failure).toBeInstanceOf(SessionsLeftError);
          expect((failure as Error).message).toBe(
            `gaia_z_chat_${slot} no longer logs in, but its open sessions could not be ended (1 of its ${sessions} session(s) did not end within 300 ms): ` +
              `end them as a role with pg_signal_backend: SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'gaia_z_chat_${slot}'`,
          );
          expect(await sessionsOf(pg.adminUrl, "", `gaia_z_chat_${slot}`)).toBe(1);
        } finally {
          process.kill(stuck, "SIGCONT");
        }
        await ended;
      }
    });

    it("signals every session of a retired login at once: one that does not end holds back none of the others", async () => {
      const pg = await retireLogins(server, "gaia_w_chat", "superuser");
      // The first session connected, listed first, stopped; three more behind it.
      const held = [];
      for (let i = 0; i < 4; i++) held.push(await pg.hold("a"));
      const stuck = (await held[0]!.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      const start = Date.now();
      const ended = held.slice(1).map((client) => new Promise<number>((resolve) => client.on("error", () => resolve(Date.now() - start))));
      process.kill(stuck, "SIGSTOP");
      try {
        await expect(withClient(pg.superuserUrl, (admin) => retireLogin(admin, "gaia_w_chat_a", 2_000))).rejects.toThrow(
          "gaia_w_chat_a no longer logs in, but its open sessions could not be ended (1 of its 4 session(s) did not end within 2000 ms)",
        );
        for (const ms of await Promise.all(ended)) expect(ms).toBeLessThan(1_000);
      } finally {
        process.kill(stuck, "SIGCONT");
      }
    });
  });

  it("runs its update with the policy pack GAIA_POLICY_PACK names, as the rotation job sets it, and none otherwise", () => {
    expect(upOptions({ GAIA_POLICY_PACK: "policy-pack" })).toEqual({ policyPacks: ["policy-pack"] });
    expect(upOptions({})).toEqual({});
  });

  it("counts a login's sessions as the admin, on PostgreSQL 17", async () => {
    const server = await startTestPostgres("sessions");
    try {
      const admin = new Client({ connectionString: server.url });
      await admin.connect();
      await admin.query("CREATE ROLE gaia_x_chat_a LOGIN PASSWORD 'pw-sessions-1'");
      await admin.end();
      const adminUrl = `${server.url}${server.url.includes("?") ? "&" : "?"}sslmode=disable`;
      expect(await sessionsOf(adminUrl, "", "gaia_x_chat_a")).toBe(0);
      const held = new Client({ connectionString: `postgresql://gaia_x_chat_a:pw-sessions-1@127.0.0.1:${server.port}/postgres` });
      await held.connect();
      expect(await sessionsOf(adminUrl, "", "gaia_x_chat_a")).toBe(1);
      await held.end();
      // The backend ends just after the client has closed: asked again until then, for at most 5 s.
      let left = 1;
      for (let tries = 0; left > 0 && tries < 50; tries++) left = await sessionsOf(adminUrl, "", "gaia_x_chat_a").then((n) => (n > 0 ? new Promise<number>((r) => setTimeout(() => r(n), 100)) : n));
      expect(left).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it("checks a rotated login on a server that checks passwords, naming the login and never the password", async () => {
    const server = await startTestPostgres("rotate");
    try {
      const admin = new Client({ connectionString: server.url });
      await admin.connect();
      await admin.query("CREATE ROLE gaia_x_chat_b LOGIN PASSWORD 'right-password-1'");
      await admin.end();
      const url = (password: string) => `postgresql://gaia_x_chat_b:${password}@127.0.0.1:${server.port}/postgres?sslmode=disable`;
      await credentialLogsIn("postgres", url("right-password-1"), "");
      const refused = credentialLogsIn("postgres", url("wrong-password-2"), "");
      await expect(refused).rejects.toThrow(/^the rotated postgres credential for gaia_x_chat_b@127\.0\.0\.1:\d+ does not log in \(password authentication failed for user "gaia_x_chat_b"\)/);
      await expect(refused).rejects.not.toThrow(/wrong-password-2/);
    } finally {
      await server.stop();
    }
  });
});

describe("the README's client code for a rotated credential", () => {
  /** The README's `connect` function, compiled as it is written. */
  function readmeConnect(): (readSecret: () => Promise<string>) => Promise<Client> {
    const block = docBlocks("ts").find((code) => code.includes("28P01"))!;
    const js = transformSync(block, { loader: "ts", format: "cjs" }).code;
    return new Function("Client", `${js}\nreturn connect;`)(Client);
  }

  it("reads the store again once when the password it holds was rotated, and connects", async () => {
    const server = await startTestPostgres("client");
    try {
      const admin = new Client({ connectionString: server.url });
      await admin.connect();
      await admin.query("CREATE ROLE gaia_x_chat_b LOGIN PASSWORD 'old-password-1'");
      await admin.query("ALTER ROLE gaia_x_chat_b PASSWORD 'new-password-2'");
      await admin.end();
      const url = (password: string) => `postgresql://gaia_x_chat_b:${password}@127.0.0.1:${server.port}/postgres`;
      const reads: string[] = [];
      // The store's value as a client cached it, then as it is now.
      const store = ["old-password-1", "new-password-2"];
      const connect = readmeConnect();
      const client = await connect(async () => {
        reads.push("read");
        return url(store[reads.length - 1]!);
      });
      expect((await client.query("select current_user as u")).rows[0].u).toBe("gaia_x_chat_b");
      await client.end();
      expect(reads).toHaveLength(2);
      // A store still wrong after one more read is an error, not a loop.
      await expect(connect(async () => url("never-right-3"))).rejects.toMatchObject({ code: "28P01" });
    } finally {
      await server.stop();
    }
  });
});
