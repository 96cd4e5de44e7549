/**
 * Runs one shell command for the bash tool: under bubblewrap (the default), or directly when an
 * administrator chose the unsandboxed mode. Sequence: resolve the workspace → build the argv from
 * the policy → join a pids cgroup → spawn detached → stream output into a bounded capture → on
 * exit, timeout, abort or runaway output, SIGKILL the process group → remove the cgroup.
 * Inside bwrap the command's init is pid 1 of a fresh pid namespace: when the command exits or
 * bwrap is killed, every process it started (daemons included) dies with the namespace.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import { bwrapArgs, clampTimeout, ulimitPrelude, type SandboxPolicy } from "./policy";
import { findBwrap, INSTALL_BWRAP, probeHost } from "./host";
import { createPidsCgroup, type PidsCgroup } from "./cgroup";
import { OutputCapture } from "./output";

export type SandboxMode = "bwrap" | "unsandboxed";

export type RunCommandInput = {
  command: string;
  workspace: string;
  policy: SandboxPolicy;
  mode: SandboxMode;
  timeoutS?: number;
  signal?: AbortSignal;
};

export type RunCommandResult =
  | { status: "exited"; exitCode: number; output: string; timeoutS: number }
  | { status: "timed_out"; exitCode: 124; output: string; timeoutS: number }
  | { status: "output_limit"; exitCode: number; output: string; bytes: number }
  | { status: "aborted"; exitCode: number; output: string }
  | { status: "unavailable"; error: string };

/** How long the pipes may stay open after the main process exited (unsandboxed daemons). */
const PIPE_GRACE_MS = 200;

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15, SIGXFSZ: 25 };

/** The in-sandbox shell: apply the ulimits, then run the command as `bash -c` (passed as $1, never interpolated). */
function shellArgv(policy: SandboxPolicy, command: string): string[] {
  return ["/bin/bash", "-c", `${ulimitPrelude(policy.limits)} || exit 125\nexec /bin/bash -c "$1"`, "bash", command];
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

async function buildSpawn(input: RunCommandInput, realRoot: string, cgroup: PidsCgroup | null): Promise<SpawnSpec | null> {
  const inner = shellArgv(input.policy, input.command);
  const hostEnv = { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" };
  switch (input.mode) {
    case "unsandboxed":
      return { file: inner[0]!, args: inner.slice(1), env: { ...hostEnv, HOME: realRoot, TERM: "dumb" }, cwd: realRoot };
    case "bwrap": {
      const bwrap = await findBwrap();
      if (!bwrap) return null;
      const policyArgs = bwrapArgs(input.policy, realRoot, await probeHost(input.policy, realRoot));
      const fd3 = `${policyArgs.join("\0")}\0`;
      const argv = [bwrap, "--args", "3", "--", ...inner];
      // The host-side /bin/sh joins the cgroup before exec'ing bwrap, so no child escapes it.
      // cwd "/" keeps the host path of the workspace out of the sandbox's view of bwrap's environment.
      if (cgroup) {
        return { file: "/bin/sh", args: ["-c", 'echo $$ > "$1" || exit 126; shift; exec "$@"', "sh", cgroup.procsFile, ...argv], env: hostEnv, cwd: "/", fd3 };
      }
      return { file: argv[0]!, args: argv.slice(1), env: hostEnv, cwd: "/", fd3 };
    }
    default: {
      const never: never = input.mode;
      throw new Error(`unknown sandbox mode ${String(never)}`);
    }
  }
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
  const cgroup = input.mode === "bwrap" ? await createPidsCgroup(policy.limits.maxProcesses) : null;
  try {
    const spec = await buildSpawn(input, realRoot, cgroup);
    if (!spec) {
      return { status: "unavailable", error: `bash is disabled: bubblewrap is not installed (install it with \`${INSTALL_BWRAP}\`)` };
    }
    return await spawnAndWait(spec, timeoutS, input);
  } finally {
    await cgroup?.cleanup();
  }
}

function spawnAndWait(
  spec: SpawnSpec,
  timeoutS: number,
  input: RunCommandInput,
): Promise<RunCommandResult> {
  const capture = new OutputCapture(input.policy.limits.maxOutputChars);
  const child = spawn(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env as NodeJS.ProcessEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe", spec.fd3 === undefined ? "ignore" : "pipe"],
  });
  const stdout = child.stdout!;
  const stderr = child.stderr!;
  if (spec.fd3 !== undefined) {
    const argsPipe = child.stdio[3] as import("node:stream").Writable;
    argsPipe.on("error", () => {}); // bwrap failed to start; its exit reports why
    argsPipe.end(spec.fd3);
  }
  let stopped: "timed_out" | "output_limit" | "aborted" | null = null;

  const killGroup = () => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // the group is already gone
    }
  };
  const stop = (why: NonNullable<typeof stopped>) => {
    stopped ??= why;
    killGroup();
  };
  const onData = (chunk: Buffer) => {
    capture.push(chunk);
    if (capture.total > input.policy.limits.killAfterOutputBytes) stop("output_limit");
  };
  stdout.on("data", onData);
  stderr.on("data", onData);
  const timer = setTimeout(() => stop("timed_out"), timeoutS * 1000);
  const onAbort = () => stop("aborted");
  input.signal?.addEventListener("abort", onAbort);

  return new Promise((resolve) => {
    let exitCode = 1;
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      input.signal?.removeEventListener("abort", onAbort);
      stdout.destroy();
      stderr.destroy();
      // Whatever is left of the process group (unsandboxed background jobs) goes too.
      killGroup();
      const output = capture.text();
      switch (stopped) {
        case null:
          return resolve({ status: "exited", exitCode, output, timeoutS });
        case "timed_out":
          return resolve({ status: "timed_out", exitCode: 124, output, timeoutS });
        case "output_limit":
          return resolve({ status: "output_limit", exitCode, output, bytes: capture.total });
        case "aborted":
          return resolve({ status: "aborted", exitCode, output });
        default: {
          const never: never = stopped;
          throw new Error(`unknown stop reason ${String(never)}`);
        }
      }
    };
    child.on("error", (error) => {
      capture.push(Buffer.from(`failed to start: ${error.message}\n`));
      finish();
    });
    child.on("exit", (code, signal) => {
      exitCode = code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0);
      // Give the pipes a moment to drain; a daemon that holds them open does not hold the call.
      let open = 2;
      const closed = () => {
        if (--open === 0) finish();
      };
      stdout.once("close", closed);
      stderr.once("close", closed);
      if (stdout.closed) closed();
      if (stderr.closed) closed();
      setTimeout(finish, PIPE_GRACE_MS);
    });
  });
}
