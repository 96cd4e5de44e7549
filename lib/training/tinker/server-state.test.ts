import { describe, expect, it } from "vitest";
import { FutureStore, SeqGapError, SeqQueue, UserError } from "./server-state";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe("server futures and seq_id queues", () => {
  it("a future answers pending while running, then its value; a user error keeps its category", async () => {
    const store = new FutureStore(10);
    let finish = (_: unknown) => {};
    const id = store.create(new Promise((resolve) => (finish = resolve)));
    expect(await store.answer(id, 0)).toEqual({ state: "pending" });
    finish(42);
    expect(await store.answer(id, 100)).toEqual({ state: "done", value: 42 });
    const failed = store.create(Promise.reject(new UserError("bad input")));
    expect(await store.answer(failed, 100)).toEqual({ state: "failed", error: "bad input", category: "user" });
  });

  it("forgotten futures are expired (410) and ids never issued are unknown (404)", async () => {
    const store = new FutureStore(1);
    const first = store.create(Promise.resolve(1));
    await store.answer(first, 10);
    store.create(Promise.resolve(2));
    expect(await store.answer(first, 0)).toEqual({ state: "expired" });
    expect(await store.answer("req-1-99", 0)).toEqual({ state: "unknown" });
    expect(await store.answer("../../etc", 0)).toEqual({ state: "unknown" });
  });

  it("an id issued before a restart is told apart from one never issued", async () => {
    const before = new FutureStore(10, 1);
    const old = before.create(Promise.resolve("x"));
    const after = new FutureStore(10, 2);
    expect(await after.answer(old, 0)).toEqual({ state: "before_restart" });
    expect(await after.answer("req-3-1", 0)).toEqual({ state: "unknown" });
    expect(after.create(Promise.resolve(1))).toBe("req-2-1");
  });

  it("a queue runs ids in order, one at a time, waiting for gaps, and shares outcomes of repeated ids", async () => {
    const queue = new SeqQueue(1);
    const ran: number[] = [];
    const job = (n: number) => async () => (ran.push(n), n * 10);
    const three = queue.submit(3, job(3));
    const two = queue.submit(2, job(2));
    await new Promise((r) => setTimeout(r, 5));
    expect(ran).toEqual([]);
    const one = queue.submit(1, job(1));
    expect(await Promise.all([one, two, three])).toEqual([10, 20, 30]);
    expect(ran).toEqual([1, 2, 3]);
    expect(await queue.submit(2, job(2))).toBe(20);
    expect(ran).toEqual([1, 2, 3]);
    expect(queue.expected).toBe(4);
  });

  it("a failing request does not stall the ids after it", async () => {
    const queue = new SeqQueue(1);
    const failed = queue.submit(1, async () => Promise.reject(new Error("boom")));
    const next = queue.submit(2, async () => "ok");
    await expect(failed).rejects.toThrow("boom");
    expect(await next).toBe("ok");
  });

  it("a closed queue lets running work finish, fails what waits for a missing id, and refuses new work", async () => {
    const queue = new SeqQueue(1);
    let finish: (v: string) => void = () => {};
    const running = queue.submit(1, () => new Promise<string>((r) => (finish = r)));
    const stranded = queue.submit(3, async () => "never").catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 5));
    let closed = false;
    const closing = queue.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(closed).toBe(false);
    finish("done");
    await closing;
    expect(await running).toBe("done");
    expect(String(await stranded)).toMatch(/unloaded/);
    expect(() => queue.submit(2, async () => "late")).toThrow(/unloaded/);
  });

  it("a refused id counts as run: the id after it does not wait, and a resubmit of it fails the same way", async () => {
    const queue = new SeqQueue(1, { gapTimeoutMs: 10_000 });
    const ran: number[] = [];
    const second = queue.submit(2, async () => (ran.push(2), "two"));
    await tick();
    expect(ran).toEqual([]);
    queue.refuse(1, new UserError("datum 0: target_tokens is missing"));
    expect(await second).toBe("two");
    await expect(queue.submit(1, async () => "late")).rejects.toThrow(/target_tokens/);
    expect(queue.expected).toBe(3);
  });

  it("refusing an id that is already queued or has run changes nothing", async () => {
    const queue = new SeqQueue(1);
    let finish: (v: string) => void = () => {};
    const first = queue.submit(1, () => new Promise<string>((r) => (finish = r)));
    queue.refuse(1, new Error("a duplicate with a bad body"));
    await tick();
    finish("kept");
    expect(await first).toBe("kept");
    queue.refuse(1, new Error("late"));
    expect(await queue.submit(2, async () => "next")).toBe("next");
  });

  it("requests waiting on an id that never comes fail after the gap timeout, and the model takes new ids", async () => {
    const queue = new SeqQueue(1, { gapTimeoutMs: 40 });
    const ran: number[] = [];
    const job = (n: number) => async () => (ran.push(n), n);
    expect(await queue.submit(1, job(1))).toBe(1);
    const started = Date.now();
    const third = queue.submit(3, job(3)).catch((e: Error) => e);
    const fourth = queue.submit(4, job(4)).catch((e: Error) => e);
    const [e3, e4] = await Promise.all([third, fourth]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
    expect(e3).toBeInstanceOf(SeqGapError);
    expect(String(e3)).toMatch(/seq_id 2 never arrived.*seq_ids 2–4.*as seq_id 1 left it.*takes seq_id 5 next/);
    expect(e4).toBe(e3);
    expect(ran).toEqual([1]);
    // The missing id, arriving late, is told it was dropped; the next id runs at once.
    await expect(queue.submit(2, job(2))).rejects.toThrow(/never arrived/);
    expect(await queue.submit(5, job(5))).toBe(5);
    expect(ran).toEqual([1, 5]);
  });

  it("the gap wait restarts whenever another request reaches the model", async () => {
    const queue = new SeqQueue(1, { gapTimeoutMs: 60 });
    const results: unknown[] = [];
    for (const seqId of [2, 3, 4]) {
      void queue.submit(seqId, async () => seqId).then((v) => results.push(v));
      await tick(35);
    }
    // 105 ms since the first waiter, never 60 ms without news: nothing failed.
    expect(results).toEqual([]);
    expect(await queue.submit(1, async () => 1)).toBe(1);
    await tick();
    expect(results).toEqual([2, 3, 4]);
  });

  it("a running request is never cut short by the gap timeout", async () => {
    const queue = new SeqQueue(1, { gapTimeoutMs: 20 });
    const slow = queue.submit(1, async () => (await tick(80), "slow"));
    const next = queue.submit(2, async () => "next");
    expect(await slow).toBe("slow");
    expect(await next).toBe("next");
  });
});
