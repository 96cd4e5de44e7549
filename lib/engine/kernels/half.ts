/**
 * 16-bit floating-point bits, bfloat16 (the upper half of a float32) and IEEE half, as model
 * weights are stored in checkpoints. The wasm kernels widen them inside their tiles (wasm/sgemm.c);
 * these are the same conversions in TypeScript, for the reference kernels, embedding rows and tests.
 */
import { B_BF16, B_F16, B_F32 } from "./sgemm-protocol";
import type { HalfType } from "./types";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One IEEE half's bits as a number (exact: every half is a float32). */
export function halfBitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** One bfloat16's bits as a number. */
export function bf16BitsToNumber(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

/** Widens n values of `bits` from `offset` into `out` at `outOffset`. */
export function widenInto(
  type: HalfType,
  bits: Uint16Array,
  offset: number,
  n: number,
  out: Float32Array,
  outOffset = 0,
): void {
  if (type === "bf16") {
    const wide = new Uint32Array(out.buffer, out.byteOffset + outOffset * 4, n);
    for (let i = 0; i < n; i++) wide[i] = bits[offset + i] << 16;
  } else {
    for (let i = 0; i < n; i++) out[outOffset + i] = halfBitsToNumber(bits[offset + i]);
  }
}

/** A float32 copy of 16-bit bits; the type is required (bits alone do not say which format). */
export function widenHalf(bits: Uint16Array, type: HalfType | undefined): Float32Array {
  if (!type) throw new Error("sgemm: a 16-bit B needs bType (bf16 or f16)");
  const out = new Float32Array(bits.length);
  widenInto(type, bits, 0, bits.length, out);
  return out;
}

/** float32 → IEEE half bits, round to nearest even; overflow to infinity, NaN stays NaN. */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: shift the full mantissa (with its implicit 1) into place, rounding to even.
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rest > mid || (rest === mid && half & 1) ? half + 1 : half);
  }
  const half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  return sign | (rest > 0x1000 || (rest === 0x1000 && half & 1) ? half + 1 : half);
}

/** The kernels' code for how B is stored (wasm/sgemm.c's B_F32, B_BF16, B_F16). */
export function bKindOf(type: HalfType | undefined, isHalf: boolean): number {
  if (!isHalf) return B_F32;
  if (type === "bf16") return B_BF16;
  if (type === "f16") return B_F16;
  throw new Error("sgemm: a 16-bit B needs bType (bf16 or f16)");
}
