/**
 * A PostgreSQL 17 for the local stack that checks passwords, kept in .local/ (ignored by git).
 *
 *   npm run local-db -- start    start it in the background (first run: initialise)
 *   npm run local-db -- stop     stop it; the data stays
 *   npm run local-db -- status   say whether it runs and how to point the local stack at it
 *   npm run local-db -- url      print its admin URL (for `pulumi config set --secret`)
 *   npm run local-db -- reset    stop it and delete its data
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { checkTraversable, newEmbeddedPostgres } from "./lib/embeddedPostgres";

const HOME = path.resolve(process.env.GAIA_LOCAL_DB_HOME ?? path.join(__dirname, "../.local"));
const DATA = path.join(HOME, "postgres");
const PID = path.join(HOME, "postgres.pid");
const SECRET = path.join(HOME, "postgres.password");
const LOG = path.join(HOME, "postgres.log");
const PORT = Number(process.env.GAIA_LOCAL_DB_PORT ?? 54329);

function password(): string {
  if (!existsSync(SECRET)) {
    mkdirSync(HOME, { recursive: true });
    writeFileSync(SECRET, randomBytes(24).toString("base64url"), { mode: 0o600 });
  }
  return readFileSync(SECRET, "utf8").trim();
}

function runningPid(): number | undefined {
  if (!existsSync(PID)) return undefined;
  const pid = Number(readFileSync(PID, "utf8"));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

const adminUrl = () => `postgresql://postgres:${password()}@127.0.0.1:${PORT}/postgres`;

/** Runs in the background process: the server lives as long as this process does. */
async function serve() {
  const server = await newEmbeddedPostgres({ dataDir: DATA, port: PORT, password: password(), persistent: true });
  if (!existsSync(path.join(DATA, "PG_VERSION"))) await server.initialise();
  await server.start();
  writeFileSync(PID, String(process.pid));
  const stop = async () => {
    await server.stop();
    rmSync(PID, { force: true });
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  console.log(`PostgreSQL on 127.0.0.1:${PORT} (data in ${DATA})`);
}

async function waitFor(condition: () => boolean, seconds: number): Promise<boolean> {
  for (let i = 0; i < seconds * 10; i++) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return condition();
}

async function main(verb: string | undefined) {
  switch (verb) {
    case "serve":
      return serve();
    case "start": {
      if (runningPid()) return status();
      mkdirSync(HOME, { recursive: true });
      checkTraversable(DATA);
      password();
      const log = openSync(LOG, "a");
      const child = spawn(process.execPath, [...process.execArgv, __filename, "serve"], { detached: true, stdio: ["ignore", log, log] });
      child.unref();
      if (!(await waitFor(() => runningPid() !== undefined, 60))) throw new Error(`PostgreSQL did not start; see ${LOG}`);
      // The server may stop as soon as it has started (its port taken meanwhile): say so, and fail.
      await new Promise((r) => setTimeout(r, 500));
      if (!runningPid()) throw new Error(`PostgreSQL stopped right after starting; see ${LOG}`);
      return status();
    }
    case "stop": {
      const pid = runningPid();
      if (!pid) return console.log("not running");
      process.kill(pid, "SIGTERM");
      // Returns once the server itself is gone: its postmaster.pid is removed on shutdown.
      const stopped = await waitFor(() => runningPid() === undefined && !existsSync(path.join(DATA, "postmaster.pid")), 30);
      if (!stopped) throw new Error(`PostgreSQL (pid ${pid}) has not stopped after 30 s; see ${LOG}`);
      return console.log("stopped (data kept in .local/postgres)");
    }
    case "reset":
      await main("stop");
      rmSync(DATA, { recursive: true, force: true });
      rmSync(SECRET, { force: true });
      return console.log("data removed");
    case "status":
      return status();
    default:
      throw new Error(`${verb === undefined ? "name a subcommand" : `unknown subcommand "${verb}"`}: npm run local-db -- start|stop|status|url|reset`);
  }
}

function status() {
  if (!runningPid()) return console.log("not running: npm run local-db -- start");
  console.log(`running on 127.0.0.1:${PORT}. Point the local stack at it (the password stays in .local/postgres.password):`);
  console.log(`  pulumi config set -s local --secret --path gaia:local.postgresUrl "$(npm run -s local-db -- url)"`);
}

if (process.argv[2] === "url") {
  process.stdout.write(`${adminUrl()}\n`);
} else {
  main(process.argv[2]).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
