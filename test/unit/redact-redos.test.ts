import { checkSync } from "recheck";
import { describe, expect, it } from "vitest";
import { REDACTION_PATTERNS } from "../../ops/lib/redact";

/**
 * redact() reads every line a tool prints, so none of its patterns may backtrack its way into
 * seconds on a long line (the attack of 2026-12-05 found one taking 642 s on 10,000 spaces).
 * recheck (npm recheck 4.5.0, makenowjust-labs: a ReDoS checker that decides by automata theory
 * where it can and by fuzzing where a pattern has lookaround) judges each pattern; a fixed seed
 * and no time limits make its fuzzing the same on every run and every load. scripts/bench-redact.ts times the same on 100 KB.
 */
const judge = (pattern: RegExp) =>
  checkSync(pattern.source, pattern.flags, {
    randomSeed: 20261205,
    timeout: null,
    // Ten times recheck's defaults (250 ms incubating, 1 s attacking, 100 ms seeding): under a full `npm test` on two
    // cores its VM ran out of those on linear patterns, and a match out of time is judged slow (four patterns judged
    // polynomial under load and safe alone, their attack strings matching 100 KB in under 10 ms in V8).
    incubationTimeout: 2_500,
    attackTimeout: 10_000,
    seedingTimeout: 1_000,
  });

describe("redact's patterns", () => {
  it.each(REDACTION_PATTERNS.map((pattern, i) => [i, pattern] as const))("pattern %i runs in time linear in the text", (_, pattern) => {
    const verdict = judge(pattern);
    expect(verdict.status, verdict.status === "vulnerable" ? `${verdict.complexity.summary}: ${verdict.attack.pattern}` : "").toBe("safe");
  }, 120_000);

  it("the check can fail: the table-row pattern before 2026-12-05 is judged polynomial", () => {
    const before = /^([ \t]*([|│┃]?)[ \t]*(?:[\w.-]+ )*password[ \t]*[|│┃][ \t]*)\S.*?([ \t]*\2[ \t]*)$/gim;
    expect(judge(before).status).toBe("vulnerable");
  }, 120_000);
});
