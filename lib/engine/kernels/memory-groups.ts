/**
 * Kernels over several WebAssembly memories, for models whose tensors exceed what one wasm32
 * memory holds (4 GiB; Node 20's V8 has Memory64 only behind a flag). Each memory is a complete
 * kernel set with its own heap, instance and threads. An allocation goes to the first memory with
 * room under `bytesPerMemory`, so a model's tensors fill memory after memory in load order (its
 * embedding and first layers, then the next group of layers), and a product runs in the memory that
 * holds its largest operand, which for a projection is the weight: that kernel set copies the other
 * operands (the hidden state) in and the result out. Every product is computed by the same code on
 * the same values as in one memory, so results are identical bit for bit.
 *
 * Running out of room is an error that names the sizes; the runtime's own
 * "WebAssembly.Memory.grow(): Maximum memory size exceeded" never reaches the caller.
 */
import type { Kernels, SgemmArgs, ThreadPool } from "./types";

/** One wasm32 memory is at most 4 GiB; this much of it is left to the module, workspaces and alignment. */
const MEMORY_BYTES = 2 ** 32;
const RESERVED_BYTES = 64 * 2 ** 20;
/** Default room for tensors in one memory. */
export const DEFAULT_BYTES_PER_MEMORY = MEMORY_BYTES - RESERVED_BYTES;
/** Besides the weights: LoRA adapters, activations and (T, V) logits of one training sequence. */
export const DEFAULT_WORKING_BYTES = 2 ** 30;

export type KernelSet = Kernels & { dispose(): void };

export interface MemoryGroupsOptions {
  /** Builds the kernel set of one memory (e.g. () => createKernels({ threads })). */
  create: () => Promise<KernelSet>;
  /** Memories to create (all up front: a kernel set starts its threads asynchronously). */
  memories: number;
  /** Bytes of tensors one memory may hold (default: 4 GiB less 64 MiB). */
  bytesPerMemory?: number;
}

export interface MemoryGroups extends KernelSet {
  readonly memories: number;
  readonly bytesPerMemory: number;
  /** Bytes of live tensors in each memory. */
  liveBytes(): number[];
  /** Which memory an array from `alloc` lives in (-1 for arrays from elsewhere). */
  memoryOf(array: ArrayBufferView): number;
}

/** Memories for a model of `modelBytes` plus `workingBytes` of training state, `bytesPerMemory` each. */
export function memoriesFor(
  modelBytes: number,
  bytesPerMemory = DEFAULT_BYTES_PER_MEMORY,
  workingBytes = DEFAULT_WORKING_BYTES,
): number {
  return Math.max(1, Math.ceil((modelBytes + workingBytes) / bytesPerMemory));
}

export async function createMemoryGroups(options: MemoryGroupsOptions): Promise<MemoryGroups> {
  const cap = options.bytesPerMemory ?? DEFAULT_BYTES_PER_MEMORY;
  if (!(options.memories >= 1 && Number.isInteger(options.memories)))
    throw new RangeError(`memories must be a positive integer, got ${options.memories}`);
  if (!(cap > 0 && cap <= DEFAULT_BYTES_PER_MEMORY))
    throw new RangeError(`bytesPerMemory must be in (0, ${DEFAULT_BYTES_PER_MEMORY}], got ${cap}`);
  const sets: KernelSet[] = [];
  try {
    for (let i = 0; i < options.memories; i++) sets.push(await options.create());
  } catch (error) {
    for (const s of sets) s.dispose();
    throw error;
  }
  const live = sets.map(() => 0);
  const sizes = new WeakMap<Float32Array, { memory: number; bytes: number }>();
  /** Every buffer an allocation of memory i was a view of (a memory exposes a new one after it grows). */
  const buffers = new WeakMap<ArrayBufferLike, number>();

  const memoryOf = (array: ArrayBufferView): number => buffers.get(array.buffer) ?? -1;

  function alloc(n: number): Float32Array {
    const bytes = Math.ceil((n * 4) / 16) * 16;
    if (bytes > cap)
      throw new Error(`a tensor of ${formatBytes(n * 4)} is larger than one kernel memory (${formatBytes(cap)})`);
    for (let i = 0; i < sets.length; i++) {
      if (live[i] + bytes > cap) continue;
      let array: Float32Array;
      try {
        array = sets[i].alloc(n);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        continue; // this memory could not grow (the system refused): try the next one
      }
      live[i] += bytes;
      sizes.set(array, { memory: i, bytes });
      buffers.set(array.buffer, i);
      return array;
    }
    const held = live.reduce((a, b) => a + b, 0);
    throw new Error(
      `kernel memory is full: ${formatBytes(n * 4)} more were asked for with ${formatBytes(held)} held in ` +
        `${sets.length} ${sets.length === 1 ? "memory" : "memories"} of at most ${formatBytes(cap)} each`,
    );
  }

  function free(array: Float32Array): void {
    const entry = sizes.get(array);
    if (!entry) return;
    sizes.delete(array);
    live[entry.memory] -= entry.bytes;
    sets[entry.memory].free(array);
  }

  /** The memory of the operand with the most bytes among those in some memory; 0 when none is. */
  function memoryForProduct(args: SgemmArgs): number {
    let best = 0;
    let bestBytes = -1;
    for (const x of [args.B, args.A, args.C]) {
      const m = memoryOf(x);
      if (m >= 0 && x.byteLength > bestBytes) {
        best = m;
        bestBytes = x.byteLength;
      }
    }
    return best;
  }

  const pool = sets[0].pool;
  return {
    name: sets.length === 1 ? sets[0].name : `${sets[0].name} in ${sets.length} memories`,
    memories: sets.length,
    bytesPerMemory: cap,
    alloc,
    free,
    sgemm: (args) => sets[memoryForProduct(args)].sgemm(args),
    // Tasks run on the first memory's threads, over arrays that live there (pool.shares says which).
    pool:
      pool &&
      ({
        get threads() {
          return pool.threads;
        },
        shares: (array) => memoryOf(array) === 0 && pool.shares(array),
        run: (job) => pool.run(job),
      } satisfies ThreadPool),
    liveBytes: () => [...live],
    memoryOf,
    dispose() {
      for (const s of sets) s.dispose();
    },
  };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}
