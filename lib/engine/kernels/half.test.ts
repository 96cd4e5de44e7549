/**
 * 16-bit B operands: the wasm kernels widen bfloat16 and IEEE half inside their tiles, so a product
 * with 16-bit B equals, bit for bit, the same product with B widened to float32 first, on every
 * path of sgemm.c (packed tiles, both matrix-vector forms, edges, transposes). The conversions
 * themselves round as torch does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJsKernels, sgemmReference } from "./js-kernels";
import { bf16BitsToNumber, halfBitsToNumber, toHalfBits, widenHalf } from "./half";
import { toBfloat16Bits } from "../safetensors";
import type { HalfType, Kernels } from "./types";
import { createWasmKernels, type WasmKernels } from "./wasm-kernels";

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 4;
  });
}

function halfBits(type: HalfType, x: Float32Array): Uint16Array {
  return type === "bf16" ? toBfloat16Bits(x) : Uint16Array.from(x, (v) => toHalfBits(v));
}

const shapes: Array<[boolean, boolean, number, number, number]> = [
  [false, true, 1, 37, 70], // decode: dot-product form
  [false, false, 3, 45, 19], // matrix-vector, B not transposed
  [true, false, 2, 33, 9],
  [false, true, 67, 130, 300], // packed tiles with edges, K past one KC block
  [false, false, 70, 21, 35],
  [true, true, 9, 17, 29],
];

let wasm: WasmKernels;
beforeAll(async () => {
  wasm = await createWasmKernels({ threads: 1 });
});
afterAll(() => wasm.dispose());

describe("16-bit B operands", () => {
  for (const type of ["bf16", "f16"] as const) {
    it(`a ${type} B gives exactly the product of its float32 widening, on every kernel path`, () => {
      for (const [transA, transB, M, N, K] of shapes) {
        const k: Kernels = wasm;
        const A = k.alloc(M * K);
        A.set(values(M * K, M + N));
        const bits = halfBits(type, values(N * K, K));
        const storage = k.alloc(Math.ceil(bits.length / 2));
        const b16 = new Uint16Array(storage.buffer, storage.byteOffset, bits.length);
        b16.set(bits);
        const wide = k.alloc(bits.length);
        wide.set(widenHalf(bits, type));
        const args = { transA, transB, M, N, K, alpha: 0.5, A, lda: transA ? M : K, ldb: transB ? K : N, beta: 0 };
        const fromHalf = k.alloc(M * N).fill(1);
        const fromWide = k.alloc(M * N).fill(1);
        k.sgemm({ ...args, B: b16, bType: type, C: fromHalf, ldc: N, beta: 0.25 });
        k.sgemm({ ...args, B: wide, C: fromWide, ldc: N, beta: 0.25 });
        expect(Array.from(fromHalf), `${transA} ${transB} ${M}x${N}x${K}`).toEqual(Array.from(fromWide));
        // The reference kernels agree to float32 rounding.
        const ref = new Float32Array(M * N).fill(1);
        sgemmReference({ ...args, B: bits, bType: type, C: ref, ldc: N, beta: 0.25 });
        for (let i = 0; i < ref.length; i++) expect(Math.abs(ref[i] - fromHalf[i])).toBeLessThan(1e-4 * K);
      }
    });
  }

  it("a 16-bit B outside kernel memory is copied in and gives the same result", () => {
    const bits = toBfloat16Bits(values(24 * 40, 3));
    const A = values(5 * 40, 4);
    const inHeap = wasm.alloc(24 * 20);
    new Uint16Array(inHeap.buffer, inHeap.byteOffset, bits.length).set(bits);
    const args = { transA: false, transB: true, M: 5, N: 24, K: 40, alpha: 1, A, lda: 40, ldb: 40, beta: 0, ldc: 24 };
    const a = new Float32Array(5 * 24);
    const b = new Float32Array(5 * 24);
    wasm.sgemm({ ...args, B: bits, bType: "bf16", C: a });
    wasm.sgemm({ ...args, B: new Uint16Array(inHeap.buffer, inHeap.byteOffset, bits.length), bType: "bf16", C: b });
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it("a 16-bit B without its type is refused", () => {
    const args = { transA: false, transB: true, M: 1, N: 1, K: 1, alpha: 1, lda: 1, ldb: 1, beta: 0, ldc: 1 };
    const C = new Float32Array(1);
    expect(() => wasm.sgemm({ ...args, A: new Float32Array(1), B: new Uint16Array(1), C })).toThrow("bType");
    expect(() => createJsKernels().sgemm({ ...args, A: new Float32Array(1), B: new Uint16Array(1), C })).toThrow(
      "bType",
    );
  });
});

describe("16-bit conversions", () => {
  it("IEEE half bits round to nearest even and widen back exactly, including subnormals, inf and NaN", () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = halfBitsToNumber(h);
      if (Number.isNaN(x)) expect(Number.isNaN(halfBitsToNumber(toHalfBits(x)))).toBe(true);
      else expect(toHalfBits(x)).toBe(h === 0x8000 ? 0x8000 : h);
    }
    expect(toHalfBits(65520)).toBe(0x7c00); // rounds up past the largest half
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // a tie goes to the even neighbour
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(2 ** -25)).toBe(0); // half the smallest subnormal ties to zero
  });

  it("the kernels widen every bfloat16 and half bit pattern as the TypeScript conversions do", () => {
    const n = 0x10000;
    const all = Uint16Array.from({ length: n }, (_, i) => i);
    for (const type of ["bf16", "f16"] as const) {
      const storage = wasm.alloc(n / 2);
      const bits = new Uint16Array(storage.buffer, storage.byteOffset, n);
      bits.set(all);
      const one = wasm.alloc(1).fill(1);
      const out = wasm.alloc(n);
      // C (1, n) = 1 · B (n, 1)ᵀ: each output is one widened element.
      wasm.sgemm({
        transA: false,
        transB: true,
        M: 1,
        N: n,
        K: 1,
        alpha: 1,
        A: one,
        lda: 1,
        B: bits,
        bType: type,
        ldb: 1,
        beta: 0,
        C: out,
        ldc: n,
      });
      for (let i = 0; i < n; i++) {
        const want = type === "bf16" ? bf16BitsToNumber(i) : halfBitsToNumber(i);
        if (Number.isNaN(want)) expect(Number.isNaN(out[i])).toBe(true);
        // Sums start at +0, so −0 comes out as +0: compare with ===, which holds them equal.
        else expect(out[i] === want, `bits ${i.toString(16)}: ${out[i]} vs ${want}`).toBe(true);
      }
    }
  });
});
