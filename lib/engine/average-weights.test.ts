import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { averageWeights } from "./average-weights";
import { type TensorToWrite, writeSafetensors } from "./safetensors";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "average-weights-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function checkpoint(name: string, tensors: Record<string, TensorToWrite>): string {
  const file = path.join(dir, `${name}.safetensors`);
  writeSafetensors(file, tensors);
  return file;
}

const t = (shape: number[], values: number[], dtype?: "BF16"): TensorToWrite => ({
  shape,
  data: Float32Array.from(values),
  dtype,
});

describe("averageWeights", () => {
  it("gives each tensor the element-wise mean of the checkpoints, bfloat16 files included", () => {
    const a = checkpoint("a", { w: t([2, 2], [1, 2, 3, 4]), b: t([1], [0.5]) });
    const b = checkpoint("b", { w: t([2, 2], [3, 2, 1, 0], "BF16"), b: t([1], [1.5]) });
    const c = checkpoint("c", { w: t([2, 2], [2, 5, 2, 2]), b: t([1], [-2]) });
    const mean = averageWeights([a, b, c]);
    expect(Object.keys(mean)).toEqual(["w", "b"]);
    expect(mean.w!.shape).toEqual([2, 2]);
    expect([...mean.w!.data]).toEqual([2, 3, 2, 2]);
    expect(mean.b!.data[0]).toBeCloseTo(0, 7);
  });

  it("returns one checkpoint's own values unchanged", () => {
    const a = checkpoint("a", { w: t([3], [0.1, -7.25, 1e-8]) });
    expect([...averageWeights([a]).w!.data]).toEqual([...Float32Array.from([0.1, -7.25, 1e-8])]);
  });

  it("refuses checkpoints whose tensors differ in name or shape", () => {
    const a = checkpoint("a", { w: t([2, 2], [1, 2, 3, 4]) });
    const wide = checkpoint("wide", { w: t([1, 4], [1, 2, 3, 4]) });
    const missing = checkpoint("missing", { v: t([2, 2], [1, 2, 3, 4]) });
    const extra = checkpoint("extra", { w: t([2, 2], [1, 2, 3, 4]), v: t([1], [1]) });
    expect(() => averageWeights([a, wide])).toThrow("tensor w is [1,4]");
    expect(() => averageWeights([a, missing])).toThrow("has no tensor w");
    expect(() => averageWeights([a, extra])).toThrow("has a tensor v that");
    expect(() => averageWeights([])).toThrow("no checkpoint");
  });
});
