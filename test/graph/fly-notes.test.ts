import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { appliedCluster } from "../../components/platforms/fly";
import { promiseOf } from "../../scripts/lib/offline";

/**
 * What postgres-apply could not verify reaches the operator: its last line's `notes` (ops/fly.ts
 * planNotes: a plan the API reports in no form flyctl knows; test/commands/fly.test.ts prints
 * one) are warnings of the run, which `pulumi up` shows on the cluster's command.
 */
describe("a Fly cluster whose plan could not be checked", () => {
  const note = 'Managed Postgres cluster gaia-staging-db reports its plan as "development", which names none of flyctl\'s plans';
  const read = async (lastLine: object) => {
    const warnings: string[] = [];
    const warn = vi.spyOn(console, "warn").mockImplementation((message: unknown) => void warnings.push(String(message)));
    try {
      const applied = await promiseOf(appliedCluster(pulumi.output(`found Managed Postgres cluster gaia-staging-db\n${JSON.stringify(lastLine)}\n`)));
      return { applied, warnings };
    } finally {
      warn.mockRestore();
    }
  };

  it("is said as a warning of the run, once, and the endpoint read as ever", async () => {
    const { applied, warnings } = await read({ clusterId: "c0ffee", host: "direct.c0ffee.flympg.net", port: 5432, notes: [note] });
    expect(applied).toMatchObject({ clusterId: "c0ffee", host: "direct.c0ffee.flympg.net", port: 5432 });
    expect(warnings).toEqual([`warning: [runtime] ${note}`]);
  });

  it("says nothing when the plan was checked", async () => {
    expect((await read({ clusterId: "c0ffee", host: "h", port: 5432 })).warnings).toEqual([]);
  });
});
