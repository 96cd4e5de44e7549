import fs from "node:fs";
import os from "node:os";
import { describe, expect, it } from "vitest";
import { lowerThisThreadsPriority, threadId } from "./thread-priority";

describe.runIf(fs.existsSync("/proc/thread-self"))("background thread priority", () => {
  it("names the calling thread: on the main thread its id is the process id", () => {
    expect(threadId()).toBe(process.pid);
  });

  it("never raises a thread's priority: asking for a lower nice value than it has changes nothing", () => {
    const before = os.getPriority(process.pid);
    expect(lowerThisThreadsPriority(before - 1)).toBe(before);
    expect(os.getPriority(process.pid)).toBe(before);
  });
});
