import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ENCRYPTED_PLACEHOLDER } from "../../components/config";
import { PROJECT_ROOT, planStack } from "../../scripts/lib/offline";
import { readStackFile } from "../../scripts/lib/stackFile";
import { planAsText } from "../../scripts/lib/planFormat";

/**
 * Stack files as the Pulumi CLI writes them (test/fixtures/pulumi-cli, written by the real CLI: scripts/cli-fixtures.sh, with the
 * passphrase provider), and beside each what the engine hands the program
 * (`pulumi config --json --show-secrets`): the offline plan must hand the program the same.
 */
const FIXTURES = path.join(PROJECT_ROOT, "test/fixtures/pulumi-cli");
type EngineConfig = Record<string, { value: string; objectValue?: unknown; secret: boolean }>;

/** The engine's value with each encrypted part replaced by the placeholder the offline plan uses. */
function withPlaceholdersAt(value: string, objectValue: unknown, paths: string[], key: string): string {
  if (paths.includes(key)) return ENCRYPTED_PLACEHOLDER;
  if (objectValue === undefined) return value;
  const copy = JSON.parse(JSON.stringify(objectValue)) as Record<string, unknown>;
  for (const p of paths.filter((q) => q.startsWith(`${key}.`))) {
    const parts = p.slice(key.length + 1).split(".");
    let at = copy;
    for (const part of parts.slice(0, -1)) at = at[part] as Record<string, unknown>;
    at[parts.at(-1)!] = ENCRYPTED_PLACEHOLDER;
  }
  return JSON.stringify(copy);
}

describe.each(["local", "staging"])("the CLI-written stack file %s", (stack) => {
  const engine = JSON.parse(readFileSync(path.join(FIXTURES, `${stack}.config.json`), "utf8")) as EngineConfig;
  const read = readStackFile(stack, FIXTURES);

  it("reads every key as the engine hands it: strings, objects as sorted JSON, secret where the engine says", () => {
    expect(Object.keys(read.config).sort()).toEqual(Object.keys(engine).sort());
    for (const [key, { value, objectValue, secret }] of Object.entries(engine)) {
      expect(read.secretKeys.includes(key), `${key} secret`).toBe(secret);
      expect(read.config[key], key).toBe(withPlaceholdersAt(value, objectValue, read.undecrypted, key));
    }
    // What cannot be decrypted here is exactly what the file holds encrypted.
    expect(read.undecrypted).toEqual(stack === "local" ? ["gaia:local.postgresUrl"] : ["gaia:adminEmail"]);
  });
});

describe("planning a CLI-written stack file", () => {
  it("plans the README's local flow, saying once what it could not decrypt", async () => {
    const { config, secretKeys } = readStackFile("local", FIXTURES);
    const plan = await planStack("local", config, secretKeys);
    expect(plan.notDecrypted).toEqual(["gaia:local.postgresUrl"]);
    const text = planAsText(plan);
    expect(text.split("\n")[1]).toBe("not decrypted here, so planned with defaults and not checked: gaia:local.postgresUrl (pulumi preview reads them)");
    expect(text.match(/not decrypted here/g)).toHaveLength(1);
    expect(text).not.toContain(ENCRYPTED_PLACEHOLDER);
  });
});
