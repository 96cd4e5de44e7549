/**
 * How a calling thread shares work with its worker threads: one sgemm cut into chunks of whole
 * tiles (row blocks or column blocks of C), or one task (see ../threads.ts) over a number of
 * units. Every thread claims chunks or units from a shared counter until none are left, so a worker
 * that wakes late or shares its core with other work simply takes fewer instead of holding the
 * caller up. The job travels through a mailbox of 32-bit slots in the shared memory, read and
 * written with Atomics (no message passing, no event loop turn): a sequence number the workers
 * wait on, and a gate word that counts the workers inside the job. A worker must pass the gate
 * (increment it while it is open) before touching the job; the caller, once it has run out of
 * chunks itself, closes the gate and waits only for the workers already inside, so a worker that
 * is asleep or descheduled never delays a product.
 */
export const MAILBOX_BYTES = 384;

const SEQ = 0;
const GATE = 1;
const OP = 2;
const STATUS = 3;
const NEXT = 4;
const STOPPED = 5;
const ARGS = 6; // 16 slots: an sgemm job and its partition
const TASK = 22;
const UNITS = 23;
const SCRATCH = 24;
const SCRATCH_STRIDE = 25;
/** How the job's B is stored (SgemmJob.bKind). */
const B_KIND = 26;
/** Task arguments are float64 (byte addresses and sizes stay exact), from byte 128 of the mailbox. */
const TASK_ARGS_AT = 128;
export const MAX_TASK_ARGS = (MAILBOX_BYTES - TASK_ARGS_AT) / 8;

// The gate holds (seq & 0xffffff) << 8 | CLOSED | joined: 7 bits count the workers inside.
const CLOSED = 0x80;
const JOINED_MASK = 0x7f;
/** Workers one mailbox can serve: the joined count has 7 bits. */
export const MAX_WORKERS = JOINED_MASK;

function gateOf(seq: number): number {
  return (seq & 0xffffff) << 8;
}

export const OP_SGEMM = 1;
export const OP_TASK = 2;

/** One sgemm call with every pointer already resolved to a byte address. */
export interface SgemmJob {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  alpha: number;
  a: number;
  lda: number;
  b: number;
  ldb: number;
  /** How B is stored: B_F32 (when absent), or 16-bit B_BF16 / B_F16 (wasm/sgemm.c's kinds). */
  bKind?: number;
  beta: number;
  c: number;
  ldc: number;
}

export const B_F32 = 0;
export const B_BF16 = 1;
export const B_F16 = 2;

/** C cut into `count` blocks of `size` rows (byRows) or columns, the last one possibly shorter. */
export interface Partition {
  byRows: boolean;
  size: number;
  count: number;
}

/** One task over units 0..units-1; thread i's scratch is at scratch + i · scratchStride bytes. */
export interface TaskJob {
  task: number;
  units: number;
  args: readonly number[];
  scratch: number;
  scratchStride: number;
}

/** Row and column granularity of the micro-kernel (MR and a multiple of NR in sgemm.c). */
const ROW_TILE = 4;
const COLUMN_TILE = 16;
/**
 * Each chunk repacks the operand it shares with the other chunks (B for row chunks, A for column
 * chunks), which costs about as much as 128 columns' or rows' worth of arithmetic costs 7 % of
 * (measured). Chunks of at least that size, up to 8 of them (or two per thread on a larger pool),
 * keep the repacking small while still letting a slowed worker hand most of the work back.
 */
const CHUNK_LENGTH = 128;
const MAX_CHUNKS = 8;

/**
 * Cuts C along its longer side; null when it is too small to give two threads a chunk. Chunks
 * are whole row tiles (4) or column tiles (16) and row chunks never fall below 4 rows, so every
 * element of C is computed by the same code path in the same order as in the unsplit product:
 * the split changes which thread computes an element, never its value.
 */
export function partition(job: SgemmJob, threads = 2): Partition | null {
  const byRows = job.M >= job.N;
  const length = byRows ? job.M : job.N;
  if (length < CHUNK_LENGTH) return null;
  const tile = byRows ? ROW_TILE : COLUMN_TILE;
  const maxChunks = Math.max(MAX_CHUNKS, 2 * threads);
  const count = Math.max(2, Math.min(maxChunks, Math.floor(length / CHUNK_LENGTH)));
  const size = Math.ceil(length / count / tile) * tile;
  let chunks = Math.ceil(length / size);
  // A last row chunk under one row tile would take the matrix-vector path, which sums in another
  // order: it joins the chunk before it instead (chunkOf gives the last chunk every row left).
  if (byRows && length - (chunks - 1) * size < ROW_TILE) chunks--;
  return { byRows, size, count: chunks };
}

