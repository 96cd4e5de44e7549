/**
 * One process owns a PGlite data directory. PGlite has no lock of its own: two processes that
 * open one directory each run a private copy of PostgreSQL over the same files, see only their
 * own writes, and leave the files in a state neither can open again. So the opener first creates
 * `<dataDir>/pglite.lock` (an atomic link of a file holding its pid, host and process start time)
 * and removes it on close or exit. A second opener reads who holds it and refuses; a lock whose
 * process is gone (killed with SIGKILL, the machine rebooted) is taken over.
 *
 * "Gone" is decided on this host only: the pid is not alive, or it is alive but started at a
 * different time than the lock says (the pid was reused). A lock written on another host cannot
 * be checked from here, so it is never taken over automatically.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const LOCK_FILE = "pglite.lock";

/** Who holds a data directory, as written in its lock file. */
export type LockHolder = {
  pid: number;
  hostname: string;
  /** The process's start time in clock ticks since boot (/proc/<pid>/stat field 22); null off Linux. */
  startTicks: number | null;
  /** When it took the lock (ISO 8601), for people reading the message. */
  since: string;
};

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    const where =
      holder.hostname === os.hostname() ? `process ${holder.pid}` : `process ${holder.pid} on ${holder.hostname}`;
    const remedy =
      holder.hostname === os.hostname()
        ? "Stop that process first, or give this one another --data-dir (or DATABASE_URL for a shared PostgreSQL)."
        : `If that process is gone, delete ${path.join(dataDir, LOCK_FILE)}; otherwise give this one another --data-dir.`;
    super(`The data directory ${dataDir} is in use by ${where} (since ${holder.since}). ${remedy}`);
    this.name = "DataDirLockedError";
  }
}

export type DataDirLock = {
  readonly path: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still this lock's; safe to call twice. */
  release: () => void;
};

/** /proc/<pid>/stat's start time; the command name (field 2) may hold spaces and parentheses. */
export function processStartTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]); // field 22 overall; fields[0] here is field 3
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user, which still makes it alive.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Is the lock's process still running? Unknowable for another host's lock: assumed so. */
function holderAlive(holder: LockHolder): boolean {
  if (holder.hostname !== os.hostname()) return true;
  if (!pidAlive(holder.pid)) return false;
  if (holder.startTicks === null) return true;
  const ticks = processStartTicks(holder.pid);
  return ticks === null || ticks === holder.startTicks;
}

function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== "number" || typeof v.hostname !== "string") return null;
    return {
      pid: v.pid,
      hostname: v.hostname,
      startTicks: typeof v.startTicks === "number" ? v.startTicks : null,
      since: typeof v.since === "string" ? v.since : "an unknown time",
    };
  } catch {
    return null;
  }
}

/** The lock file's holder and exact text, or null when there is no lock file. */
function readLock(file: string): { holder: LockHolder | null; text: string } | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  // An unreadable file is a lock whose writer died mid-write (it is linked complete, so only
  // a foreign tool could leave one): it counts as stale.
  return { holder: parseHolder(text), text };
}

/** The live process holding `dataDir`, or null when it is free (no lock, or a stale one). Reads only. */
export function dataDirHolder(dataDir: string): LockHolder | null {
  const lock = readLock(path.join(dataDir, LOCK_FILE));
  return lock?.holder && holderAlive(lock.holder) ? lock.holder : null;
}

function currentHolder(): LockHolder {
  return {
    pid: process.pid,
    hostname: os.hostname(),
    startTicks: processStartTicks(process.pid),
    since: new Date().toISOString(),
  };
}

/**
 * Takes `dataDir`'s lock for this process, or throws DataDirLockedError naming its live holder.
 * The lock is released by `release()` and, failing that, when the process exits normally.
 * `lockFile` names the lock for another owner of a directory (trainer serve's index).
 */
export function lockDataDir(dataDir: string, lockFile = LOCK_FILE): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(/*turbopackIgnore: true*/ dataDir, lockFile);
  const holder = currentHolder();
  const unique = `${file}.${process.pid}.${crypto.randomUUID().slice(0, 8)}`;
  // The text is unique to this taking (pid, start time, millisecond, nonce): comparing it, not
  // an inode number the file system may reuse, tells whether a lock file is still this one.
  const text = `${JSON.stringify({ ...holder, nonce: crypto.randomUUID() })}\n`;
  // Written in full under a private name, then linked into place: link() fails if the lock
  // exists, so taking it is atomic and nobody ever reads a half-written lock.
  fs.writeFileSync(unique, text, { flag: "wx" });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(unique, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 10) throw err;
      }
      const existing = readLock(file);
      if (!existing) continue; // released meanwhile
      if (existing.holder && holderAlive(existing.holder)) throw new DataDirLockedError(dataDir, existing.holder);
      removeStale(file, existing.text);
    }
  } finally {
    fs.rmSync(unique, { force: true });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    // Only our own file: after a takeover elsewhere (our lock judged stale) it is not ours.
    if (readLock(file)?.text === text) fs.rmSync(file, { force: true });
  };
  process.on("exit", release);
  return { path: file, holder, release };
}

/**
 * Moves the stale lock aside, but only that file: if another opener replaced it between our
 * read and the rename (it took the lock first), its lock is put back and the loop reads it again.
 */
function removeStale(file: string, staleText: string): void {
  const aside = `${file}.stale.${process.pid}.${crypto.randomUUID().slice(0, 8)}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // someone else removed it
    throw err;
  }
  if (readLock(aside)?.text !== staleText) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third opener already holds it; the loop will read that one.
    }
  }
  fs.rmSync(aside, { force: true });
}
