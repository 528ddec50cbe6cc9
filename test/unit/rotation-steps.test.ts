import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { currentSlot, generationOf, rotationStepProblems, slotKeepers, type Slot } from "../../components/rotation";
import { RotationError, rotationStep } from "../../scripts/rotate";

/**
 * Rotation cannot go backwards or jump, over any sequence of what happens to a stack: rotations
 * (`npm run rotate`, names doubled or not) whose update succeeds or fails and is run again, and
 * deploys of the default branch's head or of an older commit (a deploy waiting for approval, a
 * re-run). The model keeps the stack file of each commit and what the stack applied; the real
 * code decides: rotationStep (scripts/rotate.ts) what a run writes, rotationStepProblems
 * (components/rotation.ts, the program's check) whether an update may apply, and slotKeepers
 * which logins an update renews.
 */
const CREDENTIALS = ["chat", "auth", "redis"] as const;
type Generations = Record<string, number>;
const effective = (file: Generations): Generations => Object.fromEntries(CREDENTIALS.map((c) => [c, generationOf(file, c)]));

type Step =
  | { kind: "rotate"; keys: string[]; upFails: boolean }
  | { kind: "deploy"; commitsBack: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("rotate" as const),
    keys: fc.oneof(fc.constant<string[]>(["all"]), fc.array(fc.constantFrom<string>(...CREDENTIALS), { minLength: 1, maxLength: 3 })),
    upFails: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("deploy" as const), commitsBack: fc.nat(4) }),
);

/** The login a client got from the state the stack applied: the current slot's, under its keeper. */
const handedOut = (generation: number): { slot: Slot; keeper: string } => {
  const slot = currentSlot(generation);
  return { slot, keeper: JSON.stringify(slotKeepers(slot, generation)) };
};

/**
 * Runs the steps; returns the first applied update that renewed the login clients held, if any.
 * `guarded: false` applies whatever the stack file says, as before the program's check existed.
 */
function firstRenewalOfTheLoginInUse(steps: Step[], guarded = true): string | undefined {
  const commits: Generations[] = [{}];
  let working: Generations = {};
  let applied = effective({});
  const apply = (file: Generations, what: string): string | undefined => {
    const wanted = effective(file);
    if (guarded && rotationStepProblems(applied, wanted).length > 0) return undefined; // refused before any resource
    for (const c of CREDENTIALS) {
      const before = handedOut(applied[c]!);
      if (JSON.stringify(slotKeepers(before.slot, wanted[c]!)) !== before.keeper) return `${what} renewed ${c}'s login in use (generation ${applied[c]} -> ${wanted[c]})`;
    }
    applied = wanted;
    return undefined;
  };
  for (const s of steps) {
    if (s.kind === "deploy") {
      const file = commits[Math.max(0, commits.length - 1 - s.commitsBack)]!;
      const renewal = apply(file, `a deploy ${s.commitsBack} commit(s) back`);
      if (renewal) return renewal;
      continue;
    }
    const known = [...CREDENTIALS];
    let steps: ReturnType<typeof rotationStep>[];
    try {
      steps = [...new Set(s.keys)].map((key) => rotationStep(key, key === "all" ? known : [key], working, applied, "model"));
    } catch (error) {
      if (error instanceof RotationError) continue; // refused in one sentence, nothing written
      throw error;
    }
    const file = { ...working, ...Object.fromEntries(steps.map(({ key, to }) => [key, to])) };
    working = file;
    if (s.upFails) continue; // the update failed: the file stays one step ahead, the stack as it was
    const renewal = apply(file, `rotate ${s.keys.join(" ")}`);
    if (renewal) return renewal;
    // The bumped stack file reaches the default branch (a pull request), as every change does.
    commits.push(file);
  }
  return undefined;
}

describe("rotation over any sequence of rotations, failures and deploys", () => {
  it("never renews the login the previous applied state handed out (fast-check)", () => {
    fc.assert(fc.property(fc.array(step, { maxLength: 25 }), (steps) => firstRenewalOfTheLoginInUse(steps) === undefined), { numRuns: 500 });
  });

  it("would, without the program's check: an older commit's deploy takes a credential back", () => {
    const found = fc.check(fc.property(fc.array(step, { maxLength: 25 }), (steps) => firstRenewalOfTheLoginInUse(steps, false) === undefined), { numRuns: 500 });
    expect(found.failed).toBe(true);
    // The shrunk counter-example, kept by name below.
    expect(firstRenewalOfTheLoginInUse(found.counterexample![0], false)).toMatch(/^a deploy \d commit\(s\) back renewed/);
  });
});

describe("the shrunk counter-examples, by name", () => {
  it("a deploy of the commit before a rotation is refused, in a sentence that says what to do", () => {
    expect(rotationStepProblems({ chat: 1 }, { chat: 0 })).toEqual([
      "gaia:rotation takes chat back from generation 1, which the stack applied, to 0: that would renew the login its clients use now. Deploy the stack file that raised it (git pull), or set gaia:rotation so that chat is at 1 or 2.",
    ]);
    expect(firstRenewalOfTheLoginInUse([{ kind: "rotate", keys: ["chat"], upFails: false }, { kind: "deploy", commitsBack: 1 }], false)).toBe("a deploy 1 commit(s) back renewed chat's login in use (generation 1 -> 0)");
  });

  it("all and chat raised together (the old README's example) jump chat by two: refused", () => {
    expect(rotationStepProblems({ chat: 0, auth: 0 }, effective({ all: 1, chat: 1 }))).toEqual([
      "gaia:rotation moves chat from generation 0, which the stack applied, to 2 in one update: that would renew both of its logins at once. Raise it by one per `pulumi up`: set it so that chat is at 1.",
    ]);
  });

  it("a rotation run again after a failed update, and a name given twice, take one step", () => {
    expect(firstRenewalOfTheLoginInUse([{ kind: "rotate", keys: ["chat"], upFails: true }, { kind: "rotate", keys: ["chat", "chat"], upFails: false }])).toBeUndefined();
    expect(rotationStep("chat", ["chat"], { chat: 1 }, { chat: 0 }, "s")).toEqual({ key: "chat", from: 1, to: 1, resumed: true });
    expect(rotationStep("chat", ["chat"], { chat: 1 }, { chat: 1 }, "s")).toEqual({ key: "chat", from: 1, to: 2, resumed: false });
  });

  it("keeps a step of one or none, and compares no credential the stack never applied", () => {
    expect(rotationStepProblems({ chat: 3 }, { chat: 3, auth: 7 })).toEqual([]);
    expect(rotationStepProblems({ chat: 3 }, { chat: 4 })).toEqual([]);
  });
});
