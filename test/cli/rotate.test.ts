import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Client } from "pg";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { outputValues } from "../../scripts/lib/automation";
import { planStack } from "../../scripts/lib/offline";
import { docBlocks } from "../support/docs";
import { startTestPostgres } from "../support/embedded";
import { PROJECT_ROOT, readStackConfig, readStackFile } from "../../scripts/lib/stackFile";
import { RotationError, credentialLogsIn, openStack, rotate, type RotationStack } from "../../scripts/rotate";
import { cliProject } from "../support/pulumiCli";
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
  const open = async (stack: string, root: string): Promise<RotationStack> => {
    const real = await openStack(stack, root, { pulumiRoot, envVars });
    return {
      ...real,
      // In place of the engine: the program under the mocked runtime with the config the CLI now holds.
      up: async () => {
        const { config, secretKeys } = readStackConfig(stack, { root, pulumi: project.cli, env: project.env });
        const plan = await planStack(stack, config, secretKeys);
        const outputs = outputValues(plan.outputs);
        updates.push(outputs);
        return outputs;
      },
    };
  };
  const checked: string[] = [];
  const logsIn = async (kind: string, url: string) => void checked.push(`${kind} ${decodeURIComponent(new URL(url).username)}`);
  return { project, updates, checked, options: { root: project.root, open, logsIn } };
}

describe("npm run rotate", () => {
  it("raises the generation through the CLI, updates, checks the new login, and prints no secret", async () => {
    const { project, updates, checked, options } = localProject();
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
    [["local", "chat", "admin"], "admin cannot be rotated on local: the admin of a local stack is your own (gaia:local.postgresUrl): change its password on the server, then `pulumi config set --secret gaia:local.postgresUrl` with the new URL."],
    [["qa", "chat"], "no stack file Pulumi.qa.yaml: use one of local."],
  ])("refuses %j in one sentence and changes nothing", async (args, message) => {
    const { project, updates, options } = localProject();
    const before = readFileSync(path.join(project.root, "Pulumi.local.yaml"), "utf8");
    await expect(rotate(args, options)).rejects.toThrow(new RotationError(message));
    expect(readFileSync(path.join(project.root, "Pulumi.local.yaml"), "utf8")).toBe(before);
    expect(updates).toEqual([]);
  });

  it.each([
    ["chat", "chat cannot be rotated on fly: Fly Managed Postgres makes its users' passwords and flyctl has no command to rotate them."],
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
