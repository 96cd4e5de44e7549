import { describe, expect, it } from "vitest";
import { Rng } from "./prng";

describe("Rng", () => {
  it("gives the same stream for the same seed and a different one for another seed", () => {
    const draw = (seed: number) =>
      Array.from(
        { length: 8 },
        (
          (r) => () =>
            r.next()
        )(new Rng(seed)),
      );
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it("forks streams that depend on the seed and label, not on draws already made", () => {
    const a = new Rng(9);
    const b = new Rng(9);
    b.next();
    b.next();
    expect(a.fork("x").next()).toBe(b.fork("x").next());
    expect(a.fork("x").next()).not.toBe(a.fork("y").next());
  });

  it("draws integers within bounds and shuffles without losing items", () => {
    const r = new Rng(1);
    for (let i = 0; i < 500; i++) {
      const n = r.int(2, 9);
      expect(n).toBeGreaterThanOrEqual(2);
      expect(n).toBeLessThanOrEqual(9);
    }
    expect(r.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(() => r.pick([])).toThrow(/empty/);
  });
});
