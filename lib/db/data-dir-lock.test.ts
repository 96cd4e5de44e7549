/**
 * One owner per PGlite data directory, shown with real processes opening the database as the
 * server does: a second opener and the `continualcode` command refused, SIGKILL for a stale
 * lock, and several processes racing for one stale lock.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { projectPath } from "@/lib/paths";
import { createDb } from "./client";
import {
  DataDirLockedError,
  dataDirHolder,
  LOCK_FILE,
  type LockHolder,
  lockDataDir,
  processStartTicks,
} from "./data-dir-lock";
import { createUser, getUserByEmail } from "./queries/users";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cc-lock-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let dirs = 0;
const freshDir = () => fs.mkdtempSync(path.join(tmp, `d${dirs++}-`));
const lockFile = (dir: string) => path.join(dir, LOCK_FILE);
const readHolder = (dir: string) => JSON.parse(fs.readFileSync(lockFile(dir), "utf8")) as LockHolder;
const writeHolder = (dir: string, holder: Partial<LockHolder>) =>
  fs.writeFileSync(
    lockFile(dir),
    JSON.stringify({
      pid: process.pid,
      hostname: os.hostname(),
      startTicks: processStartTicks(process.pid),
      since: "then",
      ...holder,
    }),
  );

type Proc = {
  child: ChildProcess;
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
  line: (test: (l: string) => boolean) => Promise<string>;
};

function start(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  readline.createInterface({ input: child.stdout! }).on("line", (l) => {
    lines.push(l);
    for (const w of [...watchers]) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const line = (test: (l: string) => boolean) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines.find(test);
        if (hit !== undefined) {
          watchers.delete(check);
          resolve(hit);
        }
      };
      watchers.add(check);
      check();
      void exited.then((code) => reject(new Error(`exited (${code}) first: ${lines.join("\n")}\n${err}`)));
    });
  return { child, lines, stderr: () => err, exited, line };
}

/**
 * A process that opens the data directory's database as the server does (createDb) and holds it
 * until killed; it prints {"kind":"ready"}, or {"kind":"fatal"} and exits 1 when refused.
 */
const startInstance = (dataDir: string) =>
  start(
    [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      `const { createDb } = await import(${JSON.stringify(projectPath("lib/db/client.ts"))});
       try { await createDb({ dataDir: ${JSON.stringify(dataDir)} }); console.log(JSON.stringify({ kind: "ready" })); setInterval(() => {}, 60_000); }
       catch (e) { console.log(JSON.stringify({ kind: "fatal", error: e.message })); process.exit(1); }`,
    ],
    { DATABASE_URL: "" },
  );

