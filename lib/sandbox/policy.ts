/**
 * The sandbox policy as data, and the decisions drawn from it as pure functions. The policy is
 * chosen by the server (never by the model): which host directories a command sees read-only,
 * which parts of the workspace stay read-only, and the resource limits. `bwrapArgs` turns a
 * policy plus facts probed from the host (`HostFacts`) into the bubblewrap argv, so the whole
 * sandbox can be read (and tested) as one list.
 */
import path from "node:path";
import { z } from "zod";

const limitsSchema = z.object({
  defaultTimeoutS: z.number().int().positive().describe("bash timeout when the call names none (seconds)"),
  maxTimeoutS: z.number().int().positive().describe("the largest timeout a call may ask for (seconds)"),
  maxOutputChars: z.number().int().positive().describe("characters of output kept (head + tail)"),
  killAfterOutputBytes: z
    .number()
    .int()
    .positive()
    .describe("a command that writes more than this many bytes is stopped: output is never buffered unbounded"),
  maxProcesses: z.number().int().positive().describe("processes and threads at once (pids cgroup, else ulimit -u)"),
  maxFileBytes: z.number().int().positive().describe("largest file a command may write (ulimit -f)"),
  maxMemoryBytes: z.number().int().positive().describe("address space per process (ulimit -v)"),
  tmpBytes: z.number().int().positive().describe("size of the private /tmp"),
});

const commonFields = {
  readOnlySubpaths: z
    .array(z.string())
    .describe("workspace-relative paths that stay read-only for every tool (bash re-binds them read-only)"),
  systemPaths: z
    .array(z.string())
    .describe("host directories a command sees read-only at the same path; symlinks (merged /usr) are recreated as symlinks"),
  etcFiles: z
    .array(z.string())
    .describe("the few /etc entries a shell and common tools need; missing ones are skipped. Never /etc/shadow"),
  sandboxWorkspace: z.string().describe("where the workspace appears inside the sandbox (also cwd and HOME)"),
  network: z.literal("none").describe("commands get an empty network namespace; there is no other choice yet"),
  limits: limitsSchema,
};

/**
 * `workspace-write`: the workspace is writable except `readOnlySubpaths`.
 * `read-only`: nothing is writable (file tools refuse writes; bash sees the workspace read-only).
 * An empty `readOnlySubpaths` means "protect nothing"; it is never left undefined.
 */
export const sandboxPolicySchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("workspace-write"), ...commonFields }),
  z.object({ type: z.literal("read-only"), ...commonFields }),
]);
export type SandboxPolicy = z.infer<typeof sandboxPolicySchema>;
export type SandboxLimits = z.infer<typeof limitsSchema>;

const MiB = 1024 * 1024;

export const DEFAULT_POLICY: SandboxPolicy = sandboxPolicySchema.parse({
  type: "workspace-write",
  readOnlySubpaths: [".git"],
  systemPaths: ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"],
  etcFiles: [
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/os-release",
  ],
  sandboxWorkspace: "/workspace",
  network: "none",
  limits: {
    defaultTimeoutS: 30,
    maxTimeoutS: 600,
    maxOutputChars: 30_000,
    // Draining 64 MiB takes well under a second; anything beyond is a runaway, not a build log.
    killAfterOutputBytes: 64 * MiB,
    maxProcesses: 256,
    maxFileBytes: 256 * MiB,
    // Generous: runtimes such as node reserve far more address space than they touch.
    maxMemoryBytes: 8192 * MiB,
    tmpBytes: 512 * MiB,
  },
});

/** What `bwrapArgs` needs to know about the host, gathered by `probeHost` (sandbox/host.ts). */
export type HostFacts = {
  /** System paths that exist, each a directory or a symlink (with its target). */
  systemEntries: Array<{ path: string; symlinkTarget?: string }>;
  /** /etc entries that exist. */
  etcEntries: string[];
  /** Protected workspace subpaths that exist, as real paths relative to the workspace's real root. */
  protectedRealSubpaths: string[];
};

/** Where a workspace-relative path lies inside the sandbox. */
export function sandboxPath(policy: SandboxPolicy, relativePath: string): string {
  return relativePath === "" ? policy.sandboxWorkspace : path.posix.join(policy.sandboxWorkspace, relativePath);
}

/**
 * The bubblewrap argv (without the program name and without the command) for a workspace whose
 * real root is `workspaceRoot`. Order matters: later mounts cover earlier ones, so the read-only
 * re-binds of protected subpaths come after the workspace bind.
 */
