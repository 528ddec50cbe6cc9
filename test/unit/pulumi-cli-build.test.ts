import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/lib/stackFile";

/**
 * scripts/pulumi-cli.sh's first build, with a `go` that stands in for the real build (it takes
 * two seconds and writes the file `-o` names): two callers at once build once, the second says
 * it waits and then prints the same binary, and a long build prints progress lines.
 */
it("builds the Pulumi CLI once for two callers at once, saying so, with progress lines", async () => {
  const root = mkdtempSync(path.join(tmpdir(), "gaia-cli-build-"));
  try {
    const bin = path.join(root, "bin");
    mkdirSync(bin);
    const count = path.join(root, "builds");
    writeFileSync(count, "");
    writeFileSync(path.join(bin, "go"), `#!/bin/sh\necho build >> ${count}\nsleep 2\nwhile [ "$1" != "-o" ]; do shift; done\nprintf '#!/bin/sh\\necho fake\\n' > "$2"\nchmod +x "$2"\n`);
    chmodSync(path.join(bin, "go"), 0o755);
    const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: root, XDG_CACHE_HOME: path.join(root, "cache"), GAIA_BUILD_PROGRESS_SECONDS: "1" };
    const build = () =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn("bash", [path.join(PROJECT_ROOT, "scripts/pulumi-cli.sh")], { env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d));
        child.stderr.on("data", (d: Buffer) => (stderr += d));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      });
    const first = build();
    await new Promise((r) => setTimeout(r, 300));
    const [a, b] = await Promise.all([first, build()]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(count, "utf8")).toBe("build\n");
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout.trim()).toMatch(/\/cache\/gaia-database\/pulumi-v[0-9.]+\/bin\/pulumi$/);
    expect(a.stderr).toMatch(/building the Pulumi CLI v[0-9.]+ from the Go module proxy/);
    expect(a.stderr).toMatch(/still building the Pulumi CLI: 0 min \d s so far/);
    expect(a.stderr).toMatch(/built the Pulumi CLI v[0-9.]+ in 0 min \d s/);
    expect(b.stderr).toMatch(/another build of the Pulumi CLI v[0-9.]+ is running; waiting for it/);
    expect(b.stderr).not.toMatch(/building the Pulumi CLI v/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
