import { describe, expect, it } from "vitest";
import { downsampleMinMax } from "./downsample";

type P = { x: number; y: number };
const series = (ys: number[]): P[] => ys.map((y, x) => ({ x, y }));
const y = (p: P) => p.y;

describe("downsampleMinMax", () => {
  it("a series shorter than the target passes through unchanged", () => {
    const pts = series([3, 1, 2]);
    expect(downsampleMinMax(pts, 10, y)).toEqual(pts);
  });

  it("keeps the first and the last point and never exceeds the target", () => {
    const pts = series(Array.from({ length: 10_001 }, (_, i) => Math.sin(i / 50)));
    for (const target of [4, 5, 100, 2000]) {
      const out = downsampleMinMax(pts, target, y);
      expect(out.length).toBeLessThanOrEqual(target);
      expect(out[0]).toEqual(pts[0]);
      expect(out.at(-1)).toEqual(pts.at(-1));
    }
  });

  it("keeps every bucket's minimum and maximum, so a single spike survives", () => {
    const ys = Array.from({ length: 5000 }, () => 1);
    ys[1234] = 500;
    ys[4321] = -70;
    const out = downsampleMinMax(series(ys), 50, y);
    expect(out).toContainEqual({ x: 1234, y: 500 });
    expect(out).toContainEqual({ x: 4321, y: -70 });
  });

  it("every bucket's extremes are in the output, in x order", () => {
    const ys = Array.from({ length: 1002 }, (_, i) => ((i * 7919) % 101) - 50);
    const pts = series(ys);
    const target = 22;
    const out = downsampleMinMax(pts, target, y);
    const buckets = (target - 2) / 2;
    for (let b = 0; b < buckets; b++) {
      const slice = pts.slice(1 + (b * 1000) / buckets, 1 + ((b + 1) * 1000) / buckets);
      const min = Math.min(...slice.map(y));
      const max = Math.max(...slice.map(y));
      expect(out.some((p) => slice.includes(p) && p.y === min)).toBe(true);
      expect(out.some((p) => slice.includes(p) && p.y === max)).toBe(true);
    }
    expect(out.map((p) => p.x)).toEqual([...out.map((p) => p.x)].sort((a, b) => a - b));
  });

  it("a non-finite value is kept as its bucket's extreme", () => {
    const ys = Array.from({ length: 3000 }, (_, i) => i % 3);
    ys[1500] = Number.NaN;
    const out = downsampleMinMax(series(ys), 40, y);
    expect(out.some((p) => p.x === 1500 && Number.isNaN(p.y))).toBe(true);
  });

  it("refuses a target below four points", () => {
    expect(() => downsampleMinMax(series([1, 2, 3, 4, 5]), 3, y)).toThrow(/at least 4/);
  });
});
