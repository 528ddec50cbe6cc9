import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A setting several test runs on the machine need at once (the shared PostgreSQL's statement
 * logging, ./globalSetup.ts), held by the process IDs written in a state file: the first to take
 * it records what was there before; the last to let go puts that back. A holder no longer
 * running counts as gone, and the state file outlives a run that crashed, so what was there
 * before the first run is what the last release restores, whichever run it is.
 */
interface State<T> {
  previous: T;
  holders: number[];
}

export async function holdSetting<T>(stateFile: string, readPrevious: () => Promise<T>, apply: () => Promise<void>): Promise<void> {
  await locked(stateFile, async () => {
    const state = read<T>(stateFile) ?? { previous: await readPrevious(), holders: [] };
    state.holders = [...state.holders.filter(running), process.pid];
    writeFileSync(stateFile, JSON.stringify(state));
    await apply();
  });
}

/** Lets go of the setting; puts back what was there before when no other holder runs. True when it did. */
export async function releaseSetting<T>(stateFile: string, restore: (previous: T) => Promise<void>): Promise<boolean> {
  return locked(stateFile, async () => {
    const state = read<T>(stateFile);
    if (!state) return false;
    state.holders = state.holders.filter((pid) => pid !== process.pid && running(pid));
    if (state.holders.length > 0) {
      writeFileSync(stateFile, JSON.stringify(state));
      return false;
    }
    await restore(state.previous);
    rmSync(stateFile, { force: true });
    return true;
  });
}

function read<T>(stateFile: string): State<T> | undefined {
  try {
    return JSON.parse(readFileSync(stateFile, "utf8")) as State<T>;
  } catch {
    return undefined;
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Runs `action` holding a lock folder (mkdir is atomic); a lock older than a minute is a crashed holder's. */
async function locked<R>(stateFile: string, action: () => Promise<R>): Promise<R> {
  const lock = `${stateFile}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      if (attempt > 600) throw new Error(`${lock} has been held for over a minute: remove it if no test run is going`);
      await sleep(100);
    }
  }
  try {
    return await action();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
