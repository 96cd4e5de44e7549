/**
 * The element-wise parts of a pass (ops.ts: RMSNorm, rotary, SwiGLU) on every thread of the
 * kernels' pool: each takes the kernels first and otherwise the arguments of its ops.ts function,
 * and runs that same function over blocks of whole rows (or of elements, for SwiGLU) on the pool's
 * threads when the pass is large enough and every array lives in the shared memory; else it calls
 * the ops.ts function directly. Each row's values depend on that row only, so the split is bit
 * for bit the same as one thread. RMSNorm's backward with a weight gradient (full-parameter
 * training) sums over rows and so stays on one thread.
 */
import type { Kernels, TaskContext, ThreadPool } from "./kernels/types";
import { rmsnormBackward, rmsnormForward, rope, swigluBackward, swigluForward } from "./ops";
import { taskId } from "./threads";

/** Below this many values a pool's wake-up costs more than the split saves (a few tens of microseconds). */
const PARALLEL_MIN_VALUES = 1 << 16;
/** Values per unit: enough to amortise claiming one, few enough to balance the threads. */
const VALUES_PER_UNIT = 1 << 14;

const RMSNORM_FORWARD = 0;
const RMSNORM_BACKWARD = 1;
const ROPE = 2;
const SWIGLU_FORWARD = 3;
const SWIGLU_BACKWARD = 4;

function poolFor(k: Kernels, values: number, arrays: Float32Array[]): ThreadPool | null {
  const pool = k.pool;
  if (!pool || pool.threads < 2 || values < PARALLEL_MIN_VALUES) return null;
  return arrays.every((a) => pool.shares(a)) ? pool : null;
}

/** Posts op over `rows` rows of `width` values, the arrays as (byteOffset, length) pairs (0, 0 for none). */
function post(
  pool: ThreadPool,
  op: number,
  rows: number,
  width: number,
  arrays: (Float32Array | null)[],
  scalars: number[],
): void {
  const rowsPerUnit = Math.max(1, Math.floor(VALUES_PER_UNIT / width));
  const args = [
    op,
    rows,
    width,
    rowsPerUnit,
    ...scalars,
    ...arrays.flatMap((a) => (a ? [a.byteOffset, a.length] : [0, 0])),
  ];
  pool.run({ task: taskId("elementwise"), args, units: Math.ceil(rows / rowsPerUnit), scratchFloats: 0, flops: 0 });
}

/** ops.rmsnormForward on the pool. */
export function rmsnormForwardOn(
  k: Kernels,
  y: Float32Array,
  rstd: Float32Array | null,
  x: Float32Array,
  w: Float32Array,
  rows: number,
  D: number,
  eps: number,
): void {
  const pool = poolFor(k, rows * D, rstd ? [y, rstd, x, w] : [y, x, w]);
  if (!pool) {
    rmsnormForward(y, rstd, x, w, rows, D, eps);
    return;
  }
  post(pool, RMSNORM_FORWARD, rows, D, [y, rstd, x, w], [eps]);
}

/** ops.rmsnormBackward on the pool (on one thread when it adds a weight gradient). */
export function rmsnormBackwardOn(
  k: Kernels,
  dx: Float32Array,
  dy: Float32Array,
  x: Float32Array,
  w: Float32Array,
  rstd: Float32Array,
  rows: number,
  D: number,
  accumulate: boolean,
  dw: Float32Array | null = null,
): void {
  const pool = dw ? null : poolFor(k, rows * D, [dx, dy, x, w, rstd]);
  if (!pool) {
    rmsnormBackward(dx, dy, x, w, rstd, rows, D, accumulate, dw);
    return;
  }
  post(pool, RMSNORM_BACKWARD, rows, D, [dx, dy, x, w, rstd], [accumulate ? 1 : 0]);
}

/**
 * ops.rope on the pool. The tables usually live outside the shared memory, so the rows' part of
 * them is copied in for the call (T·HD floats, small next to the T·H·HD values rotated).
 */
