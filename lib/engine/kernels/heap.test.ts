import { describe, expect, it } from "vitest";
import { WasmHeap } from "./heap";
import { createSharedMemory } from "./wasm-module";

const heap = () => new WasmHeap(createSharedMemory(1), 100);

describe("WasmHeap", () => {
  it("starts above the module's own data and keeps every block 16-byte aligned", () => {
    const h = heap();
    const first = h.allocBytes(5);
    const second = h.allocBytes(17);
    expect(first).toBe(112);
    expect(second).toBe(128);
    expect(h.allocBytes(1) - second).toBe(32);
  });

  it("merges freed neighbours so a larger block fits where two smaller ones were", () => {
    const h = heap();
    const a = h.allocBytes(64);
    const b = h.allocBytes(64);
    const guard = h.allocBytes(16);
    h.freeBytes(a);
    h.freeBytes(b);
    expect(h.allocBytes(128)).toBe(a);
    expect(h.allocBytes(16)).toBeGreaterThan(guard);
  });

  it("splits a larger free block and returns the rest for later requests", () => {
    const h = heap();
    const big = h.allocBytes(1024);
    h.allocBytes(16);
    h.freeBytes(big);
    expect(h.allocBytes(256)).toBe(big);
    expect(h.allocBytes(512)).toBe(big + 256);
  });

  it("hands memory freed at the top back, and ignores unknown or repeated frees", () => {
    const h = heap();
    const a = h.allocBytes(64);
    const b = h.allocBytes(64);
    h.freeBytes(b);
    h.freeBytes(b);
    h.freeBytes(12345);
    expect(h.allocBytes(64)).toBe(b);
    h.freeBytes(a);
    expect(h.allocBytes(32)).toBe(a);
  });

  it("grows the memory when nothing free fits, keeping earlier views readable", () => {
    const h = heap();
    const before = h.capacity;
    const small = h.alloc(8).fill(3);
    const large = h.alloc(before / 4);
    expect(h.capacity).toBeGreaterThan(before);
    expect(large.length).toBe(before / 4);
    expect(Array.from(small)).toEqual(new Array(8).fill(3));
    expect(h.owns(small) && h.owns(large)).toBe(true);
    expect(h.owns(new Float32Array(8))).toBe(false);
  });
});
