/**
 * Runs one shell command for the bash tool: under bubblewrap (the default), or directly when an
 * administrator chose the unsandboxed mode. Sequence: resolve the workspace → measure it against
 * its quota → make the call's cgroup (memory, processes) → build the argv from the policy, with
 * ulimits for whatever the cgroup cannot hold → join the cgroup → spawn detached (from the helper
 * process of lib/spawner.ts, which forks at its own small size) → stream output
 * into a bounded capture while watching the cgroup and the quota → on exit, timeout, abort,
 * runaway output or a limit, SIGKILL the process group → check the limits once more → remove the
 * cgroup. Inside bwrap the command's init is pid 1 of a fresh pid namespace: when the command
 * exits or bwrap is killed, every process it started (daemons included) dies with the namespace.
 *
 * Limits for the whole call, and their fallbacks when no cgroup can be made here:
 * - memory: a memory cgroup (v1 memory.limit_in_bytes + memsw, or v2 memory.max); fallback: the
 *   same number as each process's address space (ulimit -v), which three processes can each use.
 * - processes: a pids cgroup; fallback: ulimit -u, which counts every process of the server's
 *   user and never binds root.
 * - disk: no file may grow past what is left of the workspace quota (ulimit -f, no privileges
 *   needed), and the workspace is measured while the call runs, so a call writing many files is
 *   stopped within one measuring interval of passing the quota; it may overshoot by what it
 *   writes in that interval.
 */
import fs from "node:fs/promises";
import { quotaLeft, workspaceUsage } from "@/lib/workspaces/quota";
import { bwrapArgs, clampTimeout, shellLimits, ulimitPrelude, type SandboxPolicy, type ShellLimits } from "./policy";
import { findBwrap, INSTALL_BWRAP, probeHost } from "./host";
import { createCallCgroup, type CallCgroup, type CgroupVersion } from "./cgroup";
import { OutputCapture } from "./output";
import { spawnFromHelper } from "@/lib/spawner";

export type SandboxMode = "bwrap" | "unsandboxed";

export type RunCommandInput = {
  command: string;
  workspace: string;
  policy: SandboxPolicy;
  mode: SandboxMode;
  timeoutS?: number;
  signal?: AbortSignal;
};

/** A whole-call limit that stopped the call, and what enforced it. */
export type CallLimit =
  | { kind: "memory"; limitBytes: number; enforcedBy: CgroupVersion }
  | { kind: "processes"; max: number; enforcedBy: CgroupVersion }
  | { kind: "disk_quota"; usedBytes: number; quotaBytes: number };

export type RunCommandResult =
  | {
      status: "exited";
      exitCode: number;
      output: string;
      timeoutS: number;
      /** Present when the workspace quota, not maxFileBytes, capped every file the call wrote. */
      fileLimitFromQuota?: { leftBytes: number; quotaBytes: number };
    }
  | { status: "timed_out"; exitCode: 124; output: string; timeoutS: number }
  | { status: "output_limit"; exitCode: number; output: string; bytes: number }
  | { status: "aborted"; exitCode: number; output: string }
  | { status: "limit"; limit: CallLimit; exitCode: number; output: string }
  | { status: "unavailable"; error: string };

/** How long the pipes may stay open after the main process exited (unsandboxed daemons). */
const PIPE_GRACE_MS = 200;

/** How often the cgroup's counters are read: a few small file reads, so often. */
const CGROUP_WATCH_MS = 100;

/**
 * The shortest pause between two measurements of the workspace (du takes ~3 ms for a small one,
 * ~60 ms for 30,000 files); a call writing as fast as the disk takes it can overshoot the quota
 * by what it writes in this long (measured here: a loop of dd, 48 MiB past a 20 MiB quota).
 */
const QUOTA_WATCH_MS = 100;

/** A watch waits at least this many times as long as its last check took, so measuring takes at most a tenth of a core. */
const WATCH_IDLE_FACTOR = 9;

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
  SIGXFSZ: 25,
};

/** The in-sandbox shell: apply the ulimits, then run the command as `bash -c` (passed as $1, never interpolated). */
function shellArgv(limits: ShellLimits, command: string): string[] {
  return ["/bin/bash", "-c", `${ulimitPrelude(limits)} || exit 125\nexec /bin/bash -c "$1"`, "bash", command];
}

/**
 * A host-side /bin/sh writes its own pid into every cgroup.procs file, then execs the command, so
 * no process of the call starts outside the groups. Files and argv are separated by "--".
 */
function joinCgroup(cgroup: CallCgroup, argv: string[]): { file: string; args: string[] } {
  const script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 126; shift; done; shift; exec "$@"';
  return { file: "/bin/sh", args: ["-c", script, "sh", ...cgroup.procsFiles, "--", ...argv] };
}

