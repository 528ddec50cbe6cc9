import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { unwrap } from "../../scripts/lib/cloudMocks";
import { planStack, type StackPlan } from "../../scripts/lib/offline";
import { stackOn, type CloudPlatform } from "../support/stacks";
import { appliedRestore, resolveRestore, restoreStepProblems, type AppliedRestore } from "../../components/core/restore";

const m1 = new Date(Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000);
const m2 = new Date(m1.getTime() - 3_600_000);
const iso = (d: Date) => d.toISOString().replace(".000Z", "Z");
type File = undefined | { pointInTime: string; previous: "keep" | "release" | "drop"; serve: "restored" | "previous" };
const files: File[] = [undefined];
for (const t of [iso(m1), iso(m2)]) for (const previous of ["keep", "release", "drop"] as const) for (const serve of ["restored", "previous"] as const) files.push({ pointInTime: t, previous, serve });
const STATEFUL = ["aws:rds/instance:Instance", "gcp:sql/databaseInstance:DatabaseInstance", "command:local:Command"];
type Model = Map<string, { protect: boolean; dp: boolean }>;
function model(plan: StackPlan): Model {
  const out: Model = new Map();
  for (const r of plan.resources.filter((r) => STATEFUL.includes(r.type))) {
    if (r.type === "command:local:Command" && !/-db(-r\d+)?$/.test(r.name)) continue;
    const env = (unwrap(r.inputs.environment) ?? {}) as Record<string, string>;
    const dp = r.type === "command:local:Command" ? env.GAIA_FLY_DELETION_PROTECTION === "on" : Boolean(unwrap(r.inputs.deletionProtection)) || Boolean((unwrap(r.inputs.settings) as any)?.deletionProtectionEnabled);
    out.set(r.name, { protect: r.protect, dp });
  }
  return out;
}
const now = new Date();
for (const platform of ["aws", "gcp", "fly"] as CloudPlatform[]) {
  describe(`restore sequences on ${platform}`, () => {
    it("never deletes something protected, never re-makes a dropped instance", async () => {
      const plans = new Map<number, Model>();
      for (const [i, f] of files.entries()) {
        if (f?.serve === "previous" && f.previous === "drop") continue;
        plans.set(i, model(await planStack("production", { ...stackOn("production", platform), ...(f ? { "gaia:restore": JSON.stringify(f) } : {}) })));
      }
      const found = new Set<string>();
      fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: files.length - 1 }), { maxLength: 7 }), (seq) => {
        let applied: AppliedRestore | null = null; let state = plans.get(0)!; const gone = new Set<string>(); const trail: string[] = ["none"];
        for (const i of seq) {
          const f = files[i];
          const env = { pitr: true, pitrDays: 7, platformWindow: platform === "fly" ? ("platform" as const) : { min: 1, max: 35 }, platform };
          const r = resolveRestore(f, env, now);
          const step = r.problems.length ? r.problems : restoreStepProblems(applied, r.restore, env, now);
          if (step.length) continue;
          const next = plans.get(i)!;
          trail.push(JSON.stringify(f ?? "none"));
          for (const [name, p] of state) if (!next.has(name) && (p.protect || p.dp)) found.add(`deletes protected ${name}: ${trail.join(" -> ")}`);
          for (const name of next.keys()) if (gone.has(name) && !/-r\d{12}/.test(name)) found.add(`re-makes ${name}: ${trail.join(" -> ")}`);
          for (const name of state.keys()) if (!next.has(name)) gone.add(name);
          state = next; applied = appliedRestore(r.restore);
        }
      }), { numRuns: 3000 });
      const short = [...found].sort((a, b) => a.length - b.length);
      expect(short).toEqual([]);
    }, 120_000);
  });
}
