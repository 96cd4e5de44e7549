import { describe, expect, it } from "vitest";
import { FutureStore, SeqQueue, UserError } from "./server-state";

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
    expect(await store.answer("req-99", 0)).toEqual({ state: "unknown" });
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
});