export function ropeOn(
  k: Kernels,
  x: Float32Array,
  T: number,
  H: number,
  HD: number,
  pos0: number,
  cos: Float32Array,
  sin: Float32Array,
  inverse: boolean,
): void {
  const pool = poolFor(k, T * H * HD, [x]);
  if (!pool) {
    rope(x, T, H, HD, pos0, cos, sin, inverse);
    return;
  }
  const half = HD / 2;
  const tables = k.alloc(2 * T * half);
  try {
    tables.set(cos.subarray(pos0 * half, (pos0 + T) * half), 0);
    tables.set(sin.subarray(pos0 * half, (pos0 + T) * half), T * half);
    post(pool, ROPE, T, H * HD, [x, tables], [H, HD, inverse ? 1 : 0]);
  } finally {
    k.free(tables);
  }
}

/** ops.swigluForward on the pool. */
export function swigluForwardOn(k: Kernels, h: Float32Array, gate: Float32Array, up: Float32Array, n: number): void {
  const pool = poolFor(k, n, [h, gate, up]);
  if (!pool) {
    swigluForward(h, gate, up, n);
    return;
  }
  post(pool, SWIGLU_FORWARD, n, 1, [h, gate, up], []);
}

/** ops.swigluBackward on the pool. */
export function swigluBackwardOn(
  k: Kernels,
  dgate: Float32Array,
  dup: Float32Array,
  dh: Float32Array,
  gate: Float32Array,
  up: Float32Array,
  n: number,
): void {
  const pool = poolFor(k, n, [dgate, dup, dh, gate, up]);
  if (!pool) {
    swigluBackward(dgate, dup, dh, gate, up, n);
    return;
  }
  post(pool, SWIGLU_BACKWARD, n, 1, [dgate, dup, dh, gate, up], []);
}

/** The pool task: rows [unit·rowsPerUnit, …) of one op, through the same ops.ts function. */
export function elementwiseTask(ctx: TaskContext, args: readonly number[], unit: number): void {
  const [op, rows, width, rowsPerUnit] = args;
  const r0 = unit * rowsPerUnit;
  const r1 = Math.min(rows, r0 + rowsPerUnit);
  const n = r1 - r0;
  const scalarCount = op === RMSNORM_FORWARD || op === RMSNORM_BACKWARD ? 1 : op === ROPE ? 3 : 0;
  const scalars = args.slice(4, 4 + scalarCount);
  const at = 4 + scalarCount;
  const array = (i: number) => (args[at + 2 * i + 1] === 0 ? null : ctx.f32(args[at + 2 * i], args[at + 2 * i + 1]));
  const rowsOf = (a: Float32Array) => a.subarray(r0 * width, r1 * width);
  switch (op) {
    case RMSNORM_FORWARD: {
      const rstd = array(1);
      const [y, x, w] = [array(0)!, array(2)!, array(3)!];
      rmsnormForward(rowsOf(y), rstd?.subarray(r0, r1) ?? null, rowsOf(x), w, n, width, scalars[0]);
      return;
    }
    case RMSNORM_BACKWARD: {
      const [dx, dy, x, w, rstd] = [0, 1, 2, 3, 4].map((i) => array(i)!);
      rmsnormBackward(rowsOf(dx), rowsOf(dy), rowsOf(x), w, rstd.subarray(r0, r1), n, width, scalars[0] === 1);
      return;
    }
    case ROPE: {
      const [H, HD, inverse] = scalars;
      const [x, tables] = [array(0)!, array(1)!];
      const half = HD / 2;
      const cos = tables.subarray(r0 * half, r1 * half);
      const sin = tables.subarray(rows * half + r0 * half, rows * half + r1 * half);
      rope(rowsOf(x), n, H, HD, 0, cos, sin, inverse === 1);
      return;
    }
    case SWIGLU_FORWARD: {
      const [h, gate, up] = [0, 1, 2].map((i) => rowsOf(array(i)!));
      swigluForward(h, gate, up, n);
      return;
    }
    case SWIGLU_BACKWARD: {
      const [dgate, dup, dh, gate, up] = [0, 1, 2, 3, 4].map((i) => rowsOf(array(i)!));
      swigluBackward(dgate, dup, dh, gate, up, n);
      return;
    }
    default:
      throw new Error(`elementwise task: unknown op ${op}`);
  }
}
