/**
 * Base-model weight matrices in their stored precision. A checkpoint's bfloat16 (or float16)
 * projections and embeddings stay 16-bit in kernel memory, half the bytes of float32, and the
 * kernels widen them inside their tiles; float32 checkpoints stay float32. Widening is exact, so
 * a 16-bit matrix computes exactly what its float32 widening would. Norm weights, LoRA adapters,
 * optimizer state and activations are always float32.
 */
import { widenInto } from "./kernels/half";
import type { HalfType, Kernels, SgemmArgs } from "./kernels/types";

export type { HalfType } from "./kernels/types";

/** How base weights are held: float32, or 16-bit bfloat16 / IEEE half. */
export type WeightDtype = "f32" | HalfType;

/** A 16-bit matrix: `bits` is a view of `storage`, the kernel allocation that owns the bytes. */
export interface HalfMatrix {
  readonly type: HalfType;
  readonly bits: Uint16Array;
  readonly storage: Float32Array;
}

/** A weight matrix: float32 values, or 16-bit bits widened where they are read. */
export type Matrix = Float32Array | HalfMatrix;

export function isHalf(m: Matrix): m is HalfMatrix {
  return !(m instanceof Float32Array);
}

export function dtypeOf(m: Matrix): WeightDtype {
  return isHalf(m) ? m.type : "f32";
}

/** Values the matrix holds. */
export function matrixLength(m: Matrix): number {
  return isHalf(m) ? m.bits.length : m.length;
}

/** A zero-filled matrix of n values in kernel memory. */
export function allocMatrix(kernels: Kernels, n: number, dtype: WeightDtype): Matrix {
  if (dtype === "f32") return kernels.alloc(n);
  const storage = kernels.alloc(Math.ceil(n / 2));
  return { type: dtype, storage, bits: new Uint16Array(storage.buffer, storage.byteOffset, n) };
}

export function freeMatrix(kernels: Kernels, m: Matrix): void {
  kernels.free(isHalf(m) ? m.storage : m);
}

/** The sgemm B operand (and its element type) for a weight matrix. */
export function weightOperand(m: Matrix): Pick<SgemmArgs, "B" | "bType"> {
  return isHalf(m) ? { B: m.bits, bType: m.type } : { B: m };
}

/** Copies n values from `offset` of the matrix, widened, into out[outOffset ..]: an embedding row. */
export function readValues(m: Matrix, offset: number, n: number, out: Float32Array, outOffset = 0): void {
  if (isHalf(m)) widenInto(m.type, m.bits, offset, n, out, outOffset);
  else out.set(m.subarray(offset, offset + n), outOffset);
}

/** A float32 copy of the whole matrix (outside kernel memory). */
export function widenedCopy(m: Matrix): Float32Array {
  const out = new Float32Array(matrixLength(m));
  readValues(m, 0, out.length, out);
  return out;
}

/** The matrix as float32 in kernel memory: itself when it already is, else a widened copy (the 16-bit one is freed). */
export function toFloat32Matrix(kernels: Kernels, m: Matrix): Float32Array {
  if (!isHalf(m)) return m;
  const out = kernels.alloc(m.bits.length);
  widenInto(m.type, m.bits, 0, m.bits.length, out);
  kernels.free(m.storage);
  return out;
}

/** The matrix's float32 values, or an error naming what needs them when it is 16-bit. */
export function float32Values(m: Matrix, what: string): Float32Array {
  if (isHalf(m)) throw new Error(`${what} needs float32 base weights; this model holds ${m.type}`);
  return m;
}
