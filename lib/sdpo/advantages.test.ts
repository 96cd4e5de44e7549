import { describe, expect, it } from "vitest";
import { adaptiveGain, clipAdvantagesByRatio, rlAdvantage, sdpoCredit } from "./advantages";
import { DEFAULT_SDPO_CONFIG } from "./config";

const cfg = DEFAULT_SDPO_CONFIG;

describe("SDPO advantages", () => {
  it("are kl_coef · g · (teacher − student) per token, with the gain boosting small deltas up to 4", () => {
    const { credits, gain } = sdpoCredit([[-1.01, -2.0]], [[-1.0, -2.01]], { ...cfg, klCoef: 2 });
    // mean |kl_coef·delta| = 0.02 → g = 0.03 / 0.02 = 1.5.
    expect(gain).toBeCloseTo(1.5, 10);
    expect(credits[0]!.advantages[0]).toBeCloseTo(2 * 1.5 * -0.01, 10);
    expect(credits[0]!.advantages[1]).toBeCloseTo(2 * 1.5 * 0.01, 10);
  });

  it("the gain never shrinks large advantages and never exceeds the maximum", () => {
    expect(adaptiveGain([0.5, -0.5], cfg)).toBe(1);
    expect(adaptiveGain([1e-6], cfg)).toBe(4);
    expect(adaptiveGain([1e-6], { ...cfg, adaptiveKl: false })).toBe(1);
  });

  it("a NaN teacher log-prob makes a NaN advantage (the step's guard rejects it)", () => {
    const { credits } = sdpoCredit([[Number.NaN, -1]], [[-1, -1]], cfg);
    expect(credits[0]!.advantages.some(Number.isNaN)).toBe(true);
  });
});

describe("RL advantages", () => {
  it("compare each reward with the mean of the rewards before it", () => {
    let baseline = { count: 0, mean: 0 };
    const advs: number[] = [];
    for (const r of [1, -1, 1]) {
      const next = rlAdvantage(r, baseline);
      advs.push(next.advantage);
      baseline = next.baseline;
    }
    expect(advs).toEqual([1, -2, 1]);
    expect(baseline).toEqual({ count: 3, mean: 1 / 3 });
  });
});

describe("clipping the importance ratio by scaling advantages", () => {
  it("scales a token's advantage by is_clip / ratio only where the ratio exceeds is_clip", () => {
    const out = clipAdvantagesByRatio([1, -1], [Math.log(4), 0], [0, 0], 2);
    expect(out.ratios).toEqual([4, 1]);
    expect(out.advantages).toEqual([0.5, -1]);
    expect(out.clipped).toBe(1);
  });
});
