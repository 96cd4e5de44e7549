import { describe, expect, it } from "vitest";
import { mergeSteps, metricLine, type StepView } from "./series";

function step(i: number, over: Partial<StepView> = {}): StepView {
  return {
    id: `s${i}`,
    policyId: "p",
    step: i,
    status: "done",
    error: null,
    queuedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    startedAt: null,
    finishedAt: new Date(Date.UTC(2026, 0, 1, 0, 1, i)).toISOString(),
    metrics: { loss: 10 - i },
    ...over,
  };
}

describe("metricLine", () => {
  it("plots only finished steps that logged the key, ordered by step", () => {
    const steps = [
      step(2),
      step(1),
      step(3, { status: "failed", metrics: null }),
      step(4, { metrics: { sdpo_kl: 1 } }),
      step(5, { status: "running", step: null, metrics: null }),
    ];
    expect(metricLine(steps, "loss", { xAxis: "step", smoothing: 0 })).toEqual({
      key: "loss",
      label: "loss",
      raw: [
        { x: 1, y: 9 },
        { x: 2, y: 8 },
      ],
      smoothed: [
        { x: 1, y: 9 },
        { x: 2, y: 8 },
      ],
    });
  });

  it("wall-time x values are the finish times in milliseconds", () => {
    const line = metricLine([step(1)], "loss", { xAxis: "wall", smoothing: 0 });
    expect(line.raw).toEqual([{ x: Date.UTC(2026, 0, 1, 0, 1, 1), y: 9 }]);
  });

  it("the raw line keeps the raw values while the smoothed one is averaged", () => {
    const line = metricLine([step(1, { metrics: { loss: 0 } }), step(2, { metrics: { loss: 10 } })], "loss", {
      xAxis: "step",
      smoothing: 0.5,
    });
    expect(line.raw.map((p) => p.y)).toEqual([0, 10]);
    expect(line.smoothed.map((p) => p.y)).toEqual([0, (0.5 * 0.5 * 0 + 0.5 * 10) / 0.75]);
  });

  it("a long curve is downsampled but its spike survives", () => {
    const steps = Array.from({ length: 10_000 }, (_, i) => step(i, { metrics: { loss: i === 7777 ? 1e6 : 1 } }));
    const line = metricLine(steps, "loss", { xAxis: "step", smoothing: 0.9, maxPoints: 500 });
    expect(line.raw.length).toBeLessThanOrEqual(500);
    expect(line.raw).toContainEqual({ x: 7777, y: 1e6 });
    expect(line.smoothed.length).toBe(line.raw.length);
  });
});

describe("mergeSteps", () => {
  it("replaces known steps in place and appends new ones", () => {
    const running = step(1, { status: "running", metrics: null });
    const done = step(1);
    expect(mergeSteps([step(0), running], [done, step(2)])).toEqual([step(0), done, step(2)]);
  });
});
