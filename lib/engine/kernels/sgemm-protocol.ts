/**
 * How a calling thread shares one sgemm with its worker thread. The product is cut into chunks of
 * whole tiles (row blocks or column blocks of C) and both threads claim chunks from a shared
 * counter until none are left, so a worker that wakes late or shares its core with other work
 * simply takes fewer chunks instead of holding the caller up. The job travels through a mailbox
 * of 32-bit slots in the shared memory, read and written with Atomics (no message passing, no
 * event loop turn): a sequence number the worker waits on, and a state word that the worker must
 * move from open to joined before touching the job. A caller that finishes every chunk while the
 * job is still open closes it and returns at once, so a worker that is asleep or descheduled
 * never delays a product; only a worker that joined is waited for.
 */
export const MAILBOX_BYTES = 96;

const SEQ = 0;
const STATE = 1;
const OP = 2;
const STATUS = 3;
const NEXT = 4;
const ARGS = 5;

// Phases of the state word, which holds (seq << 2) | phase.
const OPEN = 0;
const JOINED = 1;
const DONE = 2;
const CLOSED = 3;

function stateOf(seq: number, phase: number): number {
  return (seq << 2) | phase;
}

export const OP_SGEMM = 1;
export const OP_STOP = 2;

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
  beta: number;
  c: number;
  ldc: number;
}

/** C cut into `count` blocks of `size` rows (byRows) or columns, the last one possibly shorter. */
export interface Partition {
  byRows: boolean;
  size: number;
  count: number;
}

/** Row and column granularity of the micro-kernel (MR and a multiple of NR in sgemm.c). */
const ROW_TILE = 4;
const COLUMN_TILE = 16;
/**
 * Each chunk repacks the operand it shares with the other chunks (B for row chunks, A for column
 * chunks), which costs about as much as 128 columns' or rows' worth of arithmetic costs 7 % of
 * (measured). Chunks of at least that size, up to 8 of them, keep the repacking small while still
 * letting a slowed worker hand most of the work back to the caller.
 */
const CHUNK_LENGTH = 128;
const MAX_CHUNKS = 8;

/** Cuts C along its longer side; null when it is too small to give each thread a chunk. */
export function partition(job: SgemmJob): Partition | null {
  const byRows = job.M >= job.N;
  const length = byRows ? job.M : job.N;
  if (length < CHUNK_LENGTH) return null;
  const tile = byRows ? ROW_TILE : COLUMN_TILE;
  const count = Math.max(2, Math.min(MAX_CHUNKS, Math.floor(length / CHUNK_LENGTH)));
  const size = Math.ceil(length / count / tile) * tile;
  return { byRows, size, count: Math.ceil(length / size) };
}

/** The sub-product that computes chunk `index` of C. */
export function chunkOf(job: SgemmJob, part: Partition, index: number): SgemmJob {
  const start = index * part.size;
  if (part.byRows) {
    const rows = Math.min(part.size, job.M - start);
    return { ...job, M: rows, a: job.a + (job.transA ? start : start * job.lda) * 4, c: job.c + start * job.ldc * 4 };
  }
  const columns = Math.min(part.size, job.N - start);
  return { ...job, N: columns, b: job.b + (job.transB ? start * job.ldb : start) * 4, c: job.c + start * 4 };
}

export interface SgemmWorkerData {
  memory: WebAssembly.Memory;
  wasmPath: string;
  mailbox: number;
  work: number;
}

export class Mailbox {
  private readonly ints: Int32Array;
  private readonly floats: Float32Array;

  constructor(buffer: ArrayBufferLike, offset: number) {
    this.ints = new Int32Array(buffer, offset, MAILBOX_BYTES / 4);
    this.floats = new Float32Array(buffer, offset, MAILBOX_BYTES / 4);
  }

  /**
   * Caller: publishes a job (or OP_STOP) and wakes the worker; returns the job's sequence number.
   * Only call once the previous job is settled (see `settle`), so the worker never reads a
   * half-written job.
   */
  post(op: number, job?: SgemmJob, part?: Partition): number {
    if (job && part) this.writeJob(job, part);
    this.ints[OP] = op;
    this.ints[STATUS] = 0;
    Atomics.store(this.ints, NEXT, 0);
    const seq = (this.ints[SEQ] + 1) | 0;
    Atomics.store(this.ints, STATE, stateOf(seq, OPEN));
    Atomics.store(this.ints, SEQ, seq);
    Atomics.notify(this.ints, SEQ, 1);
    return seq;
  }

  /**
   * Caller, after its own chunks: closes the job if the worker never joined it, else blocks until
   * the worker is done. Returns false when the worker reported a failure.
   */
  settle(seq: number): boolean {
    const open = stateOf(seq, OPEN);
    if (Atomics.compareExchange(this.ints, STATE, open, stateOf(seq, CLOSED)) === open) return true;
    const done = stateOf(seq, DONE);
    for (;;) {
      const state = Atomics.load(this.ints, STATE);
      if (state === done) return this.ints[STATUS] === 0;
      Atomics.wait(this.ints, STATE, state);
    }
  }

  /** Worker: blocks until a job newer than `seen` is posted, returns its sequence number. */
  awaitJob(seen: number): number {
    for (;;) {
      const seq = Atomics.load(this.ints, SEQ);
      if (seq !== seen) return seq;
      Atomics.wait(this.ints, SEQ, seen);
    }
  }

  /** Worker: claims job `seq` before reading it; false when the caller already closed it. */
  join(seq: number): boolean {
    const open = stateOf(seq, OPEN);
    return Atomics.compareExchange(this.ints, STATE, open, stateOf(seq, JOINED)) === open;
  }

  /** Worker: reports a joined job finished (ok = false when it threw) and wakes the caller. */
  finish(seq: number, ok: boolean): void {
    this.ints[STATUS] = ok ? 0 : 1;
    Atomics.store(this.ints, STATE, stateOf(seq, DONE));
    Atomics.notify(this.ints, STATE, 1);
  }

  op(): number {
    return this.ints[OP];
  }

  /** Either side: takes the next unclaimed chunk index of the current job. */
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
    };
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

type KernelsInstance = { sgemm: (...args: number[]) => void };

/** Runs one job on a kernels instance with the given workspace. */
export function runSgemmJob(exports: KernelsInstance, job: SgemmJob, work: number): void {
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