/** The sub-product that computes chunk `index` of C. */
export function chunkOf(job: SgemmJob, part: Partition, index: number): SgemmJob {
  const start = index * part.size;
  const last = index === part.count - 1;
  if (part.byRows) {
    const rows = last ? job.M - start : part.size;
    return { ...job, M: rows, a: job.a + (job.transA ? start : start * job.lda) * 4, c: job.c + start * job.ldc * 4 };
  }
  const columns = last ? job.N - start : part.size;
  const bBytes = (job.bKind ?? B_F32) === B_F32 ? 4 : 2;
  return { ...job, N: columns, b: job.b + (job.transB ? start * job.ldb : start) * bBytes, c: job.c + start * 4 };
}

export interface SgemmWorkerData {
  memory: WebAssembly.Memory;
  wasmPath: string;
  mailbox: number;
  work: number;
  /** This worker's thread index (the caller is 0): which scratch block of a task it uses. */
  index: number;
}

export class Mailbox {
  private readonly ints: Int32Array;
  private readonly floats: Float32Array;
  private readonly doubles: Float64Array;

  constructor(buffer: ArrayBufferLike, offset: number) {
    this.ints = new Int32Array(buffer, offset, MAILBOX_BYTES / 4);
    this.floats = new Float32Array(buffer, offset, MAILBOX_BYTES / 4);
    this.doubles = new Float64Array(buffer, offset + TASK_ARGS_AT, MAX_TASK_ARGS);
  }

  /**
   * Caller: publishes a job and wakes up to `wake` workers; returns the job's sequence number.
   * Only call once the previous job is settled (see `settle`), so no worker is still inside it.
   */
  post(op: number, job: SgemmJob | TaskJob, wake: number, part?: Partition): number {
    if (op === OP_SGEMM && part) this.writeJob(job as SgemmJob, part);
    else this.writeTask(job as TaskJob);
    this.ints[OP] = op;
    this.ints[STATUS] = 0;
    Atomics.store(this.ints, NEXT, 0);
    const seq = (this.ints[SEQ] + 1) | 0;
    Atomics.store(this.ints, GATE, gateOf(seq));
    Atomics.store(this.ints, SEQ, seq);
    if (wake > 0) Atomics.notify(this.ints, SEQ, wake);
    return seq;
  }

  /**
   * Caller, after it ran out of chunks: closes the gate, so no worker joins any more, and blocks
   * until every worker that joined has finished. Returns false when one of them reported a failure.
   */
  settle(): boolean {
    let gate = Atomics.or(this.ints, GATE, CLOSED) | CLOSED;
    while ((gate & JOINED_MASK) !== 0) {
      Atomics.wait(this.ints, GATE, gate);
      gate = Atomics.load(this.ints, GATE);
    }
    return Atomics.load(this.ints, STATUS) === 0;
  }

  /** Caller: tells every worker to leave its loop. */
  stop(): void {
    Atomics.store(this.ints, STOPPED, 1);
    Atomics.add(this.ints, SEQ, 1);
    Atomics.notify(this.ints, SEQ);
  }

  /** Worker: blocks until a job newer than `seen` is posted (or stop), returns its sequence number. */
  awaitJob(seen: number): number {
    for (;;) {
      const seq = Atomics.load(this.ints, SEQ);
      if (seq !== seen) return seq;
      Atomics.wait(this.ints, SEQ, seen);
    }
  }

  stopped(): boolean {
    return Atomics.load(this.ints, STOPPED) !== 0;
  }

  /** Worker: passes the gate of job `seq` before reading it; false when it is closed or superseded. */
  join(seq: number): boolean {
    const open = gateOf(seq);
    for (;;) {
      const gate = Atomics.load(this.ints, GATE);
      if ((gate & ~JOINED_MASK) !== open) return false;
      if (Atomics.compareExchange(this.ints, GATE, gate, gate + 1) === gate) return true;
    }
  }

  /** Worker: leaves a joined job (ok = false when it threw); the last one out of a closed job wakes the caller. */
  finish(ok: boolean): void {
    if (!ok) Atomics.store(this.ints, STATUS, 1);
    const after = Atomics.sub(this.ints, GATE, 1) - 1;
    if ((after & CLOSED) !== 0 && (after & JOINED_MASK) === 0) Atomics.notify(this.ints, GATE);
  }

