/**
 * The engine's threads yield to the server's: its worker and the kernels' helper threads run at
 * background priority (lib/thread-priority.ts), the thread that started them keeps its own.
 */
import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { BACKGROUND_NICE } from "../thread-priority";
import { EngineClient } from "./client";
import { tinyConfig } from "./testing";

/** The nice value of one of this process's threads (field 19 of its /proc stat line). */
function niceOf(tid: number): number {
  const stat = fs.readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}
const threads = () => fs.readdirSync(`/proc/${process.pid}/task`).map(Number);

describe.runIf(fs.existsSync("/proc/thread-self"))("the engine's thread priority", () => {
  let client: EngineClient | null = null;
  afterAll(async () => {
    await client?.close();
  });

  it("runs the engine's worker and its two helper threads niced, and leaves the caller's thread as it was", async () => {
    const mainBefore = niceOf(process.pid);
    const before = new Set(threads());
    client = await EngineClient.start({ model: { random: tinyConfig(), seed: 1 }, kernels: "fast", threads: 3 });
    expect(client.kernelsName).toContain("x3");
    const started = threads().filter((tid) => !before.has(tid));
    const niced = started.filter((tid) => niceOf(tid) >= BACKGROUND_NICE);
    // The worker and its two helpers; Node's own threads of a new worker stay as they were.
    expect(niced.length).toBeGreaterThanOrEqual(3);
    expect(niceOf(process.pid)).toBe(mainBefore);
  });
});
