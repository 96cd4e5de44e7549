import { describe, expect, it } from "vitest";
import { FAMILY_WEIGHTS, parseFamilyWeights, planEpisodes } from "./episodes";
import { FAMILY_IDS } from "./plan";

describe("planned episodes", () => {
  const share = (plans: ReturnType<typeof planEpisodes>, family: string) =>
    plans.filter((e) => e.plan.family === family).length / plans.length;

  it("draw each family as often as its weight says, or as the weights given instead", () => {
    const total = FAMILY_IDS.reduce((s, f) => s + FAMILY_WEIGHTS[f], 0);
    const usual = planEpisodes({ seed: 4, episodes: 1000 });
    expect(share(usual, "fix_failing_test")).toBeCloseTo(FAMILY_WEIGHTS.fix_failing_test / total, 1);

    const heavy = planEpisodes({ seed: 4, episodes: 1000, familyWeights: { fix_failing_test: 6, answer_only: 0 } });
    const heavyTotal = total - FAMILY_WEIGHTS.fix_failing_test - FAMILY_WEIGHTS.answer_only + 6;
    expect(share(heavy, "fix_failing_test")).toBeCloseTo(6 / heavyTotal, 1);
    expect(share(heavy, "answer_only")).toBe(0);

    const none = Object.fromEntries(FAMILY_IDS.map((f) => [f, 0]));
    expect(() => planEpisodes({ seed: 4, episodes: 10, familyWeights: none })).toThrow(/every family's weight is 0/);
  });

  it("take weights as the curriculum command writes them, and refuse an unknown family or a bad weight", () => {
    expect(parseFamilyWeights("fix_failing_test=6, answer_only=0.2")).toEqual({
      fix_failing_test: 6,
      answer_only: 0.2,
    });
    expect(() => parseFamilyWeights("fix_tests=6")).toThrow(/unknown family "fix_tests"/);
    expect(() => parseFamilyWeights("run_tests=-1")).toThrow(/run_tests must be a number ≥ 0/);
    expect(() => parseFamilyWeights("run_tests")).toThrow(/run_tests must be a number ≥ 0/);
    expect(() => parseFamilyWeights("run_tests=many")).toThrow(/not "many"/);
  });
});
