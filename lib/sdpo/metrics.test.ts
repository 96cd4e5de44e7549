import { describe, expect, it } from "vitest";
import { meanRowEntropy, validLogprobRow } from "./metrics";

describe("log-probability rows", () => {
  it("accept −∞ for a token the model cannot emit, and reject NaN and +∞", () => {
    expect(validLogprobRow(new Float32Array([Math.log(0.5), Math.log(0.5), -Infinity]))).toBe(true);
    expect(validLogprobRow(new Float32Array([Math.log(0.5), NaN, -Infinity]))).toBe(false);
    expect(validLogprobRow(new Float32Array([Infinity, -Infinity]))).toBe(false);
  });

  it("give the entropy of the tokens that can be emitted when others are −∞", () => {
    const row = new Float32Array([Math.log(0.5), Math.log(0.5), -Infinity, -Infinity]);
    expect(meanRowEntropy(row, 4)).toBeCloseTo(Math.log(2), 6);
  });
});
