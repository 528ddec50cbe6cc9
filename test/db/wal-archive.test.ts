/**
 * scripts/lib/walArchive.ts on a real PostgreSQL 17: a restore that cannot reach its target is
 * said in a sentence, whenever the server stops (before `pg_ctl -w` returns, or after, once it
 * took connections as a hot standby and then ran out of archive).
 */
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "pg";
import { describe, expect, it } from "vitest";
import { baseBackup, restoreBackup, startArchivingServer } from "../../scripts/lib/walArchive";

describe("a restore to a target past the archive's end", () => {
  it("is refused with the server's own sentence, after it took connections and stopped itself", async () => {
    const work = mkdtempSync(path.join(tmpdir(), "gaia-wal-archive-test-"));
    chmodSync(work, 0o711);
    const primary = await startArchivingServer(work);
    try {
      const admin = new Client({ connectionString: primary.url });
      await admin.connect();
      try {
        await admin.query("create table filler (x text)");
        await baseBackup(primary, path.join(work, "base"));
        // WAL to replay after the backup's end: the restored server takes connections (consistent,
        // a hot standby) well before it reaches the end of the archive and gives up.
        for (let i = 0; i < 40; i++) await admin.query("insert into filler select repeat('x', 900) from generate_series(1, 1000)");
        const { rows } = await admin.query<{ segment: string }>("select pg_walfile_name(pg_switch_wal() - 1) as segment");
        for (;;) {
          const archived = (await admin.query<{ last: string | null }>("select last_archived_wal as last from pg_stat_archiver")).rows[0]?.last;
          if (archived && archived >= rows[0]!.segment) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        await admin.end();
      }
      const { uid, gid } = statSync(primary.dataDir);
      const restore = restoreBackup({
        backupDir: path.join(work, "base"),
        archiveDir: primary.archiveDir,
        dataDir: path.join(work, "restored"),
        password: primary.password,
        owner: { uid, gid },
        target: { time: new Date(Date.now() + 3_600_000) },
      });
      await expect(restore).rejects.toThrow(/^the restored server did not start: .*FATAL: +recovery ended before configured recovery target was reached/);
    } finally {
      await primary.stop().catch(() => undefined);
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
