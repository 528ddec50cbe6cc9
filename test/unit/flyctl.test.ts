import { chmodSync, existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { OpsError } from "../../ops/lib/env";
import { flyctl } from "../../ops/lib/flyctl";

describe("flyctl", () => {
  const saved = process.env.FLYCTL;
  afterEach(() => {
    if (saved === undefined) delete process.env.FLYCTL;
    else process.env.FLYCTL = saved;
  });

  it("runs flyctl with a private config directory and LOG_LEVEL=warn, removes the directory when flyctl fails, and redacts its error", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gaia-flyctl-test-"));
    const fake = path.join(dir, "flyctl");
    // A flyctl that leaves a log in its config directory and fails, quoting a response body.
    writeFileSync(
      fake,
      `#!/bin/sh\nmkdir -p "$FLY_CONFIG_DIR/logs" && echo '"password": "hunter2hunter2"' > "$FLY_CONFIG_DIR/logs/flyctl.log"\n` +
        `echo "config $FLY_CONFIG_DIR $(stat -c %a "$FLY_CONFIG_DIR") level $LOG_LEVEL" >&2\necho 'Error: {"password":"hunter2hunter2"}' >&2\nexit 3\n`,
    );
    chmodSync(fake, 0o700);
    process.env.FLYCTL = fake;
    let message = "";
    try {
      flyctl(["mpg", "status", "x"]);
    } catch (error) {
      expect(error).toBeInstanceOf(OpsError);
      message = (error as Error).message;
    }
    const [, configDir, mode, level] = /config (\S+) (\d+) level (\S+)/.exec(message) ?? [];
    expect({ mode, level, parent: path.dirname(configDir ?? "") }).toEqual({ mode: "700", level: "warn", parent: tmpdir() });
    expect(existsSync(configDir!)).toBe(false);
    expect(message).toMatch(/failed \(exit 3\): .* Error: \{"password":"\[secret\]"\}$/);
    expect(message).not.toContain("hunter2");
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps flyctl from writing its log at all (`logs` is a file), passes on none of the settings that make it write or print more, and removes directories killed runs left", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "gaia-flyctl-test-"));
    const fake = path.join(dir, "flyctl");
    // Written out here, not read from ops/lib/flyctl.ts: each is a setting of flyctl's own (its sources are cited there).
    const dropped: Record<string, string> = {
      FLYCTL_OUTPUT_HAR: path.join(dir, "traffic.har"),
      FLY_TRACE_COLLECTOR_URL: "https://collector.example",
      FLY_VERBOSE: "1",
      VERBOSE: "1",
      FLY_LOG_GQL_ERRORS: "1",
      FLY_JSON: "1",
      FLY_GHA_ERROR_ANNOTATION: "1",
      CLICOLOR_FORCE: "1",
    };
    // An operator's own setting, which flyctl must still get.
    const kept = { HTTPS_PROXY: "http://proxy.example:3128" };
    const shown = [...Object.keys(dropped), ...Object.keys(kept), "NO_COLOR"];
    // Says what flyctl would find: whether it could make its log folder, and each variable.
    writeFileSync(
      fake,
      `#!/bin/sh
if mkdir -p "$FLY_CONFIG_DIR/logs" 2>/dev/null; then echo "logs: written"; else echo "logs: $(stat -c %F "$FLY_CONFIG_DIR/logs")"; fi
` + shown.map((name) => `echo "${name}: \${${name}:-unset}"\n`).join(""),
    );
    chmodSync(fake, 0o700);
    process.env.FLYCTL = fake;
    const stale = mkdtempSync(path.join(tmpdir(), "gaia-flyctl-"));
    const fresh = mkdtempSync(path.join(tmpdir(), "gaia-flyctl-"));
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    const planted = { ...dropped, ...kept, NO_COLOR: undefined };
    const saved = Object.fromEntries(Object.keys(planted).map((name) => [name, process.env[name]]));
    for (const [name, value] of Object.entries(planted)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    try {
      expect(flyctl(["mpg", "list"]).split("\n")).toEqual([
        "logs: regular empty file",
        ...Object.keys(dropped).map((name) => `${name}: unset`),
        `HTTPS_PROXY: ${kept.HTTPS_PROXY}`,
        "NO_COLOR: 1",
        "",
      ]);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(fresh)).toBe(true);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      rmSync(fresh, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
