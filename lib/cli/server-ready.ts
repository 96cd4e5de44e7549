/**
 * Around `next start`: whether the port is free before it starts (so a second instance fails
 * with a sentence, not a stack trace), and when it is serving: the first answer from
 * /api/health, which comes only once the server has opened the database.
 */
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** True when something already listens on `port` (on every interface, as `next start` binds). */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") resolve(true);
      else reject(err);
    });
    probe.listen(port, () => probe.close(() => resolve(false)));
  });
}

/** How the server's first answer came: its health status, or the server exited before one. */
export type Readiness = { status: "answered"; httpStatus: number; ms: number } | { status: "exited" };

/**
 * Polls `url` until it answers (any HTTP status: 503 means up, database unreachable) or
 * `exited` settles. Each attempt is bounded, so a server that accepts but hangs is retried.
 */
export async function waitUntilServing(
  url: string,
  { exited, intervalMs = 200 }: { exited: Promise<unknown>; intervalMs?: number },
): Promise<Readiness> {
  const started = Date.now();
  let gone = false;
  void exited.finally(() => {
    gone = true;
  });
  while (!gone) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await res.body?.cancel();
      if (!gone) return { status: "answered", httpStatus: res.status, ms: Date.now() - started };
    } catch {
      // Not listening yet (or the attempt timed out): try again.
    }
    await sleep(intervalMs);
  }
  return { status: "exited" };
}