export function bwrapArgs(policy: SandboxPolicy, workspaceRoot: string, host: HostFacts): string[] {
  const args = [
    // New user, pid, ipc, uts, cgroup and (empty) network namespaces; no nested user namespaces,
    // no capabilities, so even uid 0 inside cannot remount the read-only binds.
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    // A new session stops TIOCSTI terminal injection (CVE-2017-5226).
    "--new-session",
    "--clearenv",
    "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
    "--setenv", "HOME", policy.sandboxWorkspace,
    "--setenv", "LANG", "C.UTF-8",
    "--setenv", "TERM", "dumb",
    "--hostname", "sandbox",
  ];
  for (const entry of host.systemEntries) {
    if (entry.symlinkTarget !== undefined) args.push("--symlink", entry.symlinkTarget, entry.path);
    else args.push("--ro-bind", entry.path, entry.path);
  }
  for (const etc of host.etcEntries) args.push("--ro-bind", etc, etc);
  args.push("--proc", "/proc", "--dev", "/dev", "--size", String(policy.limits.tmpBytes), "--tmpfs", "/tmp");
  switch (policy.type) {
    case "workspace-write":
      args.push("--bind", workspaceRoot, policy.sandboxWorkspace);
      for (const rel of host.protectedRealSubpaths) {
        args.push("--ro-bind", path.join(workspaceRoot, rel), sandboxPath(policy, rel));
      }
      break;
    case "read-only":
      args.push("--ro-bind", workspaceRoot, policy.sandboxWorkspace);
      break;
    default: {
      const never: never = policy;
      throw new Error(`unknown sandbox policy ${String(never)}`);
    }
  }
  args.push("--chdir", policy.sandboxWorkspace);
  return args;
}

/** The shell prelude run inside the sandbox before the command: per-process resource limits. */
export function ulimitPrelude(limits: SandboxLimits): string {
  const kib = (bytes: number) => Math.max(1, Math.floor(bytes / 1024));
  // bash counts -f and -v in KiB. -u is a no-op for uid 0 (the kernel exempts root); the pids
  // cgroup is what bounds a fork bomb there.
  return `ulimit -u ${limits.maxProcesses} -f ${kib(limits.maxFileBytes)} -v ${kib(limits.maxMemoryBytes)} -c 0`;
}

export type WriteDecision = { ok: true } | { ok: false; reason: string };

/** True when `rel` (workspace-relative, "/"-separated, normalised) is `sub` or lies below it. */
function isAtOrBelow(rel: string, sub: string): boolean {
  const clean = sub.replace(/\/+$/, "");
  return rel === clean || rel.startsWith(`${clean}/`);
}

/**
 * May a file tool write the workspace-relative path `rel`? `protectedExtra` holds real paths
 * that protected subpaths resolve to (a `.git` symlinked to another folder protects that folder).
 */
export function canWrite(policy: SandboxPolicy, rel: string, protectedExtra: string[] = []): WriteDecision {
  switch (policy.type) {
    case "read-only":
      return { ok: false, reason: "the workspace is read-only" };
    case "workspace-write": {
      if (rel === "" || rel === ".") return { ok: false, reason: "the workspace root itself cannot be written" };
      for (const sub of [...policy.readOnlySubpaths, ...protectedExtra]) {
        if (isAtOrBelow(rel, sub)) return { ok: false, reason: `${sub}/ is protected (read-only)` };
      }
      return { ok: true };
    }
    default: {
      const never: never = policy;
      throw new Error(`unknown sandbox policy ${String(never)}`);
    }
  }
}

/** Codex-style summary: the roots a command may write and the subpaths inside them that stay read-only. */
export function writableRoots(policy: SandboxPolicy, root: string): Array<{ root: string; readOnlySubpaths: string[] }> {
  switch (policy.type) {
    case "read-only":
      return [];
    case "workspace-write":
      return [{ root, readOnlySubpaths: [...policy.readOnlySubpaths] }];
    default: {
      const never: never = policy;
      throw new Error(`unknown sandbox policy ${String(never)}`);
    }
  }
}

/** No host is reachable from a command: the network namespace is empty. */
export function networkAllowed(policy: SandboxPolicy, _host: string): boolean {
  return policy.network !== "none";
}

/** The timeout a bash call runs under: the call's request, else the default, never above the maximum. */
export function clampTimeout(policy: SandboxPolicy, requestedS: number | undefined): number {
  const wanted = requestedS === undefined || !(requestedS > 0) ? policy.limits.defaultTimeoutS : requestedS;
  return Math.min(wanted, policy.limits.maxTimeoutS);
}
