/**
 * The agent host (lib/agent/host-entry.ts) as a child process for tests that need real
 * processes: killed with SIGKILL mid-phase (recovery), or two at once on one database (shared
 * instances). Commands go in as JSON lines; events and replies come back the same way.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import readline from "node:readline";
import postgres from "postgres";
import { createDb, type DbHandle } from "@/lib/db/client";
import { listLiveLeases } from "@/lib/db/queries/leases";
import { projectPath } from "@/lib/paths";
import type { AgentEvent } from "./events";

export type Reply = { kind: "reply"; id: number; ok: boolean; result?: unknown; error?: { message: string } };

/** The host as a child process: commands in, events and replies out. */
export class Host {
  readonly events: AgentEvent[] = [];
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private readonly watchers: Array<() => void> = [];
  private next = 1;
  readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly ready: Promise<void>,
  ) {
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  }

  static start(database: Database, options: Record<string, unknown>): Host {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", projectPath("lib/agent/host-entry.ts"), JSON.stringify(options)],
      {
        env: { ...process.env, ...database.env },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    let markReady: () => void = () => {};
    let fail: (e: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      fail = reject;
    });
    const host = new Host(child, ready);
    void host.exited.then((code) => fail(new Error(`host exited (${code}) before it was ready: ${stderr}`)));
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const msg = JSON.parse(line) as { kind: string } & Record<string, unknown>;
      if (msg.kind === "ready") markReady();
      else if (msg.kind === "event") host.events.push(msg.event as AgentEvent);
      else if (msg.kind === "reply") host.waiting.get((msg as Reply).id)?.(msg as Reply);
      else if (msg.kind === "fatal") fail(new Error(String(msg.error)));
      for (const w of [...host.watchers]) w();
    });
    return host;
  }

  /** The process id, which its instance id (the lease holder) contains. */
  get pid(): number {
    return this.child.pid!;
  }

  send(op: string, input?: unknown): Promise<Reply> {
    const id = this.next++;
    const reply = new Promise<Reply>((resolve) => this.waiting.set(id, resolve));
    this.child.stdin.write(`${JSON.stringify({ id, op, input })}\n`);
    return reply;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the host answers JSON over a pipe; each test reads the fields its call returns.
  async call(op: string, input?: unknown): Promise<any> {
    const reply = await this.send(op, input);
    if (!reply.ok) throw new Error(`${op} failed: ${reply.error?.message}`);
    return reply.result;
  }

  /** Resolves with the first event (seen so far or later) matching `test`. */
  waitFor(test: (e: AgentEvent) => boolean): Promise<AgentEvent> {
    return new Promise((resolve) => {
      const check = () => {
        const hit = this.events.find(test);
        if (!hit) return;
        this.watchers.splice(this.watchers.indexOf(check), 1);
        resolve(hit);
      };
      this.watchers.push(check);
      check();
    });
  }

  kill(): Promise<number | null> {
    this.child.kill("SIGKILL");
    return this.exited;
  }
}

/** Where the host's database lives: a PGlite directory, or a fresh PostgreSQL database. */
export type Database = {
  name: string;
  env: Record<string, string>;
  open: () => Promise<DbHandle>;
  drop: () => Promise<void>;
};

export function pgliteDatabase(dataDir: string): Database {
  return {
    name: "pglite",
    env: { CONTINUALCODE_DATA_DIR: dataDir, DATABASE_URL: "" },
    open: () => createDb({ dataDir }),
    drop: async () => {},
  };
}

export async function postgresDatabase(serverUrl: string): Promise<Database> {
  const name = `cc_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`).finally(() => admin.end({ timeout: 5 }));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name: "postgres",
    env: { DATABASE_URL: url.toString() },
    open: () => createDb({ url: url.toString() }),
    drop: async () => {
      const dropper = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await dropper.unsafe(`drop database if exists "${name}" with (force)`).finally(() => dropper.end({ timeout: 5 }));
    },
  };
}

/** The dead host's leases have expired (on PGlite the second host's open already forgot them). */
export async function untilLeasesExpire(database: Database): Promise<void> {
  if (database.name === "pglite") return;
  const handle = await database.open();
  try {
    while ((await listLiveLeases({ db: handle.db })).length > 0) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await handle.close();
  }
}
