import { describe, expect, it } from "vitest";
import { MAILBOX_BYTES, Mailbox, OP_SGEMM, OP_TASK, chunkOf, partition, type SgemmJob } from "./sgemm-protocol";

const job = (M: number, N: number, K = 64): SgemmJob => ({
  transA: false,
  transB: false,
  M,
  N,
  K,
  alpha: 1,
  a: 1024,
  lda: K,
  b: 65536,
  ldb: N,
  beta: 0,
  c: 1 << 20,
  ldc: N,
});

describe("partition", () => {
  it("cuts the longer side of C into tile-aligned chunks that cover it exactly once", () => {
    for (const [M, N] of [
      [1024, 1024],
      [512, 768],
      [129, 64],
      [1, 8192],
      [3, 2049],
      [300, 300],
    ]) {
      const part = partition(job(M, N))!;
      expect(part.byRows).toBe(M >= N);
      expect(part.size % (part.byRows ? 4 : 16)).toBe(0);
      const length = part.byRows ? M : N;
      let covered = 0;
      for (let index = 0; index < part.count; index++) {
        const chunk = chunkOf(job(M, N), part, index);
        const size = part.byRows ? chunk.M : chunk.N;
        expect(size).toBeGreaterThan(0);
        expect(part.byRows ? chunk.c : chunk.c - job(M, N).c).toBe(
          part.byRows ? job(M, N).c + covered * N * 4 : covered * 4,
        );
        covered += size;
      }
      expect(covered).toBe(length);
    }
  });

  it("never leaves a row chunk under four rows, however many threads share the product", () => {
    for (const threads of [2, 16, 17, 64, 128])
      for (const M of [4225, 4097, 1025, 8193, 16_385]) {
        const part = partition(job(M, 64), threads)!;
        const rows = Array.from({ length: part.count }, (_, i) => chunkOf(job(M, 64), part, i).M);
        expect(Math.min(...rows), `M = ${M} on ${threads} threads`).toBeGreaterThanOrEqual(4);
        expect(rows.reduce((a, b) => a + b, 0)).toBe(M);
      }
  });

  it("leaves products too narrow for two chunks on one thread", () => {
    expect(partition(job(40, 20))).toBeNull();
    expect(partition(job(1, 100))).toBeNull();
  });

  it("moves A's or B's address with the chunk according to the transpose", () => {
    const rows = { ...job(256, 16), transA: true, lda: 256 };
    expect(chunkOf(rows, partition(rows)!, 1).a).toBe(rows.a + partition(rows)!.size * 4);
    const columns = { ...job(16, 1024), transB: true, ldb: 64 };
    expect(chunkOf(columns, partition(columns)!, 1).b).toBe(columns.b + partition(columns)!.size * 64 * 4);
  });
});

describe("mailbox", () => {
  const mailbox = () => new Mailbox(new SharedArrayBuffer(MAILBOX_BYTES), 0);
  const rows = partition(job(256, 64))!;

  it("lets the caller close a job no worker joined, so a late worker cannot take it", () => {
    const box = mailbox();
    const seq = box.post(OP_SGEMM, job(64, 64), 1, rows);
    expect(box.settle()).toBe(true);
    expect(box.join(seq)).toBe(false);
    const next = box.post(OP_SGEMM, job(64, 64), 1, rows);
    expect(box.awaitJob(seq)).toBe(next);
    expect(box.join(next)).toBe(true);
  });

  it("hands a joined job's arguments and chunks over intact and reports a worker's failure", () => {
    const box = mailbox();
    const sent = { ...job(300, 17, 129), transB: true, alpha: 0.5, beta: -2, c: 0xfff00000, bKind: 0 };
    const part = partition(sent)!;
    const seq = box.post(OP_SGEMM, sent, 1, part);
    expect(box.join(seq)).toBe(true);
    expect(box.readJob()).toEqual(sent);
    expect(box.readPartition()).toEqual(part);
    expect([box.claim(), box.claim()]).toEqual([0, 1]);
    box.finish(false);
    expect(box.settle()).toBe(false);
  });

  it("counts every worker that joins and lets none in once the caller has closed the job", () => {
    const box = mailbox();
    const seq = box.post(OP_TASK, { task: 1, units: 9, args: [4096, 12, 0.25], scratch: 8192, scratchStride: 64 }, 3);
    expect([box.join(seq), box.join(seq), box.join(seq)]).toEqual([true, true, true]);
    expect(box.readTask()).toEqual({ task: 1, units: 9, args: [4096, 12, 0.25], scratch: 8192, scratchStride: 64 });
    box.finish(true);
    box.finish(true);
    box.finish(true);
    expect(box.settle()).toBe(true);
    expect(box.join(seq)).toBe(false);
  });

  it("tells every waiting worker to stop", () => {
    const box = mailbox();
    const seen = box.post(OP_SGEMM, job(64, 64), 0, rows);
    box.settle();
    box.stop();
    expect(box.awaitJob(seen)).not.toBe(seen);
    expect(box.stopped()).toBe(true);
  });
});