describe("a PGlite data directory has one owner", () => {
  it("a second process on the same directory exits at once, naming the process that holds it", async () => {
    const dir = freshDir();
    const first = startInstance(dir);
    try {
      await first.line((l) => l.includes('"ready"'));
      const began = Date.now();
      const second = startInstance(dir);
      const outcome = JSON.parse(await second.line((l) => /"(fatal|ready)"/.test(l))) as {
        kind: string;
        error?: string;
      };
      if (outcome.kind === "ready") second.child.kill("SIGKILL");
      expect(outcome.kind).toBe("fatal");
      expect(await second.exited).toBe(1);
      expect(outcome.error).toContain(`The data directory ${dir} is in use by process ${first.child.pid}`);
      // Refused before PGlite started: the time is node's and tsx's start-up, not a database's.
      expect(Date.now() - began).toBeLessThan(15_000);
      expect(readHolder(dir).pid).toBe(first.child.pid);
    } finally {
      first.child.kill("SIGKILL");
      await first.exited;
    }
  }, 60_000);

  it("a lock left by a process killed with SIGKILL is taken over, and what it wrote is still there", async () => {
    const dir = freshDir();
    const setup = await createDb({ dataDir: dir });
    await createUser({ db: setup.db, name: "before", email: "before@example.test" });
    await setup.close();
    expect(fs.existsSync(lockFile(dir))).toBe(false);

    const host = startInstance(dir);
    await host.line((l) => l.includes('"ready"'));
    host.child.kill("SIGKILL");
    await host.exited;
    expect(readHolder(dir).pid).toBe(host.child.pid);
    expect(dataDirHolder(dir)).toBeNull();

    const again = await createDb({ dataDir: dir });
    try {
      expect(readHolder(dir).pid).toBe(process.pid);
      expect((await getUserByEmail({ db: again.db, email: "before@example.test" }))?.name).toBe("before");
    } finally {
      await again.close();
    }
    expect(fs.existsSync(lockFile(dir))).toBe(false);
  }, 60_000);

  it("continualcode refuses to serve a directory in use, before building anything", async () => {
    const dir = freshDir();
    const held = lockDataDir(dir);
    try {
      const cli = start([projectPath("bin/continualcode"), "--data-dir", dir, "--port", "3999"], { DATABASE_URL: "" });
      // Were the check missing, the command would go on to build: stop it rather than let it.
      const guard = setTimeout(() => cli.child.kill("SIGKILL"), 20_000);
      expect(await cli.exited).toBe(1);
      clearTimeout(guard);
      expect(cli.stderr()).toMatch(
        new RegExp(`^continualcode: The data directory ${dir} is in use by process ${process.pid} `),
      );
      expect(cli.stderr()).not.toMatch(/build|migrat/);
    } finally {
      held.release();
    }
  }, 60_000);

  it("of several processes starting together on a stale lock, exactly one takes it", async () => {
    const dir = freshDir();
    writeHolder(dir, { pid: 2 ** 22 + 1 }); // above Linux's pid_max: never a live process
    const script = `const m = await import(${JSON.stringify(projectPath("lib/db/data-dir-lock.ts"))});
      try { m.lockDataDir(${JSON.stringify(dir)}); console.log("took"); setTimeout(() => {}, 2000); }
      catch (e) { console.log(e instanceof m.DataDirLockedError ? "refused" : "error " + e.message); }`;
    const racers = Array.from({ length: 5 }, () => start(["--import", "tsx", "--input-type=module", "-e", script], {}));
    await Promise.all(racers.map((r) => r.exited));
    const outcomes = racers.map((r) => r.lines.join(" ")).sort();
    expect(outcomes).toEqual(["refused", "refused", "refused", "refused", "took"]);
    expect(fs.readdirSync(dir)).toEqual([]); // the winner released it on exit; no strays left
  }, 60_000);
});

describe("which lock is stale", () => {
  it("a live process's lock refuses, with who and since when", () => {
    const dir = freshDir();
    const held = lockDataDir(dir);
    try {
      expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
      expect(() => lockDataDir(dir)).toThrow(
        new RegExp(`in use by process ${process.pid} \\(since ${held.holder.since}\\)`),
      );
      expect(dataDirHolder(dir)).toEqual(held.holder);
    } finally {
      held.release();
    }
    expect(dataDirHolder(dir)).toBeNull();
  });

  it("a live pid that started at another time is a reused pid: its lock is taken over", () => {
    const dir = freshDir();
    writeHolder(dir, { startTicks: (processStartTicks(process.pid) ?? 0) + 1 });
    const lock = lockDataDir(dir);
    expect(readHolder(dir)).toMatchObject(lock.holder);
    lock.release();
  });

  it("a lock written on another host is never taken over", () => {
    const dir = freshDir();
    writeHolder(dir, { hostname: "elsewhere.example", pid: 2 ** 22 + 1 });
    expect(() => lockDataDir(dir)).toThrow(/in use by process 4194305 on elsewhere\.example .* delete .*pglite\.lock/);
  });

  it("a released lock is gone, and releasing a lock someone else has since taken leaves theirs alone", () => {
    const dir = freshDir();
    const mine = lockDataDir(dir);
    fs.rmSync(lockFile(dir));
    writeHolder(dir, { pid: 1 });
    mine.release();
    expect(readHolder(dir).pid).toBe(1);
  });
});
