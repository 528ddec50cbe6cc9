import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { withProgress } from "../../scripts/lib/automation";

/** The engine's progress as `npm run rotate` and `npm run review` show it (scripts/lib/automation.ts). */
describe("the engine's progress", () => {
  it("is shown line by line without a password, even one the CLI's output cut in two, and the last unfinished line too", async () => {
    const password = `pw-${randomBytes(12).toString("base64url")}`;
    const printed =
      "Updating (review-42):\n" +
      `error: command failed: psql: connection to postgresql://gaia_chat:${password}@db:5432/gaia refused\n` +
      `  last words: postgres://u:${password}@h/x`;
    for (let cut = 1; cut < printed.length; cut += 7) {
      const shown: string[] = [];
      const result = await withProgress(async (onOutput) => {
        onOutput(printed.slice(0, cut));
        onOutput(printed.slice(cut));
        return "done";
      }, (text) => shown.push(text));
      expect(result).toBe("done");
      const all = shown.join("");
      expect(all, `cut at ${cut}`).not.toContain(password);
      expect(all).toContain("Updating (review-42):\n");
      expect(all).toContain("postgresql://gaia_chat:[secret]@db:5432/gaia refused\n");
      expect(all.endsWith("postgres://u:[secret]@h/x")).toBe(true);
    }
  });

  it("still shows what was printed when the run fails, and passes the failure on", async () => {
    const shown: string[] = [];
    await expect(
      withProgress(async (onOutput) => {
        onOutput("error: update failed");
        throw new Error("exit 255");
      }, (text) => shown.push(text)),
    ).rejects.toThrow("exit 255");
    expect(shown.join("")).toBe("error: update failed");
  });
});