type SpawnSpec = {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** NUL-separated arguments bwrap reads from fd 3 (`--args 3`), so its command line, visible
   * inside the sandbox as /proc/1/cmdline, does not show host paths or the policy. */
  fd3?: string;
};

async function buildSpawn(
  input: RunCommandInput,
  realRoot: string,
  cgroup: CallCgroup | null,
  limits: ShellLimits,
): Promise<SpawnSpec | null> {
  const inner = shellArgv(limits, input.command);
  const hostEnv = { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" };
  const start = (argv: string[]) => (cgroup ? joinCgroup(cgroup, argv) : { file: argv[0]!, args: argv.slice(1) });
  switch (input.mode) {
    case "unsandboxed":
      return { ...start(inner), env: { ...hostEnv, HOME: realRoot, TERM: "dumb" }, cwd: realRoot };
    case "bwrap": {
      const bwrap = await findBwrap();
      if (!bwrap) return null;
      const policyArgs = bwrapArgs(input.policy, realRoot, await probeHost(input.policy, realRoot));
      const fd3 = `${policyArgs.join("\0")}\0`;
      // cwd "/" keeps the host path of the workspace out of the sandbox's view of bwrap's environment.
      return { ...start([bwrap, "--args", "3", "--", ...inner]), env: hostEnv, cwd: "/", fd3 };
    }
    default: {
      const never: never = input.mode;
      throw new Error(`unknown sandbox mode ${String(never)}`);
    }
  }
}

/** The workspace's quota, when this call is held to one (bash cannot write a read-only workspace). */
function quotaFor(input: RunCommandInput): number | null {
  return input.policy.type === "workspace-write" ? input.policy.limits.workspaceQuotaBytes : null;
}

export async function runCommand(input: RunCommandInput): Promise<RunCommandResult> {
  const { policy } = input;
  let realRoot: string;
  try {
    realRoot = await fs.realpath(input.workspace);
  } catch {
    return { status: "unavailable", error: `workspace ${input.workspace} does not exist` };
  }
  const timeoutS = clampTimeout(policy, input.timeoutS);
  // 1. The quota: what is left caps every file the call may write.
  const quotaBytes = quotaFor(input);
  const disk: DiskWatch | null =
    quotaBytes === null ? null : { realRoot, quotaBytes, usedBefore: await workspaceUsage(realRoot) };
  const leftBytes = disk ? quotaLeft(disk.usedBefore, disk.quotaBytes) : null;
  // 2. The call's cgroup, and per-process limits for what it cannot hold.
  const cgroup = await createCallCgroup({
    memoryBytes: policy.limits.callMemoryBytes,
    maxProcesses: policy.limits.maxProcesses,
  });
  const enforced = { memory: cgroup?.enforces.memory != null, processes: cgroup?.enforces.processes != null };
  const limits = shellLimits(policy.limits, enforced, leftBytes);
  try {
    const spec = await buildSpawn(input, realRoot, cgroup, limits);
    if (!spec) {
      return {
        status: "unavailable",
        error: `bash is disabled: bubblewrap is not installed (install it with \`${INSTALL_BWRAP}\`)`,
      };
    }
    // 3. Run, watching the limits; 4. once it ended, the last look (a process killed for memory
    // while the shell carried on, or a workspace grown past its quota between two measurements).
    const limitNow = () => callLimitHit(input, cgroup, disk);
    const ran = await spawnAndWait(spec, timeoutS, input, [
      ...(cgroup ? [{ everyMs: CGROUP_WATCH_MS, check: () => cgroupLimit(input, cgroup) }] : []),
      ...(disk ? [{ everyMs: QUOTA_WATCH_MS, check: () => diskLimit(disk) }] : []),
    ]);
    const { exitCode, output } = ran;
    switch (ran.stop?.why) {
      case undefined: {
        const limit = await limitNow();
        if (limit) return { status: "limit", limit, exitCode, output };
        const fromQuota = disk && leftBytes !== null && limits.fileBytes < policy.limits.maxFileBytes;
        return {
          status: "exited",
          exitCode,
          output,
          timeoutS,
          ...(fromQuota ? { fileLimitFromQuota: { leftBytes, quotaBytes: disk.quotaBytes } } : {}),
        };
      }
      case "limit": {
        // Measured again after the kill, so the usage reported is what the workspace holds now.
        const limit =
          ran.stop.limit.kind === "disk_quota" && disk ? ((await diskLimit(disk)) ?? ran.stop.limit) : ran.stop.limit;
        return { status: "limit", limit, exitCode, output };
      }
      case "timed_out":
        return { status: "timed_out", exitCode: 124, output, timeoutS };
      case "output_limit":
        return { status: "output_limit", exitCode, output, bytes: ran.outputBytes };
      case "aborted":
        return { status: "aborted", exitCode, output };
      default: {
        const never: never = ran.stop;
        throw new Error(`unknown stop reason ${String(never)}`);
      }
    }
  } finally {
    await cgroup?.cleanup();
  }
}

async function cgroupLimit(input: RunCommandInput, cgroup: CallCgroup): Promise<CallLimit | null> {
  const hit = await cgroup.limitHit();
  const { memory, processes } = cgroup.enforces;
  switch (hit) {
    case null:
      return null;
    case "memory":
      return { kind: "memory", limitBytes: input.policy.limits.callMemoryBytes!, enforcedBy: memory! };
    case "processes":
      return { kind: "processes", max: input.policy.limits.maxProcesses, enforcedBy: processes! };
    default: {
      const never: never = hit;
      throw new Error(`unknown cgroup limit ${String(never)}`);
    }
  }
}

/** The workspace measured against its quota; usage at the call's start tells growth from a workspace already over. */
type DiskWatch = { realRoot: string; quotaBytes: number; usedBefore: number };

/** The quota, when this call grew the workspace past it (a call that only deletes is never stopped). */
async function diskLimit({ realRoot, quotaBytes, usedBefore }: DiskWatch): Promise<CallLimit | null> {
  const usedBytes = await workspaceUsage(realRoot);
  return usedBytes > quotaBytes && usedBytes > usedBefore ? { kind: "disk_quota", usedBytes, quotaBytes } : null;
}

async function callLimitHit(
  input: RunCommandInput,
  cgroup: CallCgroup | null,
  disk: DiskWatch | null,
): Promise<CallLimit | null> {
  return (cgroup && (await cgroupLimit(input, cgroup))) ?? (disk ? await diskLimit(disk) : null);
}

/** Why the call was stopped before it ended on its own. */
type Stop = { why: "timed_out" } | { why: "output_limit" } | { why: "aborted" } | { why: "limit"; limit: CallLimit };

/** A check run over and over while the command runs; a limit it returns stops the call. */
type Watch = { everyMs: number; check(): Promise<CallLimit | null> };

type Ran = { exitCode: number; output: string; outputBytes: number; stop: Stop | null };

function spawnAndWait(spec: SpawnSpec, timeoutS: number, input: RunCommandInput, watches: Watch[]): Promise<Ran> {
  const capture = new OutputCapture(input.policy.limits.maxOutputChars);
  let stopped: Stop | null = null;
  let settled = false;
  // From the helper process: a fork from the server would block its main thread (lib/spawner.ts).
  const call = spawnFromHelper(
    {
      file: spec.file,
      args: spec.args,
      cwd: spec.cwd,
      env: spec.env,
      fd3: spec.fd3,
      detached: true,
      graceMs: PIPE_GRACE_MS,
    },
    (chunk) => {
      capture.push(chunk);
      if (capture.total > input.policy.limits.killAfterOutputBytes) stop({ why: "output_limit" });
    },
  );
  const stop = (why: Stop) => {
    stopped ??= why;
    call.kill();
  };
  const timer = setTimeout(() => stop({ why: "timed_out" }), timeoutS * 1000);
  const onAbort = () => stop({ why: "aborted" });
  input.signal?.addEventListener("abort", onAbort);

  // Each watch runs again `everyMs` after its last check ended, or WATCH_IDLE_FACTOR times as long
  // as that check took when that is longer: measuring a large workspace never takes over the CPU.
  const watchTimers = new Set<NodeJS.Timeout>();
  const schedule = (watch: Watch, delayMs: number) => {
    const t = setTimeout(async () => {
      watchTimers.delete(t);
      if (settled || stopped) return;
      const started = Date.now();
      const limit = await watch.check().catch(() => null);
      if (limit && !settled) stop({ why: "limit", limit });
      else if (!settled) schedule(watch, Math.max(watch.everyMs, WATCH_IDLE_FACTOR * (Date.now() - started)));
    }, delayMs);
    watchTimers.add(t);
  };
  for (const watch of watches) schedule(watch, watch.everyMs);

  return call.done.then(({ code, signal, error }) => {
    settled = true;
    clearTimeout(timer);
    for (const t of watchTimers) clearTimeout(t);
    input.signal?.removeEventListener("abort", onAbort);
    if (error) capture.push(Buffer.from(`failed to start: ${error}\n`));
    const exitCode = error ? 1 : (code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0));
    return { exitCode, output: capture.text(), outputBytes: capture.total, stop: stopped };
  });
}
