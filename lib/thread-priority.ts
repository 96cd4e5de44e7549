/**
 * Background priority for the calling thread. The embedded engine's threads (its worker and the
 * kernels' helpers) compute for as long as there is work: twenty people sampling, a queue of
 * training steps. At the same priority they share the cores evenly with the server's main thread,
 * which answers every request and runs the database, so a decision waits behind them for its
 * slice. Niced, they still get every core the main thread leaves idle, and yield it the moment a
 * request arrives.
 * Linux gives each thread its own nice value: setpriority on the thread's id (which
 * /proc/thread-self names) changes that thread alone. Elsewhere this does nothing.
 */
import fs from "node:fs";
import os from "node:os";

/** The nice value of the engine's threads: CFS then gives a runnable main thread about 9 parts in 10. */
export const BACKGROUND_NICE = 10;

/** The calling thread's kernel id, or null where /proc/thread-self does not exist. */
export function threadId(): number | null {
  try {
    const tid = Number(fs.readlinkSync("/proc/thread-self").split("/").at(-1));
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/**
 * Lowers the calling thread's priority to `nice` (never raises it: a thread already nicer stays
 * so). Returns the thread's nice value after, or null where threads cannot be niced one by one.
 */
export function lowerThisThreadsPriority(nice: number = BACKGROUND_NICE): number | null {
  const tid = threadId();
  if (tid === null) return null;
  try {
    if (os.getPriority(tid) < nice) os.setPriority(tid, nice);
    return os.getPriority(tid);
  } catch {
    return null;
  }
}
