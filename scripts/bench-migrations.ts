/**
 * Benchmark: the migration runner against plain `psql -f` on this machine's PostgreSQL.
 * Reports medians of N runs (default 7) for: empty database to full schema, a no-op run,
 * and the same SQL applied by psql (the floor). Both the in-process runner and the command
 * the component runs (a new Node process) are timed.
 *
 *   npm run bench:migrations [-- runs]
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { opsCommandLine } from "../components/commands";
import { migrateDatabase } from "../ops/lib/migrations";
import { MIGRATIONS_FOLDER } from "../sql";
import { SHARED_SERVER, createEnvironment, uniqueEnvironment } from "../test/support/postgres";

const runs = Number(process.argv[2] ?? 7);
const files = readdirSync(path.join(MIGRATIONS_FOLDER, "committed")).sort().map((f) => path.join(MIGRATIONS_FOLDER, "committed", f));

async function timed(action: () => Promise<unknown> | unknown): Promise<number> {
  const start = performance.now();
  await action();
  return performance.now() - start;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  const samples: Record<string, number[]> = { psql: [], runner: [], noop: [], command: [], commandNoop: [] };
  for (let i = 0; i < runs; i++) {
    const floor = await createEnvironment(SHARED_SERVER, uniqueEnvironment("bench"));
    const inProcess = await createEnvironment(SHARED_SERVER, uniqueEnvironment("bench"));
    const command = await createEnvironment(SHARED_SERVER, uniqueEnvironment("bench"));
    try {
      samples.psql!.push(await timed(() => {
        for (const file of files) execFileSync("psql", ["-q", "-X", "-v", "ON_ERROR_STOP=1", "-1", "-f", file, floor.url("owner")]);
      }));
      const options = { connectionString: inProcess.url("owner"), ownerRole: inProcess.names.groupRole("owner"), log: () => undefined };
      samples.runner!.push(await timed(() => migrateDatabase(options)));
      samples.noop!.push(await timed(() => migrateDatabase(options)));
      const env = { ...process.env, GAIA_DATABASE_URL: command.url("owner"), GAIA_OWNER_ROLE: command.names.groupRole("owner") };
      // Exactly the command line the schema command resource runs.
      const cli = () => execFileSync("/bin/sh", ["-c", opsCommandLine("migrate", "apply")], { env, stdio: "ignore" });
      samples.command!.push(await timed(cli));
      samples.commandNoop!.push(await timed(cli));
    } finally {
      await Promise.all([floor.drop(), inProcess.drop(), command.drop()]);
    }
  }
  const floor = median(samples.psql!);
  const line = (label: string, key: string) =>
    `${label.padEnd(44)} ${median(samples[key]!).toFixed(1).padStart(8)} ms   ${(median(samples[key]!) / floor).toFixed(2)}x floor`;
  console.log(`migrations: ${files.length} file(s), median of ${runs} runs, PostgreSQL at ${new URL(SHARED_SERVER).host}`);
  console.log(line("psql -f (floor)", "psql"));
  console.log(line("runner, empty to full schema (in process)", "runner"));
  console.log(line("runner, no-op (in process)", "noop"));
  console.log(line("schema command as Pulumi runs it, empty to full", "command"));
  console.log(line("schema command as Pulumi runs it, no-op", "commandNoop"));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