  op(): number {
    return this.ints[OP];
  }

  /** Any thread: takes the next unclaimed chunk or unit index of the current job. */
  claim(): number {
    return Atomics.add(this.ints, NEXT, 1);
  }

  readPartition(): Partition {
    const i = this.ints;
    return { byRows: i[ARGS + 13] !== 0, size: i[ARGS + 14], count: i[ARGS + 15] };
  }

  readJob(): SgemmJob {
    const i = this.ints;
    const f = this.floats;
    return {
      transA: i[ARGS] !== 0,
      transB: i[ARGS + 1] !== 0,
      M: i[ARGS + 2],
      N: i[ARGS + 3],
      K: i[ARGS + 4],
      alpha: f[ARGS + 5],
      a: i[ARGS + 6] >>> 0,
      lda: i[ARGS + 7],
      b: i[ARGS + 8] >>> 0,
      ldb: i[ARGS + 9],
      beta: f[ARGS + 10],
      c: i[ARGS + 11] >>> 0,
      ldc: i[ARGS + 12],
      bKind: i[B_KIND],
    };
  }

  readTask(): TaskJob {
    const i = this.ints;
    const count = i[TASK] >>> 16;
    return {
      task: i[TASK] & 0xffff,
      units: i[UNITS],
      args: Array.from(this.doubles.subarray(0, count)),
      scratch: i[SCRATCH] >>> 0,
      scratchStride: i[SCRATCH_STRIDE] >>> 0,
    };
  }

  private writeTask(job: TaskJob): void {
    if (job.args.length > MAX_TASK_ARGS) throw new RangeError(`a task takes at most ${MAX_TASK_ARGS} arguments`);
    const i = this.ints;
    i[TASK] = (job.args.length << 16) | job.task;
    i[UNITS] = job.units;
    i[SCRATCH] = job.scratch | 0;
    i[SCRATCH_STRIDE] = job.scratchStride | 0;
    this.doubles.set(job.args);
  }

  private writeJob(job: SgemmJob, part: Partition): void {
    const i = this.ints;
    const f = this.floats;
    i[ARGS] = job.transA ? 1 : 0;
    i[ARGS + 1] = job.transB ? 1 : 0;
    i[ARGS + 2] = job.M;
    i[ARGS + 3] = job.N;
    i[ARGS + 4] = job.K;
    f[ARGS + 5] = job.alpha;
    i[ARGS + 6] = job.a | 0;
    i[ARGS + 7] = job.lda;
    i[ARGS + 8] = job.b | 0;
    i[ARGS + 9] = job.ldb;
    f[ARGS + 10] = job.beta;
    i[ARGS + 11] = job.c | 0;
    i[ARGS + 12] = job.ldc;
    i[ARGS + 13] = part.byRows ? 1 : 0;
    i[ARGS + 14] = part.size;
    i[ARGS + 15] = part.count;
    i[B_KIND] = job.bKind ?? B_F32;
  }
}

/** Computes chunks of `job` until the shared counter runs past the last one. */
export function runClaimedChunks(
  exports: KernelsInstance,
  job: SgemmJob,
  part: Partition,
  mailbox: Mailbox,
  work: number,
): void {
  for (let index = mailbox.claim(); index < part.count; index = mailbox.claim()) {
    runSgemmJob(exports, chunkOf(job, part, index), work);
  }
}

type KernelsInstance = { sgemm: (...args: number[]) => void; sgemm_half: (...args: number[]) => void };

/** Runs one job on a kernels instance with the given workspace. */
export function runSgemmJob(exports: KernelsInstance, job: SgemmJob, work: number): void {
  if ((job.bKind ?? B_F32) !== B_F32) {
    exports.sgemm_half(
      job.transA ? 1 : 0,
      job.transB ? 1 : 0,
      job.M,
      job.N,
      job.K,
      job.alpha,
      job.a,
      job.lda,
      job.b,
      job.ldb,
      job.beta,
      job.c,
      job.ldc,
      work,
      job.bKind ?? B_F32,
    );
    return;
  }
  exports.sgemm(
    job.transA ? 1 : 0,
    job.transB ? 1 : 0,
    job.M,
    job.N,
    job.K,
    job.alpha,
    job.a,
    job.lda,
    job.b,
    job.ldb,
    job.beta,
    job.c,
    job.ldc,
    work,
  );
}
