/**
 * RMSNorm, rotary and SwiGLU split over the pool give exactly what ops.ts gives on one thread.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createWasmKernels, type WasmKernels } from "./kernels/wasm-kernels";
import { rmsnormBackward, rmsnormForward, rope, ropeTables, swigluBackward, swigluForward } from "./ops";
import { rmsnormBackwardOn, rmsnormForwardOn, ropeOn, swigluBackwardOn, swigluForwardOn } from "./threads-ops";

const ROWS = 600;
const D = 128;

let pools: WasmKernels[] = [];
beforeAll(async () => {
  pools = await Promise.all([2, 4].map((threads) => createWasmKernels({ threads })));
});
afterAll(() => {
  for (const k of pools) k.dispose();
});

/** n floats in the kernels' memory, filled from a seed. */
function filled(k: WasmKernels, n: number, seed: number): Float32Array {
  const a = k.alloc(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.731 + seed) * (1 + (i % 7));
  return a;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe("element-wise ops on the pool", () => {
  it("give the same bits as ops.ts on one thread, each run on the pool", () => {
    for (const k of pools) {
      const spy = vi.spyOn(k.pool, "run");
      const x = filled(k, ROWS * D, 1);
      const w = filled(k, D, 2);
      const dy = filled(k, ROWS * D, 3);
      const [y, yRef] = [k.alloc(ROWS * D), new Float32Array(ROWS * D)];
      const [rstd, rstdRef] = [k.alloc(ROWS), new Float32Array(ROWS)];
      rmsnormForwardOn(k, y, rstd, x, w, ROWS, D, 1e-6);
      rmsnormForward(yRef, rstdRef, x, w, ROWS, D, 1e-6);
      expect(bits(y)).toEqual(bits(yRef));
      expect(bits(rstd)).toEqual(bits(rstdRef));

      const dx = filled(k, ROWS * D, 4);
      const dxRef = dx.slice();
      rmsnormBackwardOn(k, dx, dy, x, w, rstd, ROWS, D, true);
      rmsnormBackward(dxRef, dy, x, w, rstdRef, ROWS, D, true);
      expect(bits(dx)).toEqual(bits(dxRef));

      const tables = ropeTables(ROWS + 5, 64, 1e6);
      const q = filled(k, ROWS * D, 5);
      const qRef = q.slice();
      ropeOn(k, q, ROWS, 2, 64, 5, tables.cos, tables.sin, false);
      rope(qRef, ROWS, 2, 64, 5, tables.cos, tables.sin, false);
      expect(bits(q)).toEqual(bits(qRef));
      ropeOn(k, q, ROWS, 2, 64, 5, tables.cos, tables.sin, true);
      rope(qRef, ROWS, 2, 64, 5, tables.cos, tables.sin, true);
      expect(bits(q)).toEqual(bits(qRef));

      const n = ROWS * D;
      const [gate, up, dh] = [filled(k, n, 6), filled(k, n, 7), filled(k, n, 8)];
      const [h, hRef] = [k.alloc(n), new Float32Array(n)];
      swigluForwardOn(k, h, gate, up, n);
      swigluForward(hRef, gate, up, n);
      expect(bits(h)).toEqual(bits(hRef));
      const [dgate, dup] = [k.alloc(n), k.alloc(n)];
      const [dgateRef, dupRef] = [new Float32Array(n), new Float32Array(n)];
      swigluBackwardOn(k, dgate, dup, dh, gate, up, n);
      swigluBackward(dgateRef, dupRef, dh, gate, up, n);
      expect(bits(dgate)).toEqual(bits(dgateRef));
      expect(bits(dup)).toEqual(bits(dupRef));

      expect(spy).toHaveBeenCalledTimes(6);
      spy.mockRestore();
      for (const a of [x, w, dy, y, rstd, dx, q, gate, up, dh, h, dgate, dup]) k.free(a);
    }
  });

  it("keep RMSNorm's backward on one thread when it sums a weight gradient over the rows", () => {
    const k = pools[0];
    const spy = vi.spyOn(k.pool, "run");
    const [x, w, dy, rstd] = [filled(k, ROWS * D, 1), filled(k, D, 2), filled(k, ROWS * D, 3), k.alloc(ROWS)];
    rmsnormForward(k.alloc(ROWS * D), rstd, x, w, ROWS, D, 1e-6);
    const [dw, dwRef] = [k.alloc(D), new Float32Array(D)];
    const dx = k.alloc(ROWS * D);
    rmsnormBackwardOn(k, dx, dy, x, w, rstd, ROWS, D, false, dw);
    rmsnormBackward(new Float32Array(ROWS * D), dy, x, w, rstd, ROWS, D, false, dwRef);
    expect(spy).not.toHaveBeenCalled();
    expect(bits(dw)).toEqual(bits(dwRef));
    spy.mockRestore();
  });
});
