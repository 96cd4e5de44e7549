/**
 * A child process's exit as the command's exit code, with our SIGINT/SIGTERM passed on to it
 * while it runs, so Ctrl-C stops a build or the server instead of orphaning it.
 */
import type { ChildProcess } from "node:child_process";

/** The exit code of a process stopped by Ctrl-C (SIGINT), as a shell reports it. */
export const INTERRUPTED = 130;

export function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);
    const stopForwarding = () => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
    };
    child.once("error", (err) => {
      stopForwarding();
      reject(err);
    });
    // "close", not "exit": piped output is fully read by then.
    child.once("close", (code, signal) => {
      stopForwarding();
      resolve(code ?? (signal === "SIGINT" ? INTERRUPTED : signal === "SIGTERM" ? 143 : 1));
    });
  });
}
