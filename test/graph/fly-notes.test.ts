import { describe, expect, it, vi } from "vitest";
import { planStack } from "../../scripts/lib/offline";
import { stackOn } from "../support/stacks";

/**
 * What postgres-apply could not verify reaches the operator: its last line's `notes` (ops/fly.ts
 * planNotes: a plan the API reports in no form flyctl knows) are warnings of `pulumi up`. The
 * mocked Fly answers here as ops/fly.ts prints such a run (test/commands/fly.test.ts checks ops).
 */
const NOTE = 'Managed Postgres cluster gaia-staging-db reports its plan as "development", which names none of flyctl\'s plans';
vi.mock("../../scripts/lib/cloudMocks", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../scripts/lib/cloudMocks")>();
  return {
    ...real,
    cloudState: (type: string, name: string, inputs: Record<string, unknown>) => {
      const state = real.cloudState(type, name, inputs);
      if (type !== "command:local:Command" || !String(inputs.create).endsWith("postgres-apply")) return state;
      return { ...state, stdout: JSON.stringify({ ...(JSON.parse(String(state.stdout)) as object), notes: [NOTE] }) };
    },
  };
});

describe("a Fly cluster whose plan could not be checked", () => {
  it("is said as a warning of the run, once (the mocked runtime names no resource; the engine names the cluster command)", async () => {
    const warnings: string[] = [];
    const warn = vi.spyOn(console, "warn").mockImplementation((message: unknown) => void warnings.push(String(message)));
    try {
      await planStack("staging", { ...stackOn("staging", "fly"), "gaia:preset": "staging" });
    } finally {
      warn.mockRestore();
    }
    expect(warnings.filter((w) => w.includes("reports its plan"))).toEqual([`warning: [runtime] ${NOTE}`]);
  });
});
