/**
 * Commands started from a small helper process (lib/workers/spawner-child.mjs) instead of from
 * this one. A fork copies the forking process's page tables: measured here, one spawn() blocks the
 * caller for about 2 ms in a 64 MB process and 47 ms in one holding 2 GB, which is what the server
 * holds with the database and the engine's memories. Every tool call and every disk-quota
 * measurement spawns, so under load the server's main thread (which answers every request) spent
 * its time forking; the helper forks at its own small size and streams the output back over IPC.
 * One helper per process, started on the first command; it holds nothing the commands could use
 * (each request carries its whole environment), and kills their process groups if this process
 * goes away. A helper that dies ends its running commands with an error; the next one starts anew.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { projectPath } from "./paths";

export type SpawnRequest = {
  file: string;
  args: string[];
  cwd?: string;
  /** The command's whole environment (nothing of the server's is passed on). */
  env: Record<string, string>;
  /** Text written to the command's fd 3, then closed. */
  fd3?: string;
  /** A process group of its own: kill() and the end of the call take the whole group. */
  detached: boolean;
  /** How long the pipes may stay open after the command exited (daemons holding them). */
  graceMs: number;
};

/** How a command ended: its exit code or signal, or why it could not start (or its helper died). */
export type SpawnEnd = { code: number | null; signal: NodeJS.Signals | null; error: string | null };

export type Spawned = {
  /** Settles once the command exited and its output is in (or the grace ran out). */
  readonly done: Promise<SpawnEnd>;
  /** SIGKILL to the command (its group, when detached); the call still ends through `done`. */
  kill(): void;
};

/** The helper's own environment: nothing of the server's (each command brings its own). */
const HELPER_ENV: NodeJS.ProcessEnv = { PATH: "/usr/local/bin:/usr/bin:/bin", NODE_ENV: "production" };

type Call = { onOutput: (chunk: Buffer, stream: 1 | 2) => void; resolve: (end: SpawnEnd) => void };

type FromHelper =
  | { op: "out"; id: number; stream: 1 | 2; data: string }
  | { op: "end"; id: number; code: number | null; signal: NodeJS.Signals | null; error: string | null };

class Helper {
  private readonly child: ChildProcess;
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  dead = false;

  constructor() {
    this.child = spawn(process.execPath, [projectPath("lib/workers/spawner-child.mjs")], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...HELPER_ENV },
    });
    this.child.on("message", (message: FromHelper) => {
      const call = this.calls.get(message.id);
      if (!call) return;
      if (message.op === "out") call.onOutput(Buffer.from(message.data, "base64"), message.stream);
      else {
        this.calls.delete(message.id);
        this.idleRef();
        call.resolve({ code: message.code, signal: message.signal, error: message.error });
      }
    });
    const died = (why: string) => {
      if (this.dead) return;
      this.dead = true;
      for (const call of this.calls.values()) call.resolve({ code: null, signal: null, error: why });
      this.calls.clear();
    };
    this.child.on("exit", (code, signal) => died(`the process spawner exited (${signal ?? code})`));
    this.child.on("error", (error) => died(`the process spawner failed: ${error.message}`));
    this.idleRef();
  }

  /** While no command runs, the helper does not keep this process alive. */
  private idleRef(): void {
    if (this.calls.size === 0) {
      this.child.unref();
      this.child.channel?.unref();
    } else {
      this.child.ref();
      this.child.channel?.ref();
    }
  }

  start(request: SpawnRequest, onOutput: Call["onOutput"]): Spawned {
    const id = this.nextId++;
    const done = new Promise<SpawnEnd>((resolve) => {
      this.calls.set(id, { onOutput, resolve });
    });
    this.idleRef();
    this.child.send({ op: "spawn", id, ...request });
    return {
      done,
      kill: () => {
        if (!this.dead && this.calls.has(id)) this.child.send({ op: "kill", id });
      },
    };
  }

  stop(): void {
    this.child.kill("SIGKILL");
  }
}

let helper: Helper | null = null;

/** Starts `request` from the helper process, passing each chunk of its stdout (1) and stderr (2) on as it comes. */
export function spawnFromHelper(request: SpawnRequest, onOutput: Call["onOutput"] = () => {}): Spawned {
  if (!helper || helper.dead) helper = new Helper();
  return helper.start(request, onOutput);
}

/** Runs a short command from the helper and gives back its stdout (and how it ended). */
export async function execFromHelper(
  file: string,
  args: string[],
  env: Record<string, string> = { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
): Promise<{ stdout: string; end: SpawnEnd }> {
  const chunks: Buffer[] = [];
  const { done } = spawnFromHelper({ file, args, env, detached: false, graceMs: 200 }, (chunk, stream) => {
    if (stream === 1) chunks.push(chunk);
  });
  const end = await done;
  return { stdout: Buffer.concat(chunks).toString("utf8"), end };
}

/** Kills the current helper (tests: a helper that dies mid-call); the next command starts another. */
export function stopHelperForTests(): void {
  helper?.stop();
}
