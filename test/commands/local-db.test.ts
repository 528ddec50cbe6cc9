import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { describe, expect, it } from "vitest";
import { checkTraversable, freePort } from "../../scripts/lib/embeddedPostgres";
import { PROJECT_ROOT } from "../../scripts/lib/offline";

/** `npm run local-db`, as a developer runs it, in a home of its own. */
function localDb(home: string, port: number, ...args: string[]) {
  return spawnSync("node_modules/.bin/tsx", ["scripts/local-db.ts", ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, GAIA_LOCAL_DB_HOME: home, GAIA_LOCAL_DB_PORT: String(port) },
    encoding: "utf8",
    timeout: 90_000,
  });
}

describe("npm run local-db", () => {
  it("starts a server that checks passwords, gives its URL, and returns from stop only once it has stopped", async () => {
    const home = mkdtempSync(path.join(tmpdir(), "gaia-local-db-"));
    chmodSync(home, 0o755);
    const port = await freePort();
    const started = localDb(home, port, "start");
    expect(started.stderr).toBe("");
    // On a failure, the server's own log says why (it holds no password: statements are not logged).
    const serverLog = () => (existsSync(path.join(home, "postgres.log")) ? readFileSync(path.join(home, "postgres.log"), "utf8").slice(-2000) : "no log");
    expect(started.stdout, serverLog()).toMatch(new RegExp(`running on 127\\.0\\.0\\.1:${port}`));
    const url = localDb(home, port, "url").stdout.trim();
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.end();
    await expect(new Client({ connectionString: url.replace(/:[^:@/]+@/, ":wrong@") }).connect()).rejects.toThrow(/password authentication failed/);

    const stopped = localDb(home, port, "stop");
    expect(stopped.stdout).toBe("stopped (data kept in .local/postgres)\n");
    expect(existsSync(path.join(home, "postgres", "postmaster.pid"))).toBe(false);
    await expect(new Client({ connectionString: url }).connect()).rejects.toThrow(/ECONNREFUSED/);
    expect(localDb(home, port, "reset").stdout).toMatch(/data removed/);
  });

  it("names its subcommands when given another", () => {
    const wrong = localDb(tmpdir(), 1, "strat");
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toBe('unknown subcommand "strat": npm run local-db -- start|stop|status|url|reset\n');
  });

  it.runIf(process.getuid?.() === 0)("says at once when the server's system user cannot enter the checkout", () => {
    const closed = mkdtempSync(path.join(tmpdir(), "gaia-closed-"));
    chmodSync(closed, 0o700);
    mkdirSync(path.join(closed, "clone"));
    expect(() => checkTraversable(path.join(closed, "clone", ".local", "postgres"))).toThrow(
      `PostgreSQL runs as the postgres system user, which cannot enter ${closed} (mode 700): run \`chmod o+x ${closed}\`, or clone the project under a folder others may enter.`,
    );
  });
});
