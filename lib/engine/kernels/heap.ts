/**
 * A first-fit allocator over the kernels' shared WebAssembly memory. Tensors handed out by `alloc`
 * live in the same memory the wasm kernels read, so products on them need no copies. Freed blocks
 * are coalesced with free neighbours and reused; the memory grows when nothing free fits. Growing a
 * shared memory never detaches existing views, so arrays already handed out stay valid.
 */
import { WASM_PAGE } from "./wasm-module";

const ALIGN = 16;

interface Block {
  offset: number;
  bytes: number;
}

export class WasmHeap {
  private top: number;
  /** Free blocks below `top`, sorted by offset, never adjacent to each other. */
  private readonly freeBlocks: Block[] = [];
  private readonly used = new Map<number, number>();
  /** Every buffer object this memory has exposed (a new one appears after each growth). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();

  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
  ) {
    this.top = alignUp(base);
  }

  /** Reserves `bytes` (rounded up to 16) and returns the block's byte address. Contents are not cleared. */
  allocBytes(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`cannot allocate ${bytes} bytes`);
    const size = Math.max(ALIGN, alignUp(bytes));
    const index = this.freeBlocks.findIndex((block) => block.bytes >= size);
    let offset: number;
    if (index >= 0) {
      const block = this.freeBlocks[index];
      offset = block.offset;
      if (block.bytes === size) this.freeBlocks.splice(index, 1);
      else {
        block.offset += size;
        block.bytes -= size;
      }
    } else {
      offset = this.top;
      this.ensureCapacity(offset + size);
      this.top += size;
    }
    this.used.set(offset, size);
    return offset;
  }

  /** Returns a block from `allocBytes`; unknown addresses are ignored. */
  freeBytes(offset: number): void {
    const size = this.used.get(offset);
    if (size === undefined) return;
    this.used.delete(offset);
    let index = this.freeBlocks.findIndex((block) => block.offset > offset);
    if (index < 0) index = this.freeBlocks.length;
    const block: Block = { offset, bytes: size };
    const next = this.freeBlocks[index];
    if (next && block.offset + block.bytes === next.offset) {
      block.bytes += next.bytes;
      this.freeBlocks.splice(index, 1);
    }
    const previous = this.freeBlocks[index - 1];
    if (previous && previous.offset + previous.bytes === block.offset) {
      previous.bytes += block.bytes;
      this.trimTop();
      return;
    }
    this.freeBlocks.splice(index, 0, block);
    this.trimTop();
  }

  /** A zero-filled Float32Array of n floats in this memory. */
  alloc(n: number): Float32Array {
    const view = this.view(this.allocBytes(n * 4), n);
    view.fill(0);
    return view;
  }

  /** Frees an array from `alloc`; arrays from elsewhere (or freed twice) are ignored. */
  free(array: Float32Array): void {
    if (this.owns(array)) this.freeBytes(array.byteOffset);
  }

  /** A view of n floats at a byte address of this memory. */
  view(offset: number, n: number): Float32Array {
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    return new Float32Array(buffer, offset, n);
  }

  /** Whether the array is a view of this memory (and so can be passed to the kernels by address). */
  owns(array: ArrayBufferView): boolean {
    return this.buffers.has(array.buffer);
  }

  /** Bytes currently reserved by the memory (grows, never shrinks). */
  get capacity(): number {
    return this.memory.buffer.byteLength;
  }

  private ensureCapacity(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const needPages = Math.ceil((end - have) / WASM_PAGE);
    // Grow by at least a quarter of the current size, so a sequence of allocations grows rarely.
    const pages = Math.max(needPages, Math.ceil(have / WASM_PAGE / 4));
    try {
      this.memory.grow(pages);
    } catch {
      this.memory.grow(needPages);
    }
  }

  /** Gives a free block that ends at `top` back to the bump region. */
  private trimTop(): void {
    const last = this.freeBlocks[this.freeBlocks.length - 1];
    if (last && last.offset + last.bytes === this.top) {
      this.top = last.offset;
      this.freeBlocks.pop();
    }
  }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
