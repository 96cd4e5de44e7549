/**
 * The sandbox policy as data, and the decisions drawn from it as pure functions. The policy is
 * chosen by the server (never by the model): which host directories a command sees read-only,
 * which parts of the workspace stay read-only, whether there is a network, and the resource
 * limits. `bwrapArgs` turns a policy plus facts probed from the host (`HostFacts`) into the
 * bubblewrap argv, so the whole sandbox can be read (and tested) as one list; its writable mounts
 * are `writableRoots` and its network is `networkAllowed`, the same decisions the tests table.
 */
import path from "node:path";
import { z } from "zod";
import { FIELDS } from "@/lib/config/fields";

const limitsSchema = z.object({
  defaultTimeoutS: z.number().positive().describe("bash timeout when the call names none (seconds)"),
  maxTimeoutS: z.number().int().positive().describe("the largest timeout a call may ask for (seconds)"),
  maxOutputChars: z.number().int().positive().describe("characters of output kept (head + tail)"),
  killAfterOutputBytes: z
    .number()
    .int()
    .positive()
    .describe("a command that writes more than this many bytes is stopped: output is never buffered unbounded"),
  maxProcesses: z
    .number()
    .int()
    .positive()
    .describe(
      "processes and threads one call runs at once, all together (pids cgroup; without one, ulimit -u, which counts per user and never binds root)",
    ),
  maxFileBytes: z
    .number()
    .int()
    .positive()
    .describe("largest file a command may write (ulimit -f); lowered to what is left of the workspace quota"),
  callMemoryBytes: z
    .number()
    .int()
    .positive()
    .nullable()
    .describe(
      "memory for one call, all its processes together (memory cgroup; without one, each process's address space via ulimit -v). null: no limit",
    ),
  tmpBytes: z.number().int().positive().describe("size of the private /tmp (its pages count as the call's memory)"),
  workspaceQuotaBytes: z
    .number()
    .int()
    .positive()
    .nullable()
    .describe(
      "disk space the workspace may occupy: file tools refuse writes past it, a bash call that passes it is stopped. null: no quota",
    ),
});

const commonFields = {
  readOnlySubpaths: z
    .array(z.string())
    .describe("workspace-relative paths that stay read-only for every tool (bash re-binds them read-only)"),
  systemPaths: z
    .array(z.string())
    .describe(
      "host directories a command sees read-only at the same path; symlinks (merged /usr) are recreated as symlinks",
    ),
  etcFiles: z
    .array(z.string())
    .describe("the few /etc entries a shell and common tools need; missing ones are skipped. Never /etc/shadow"),
  sandboxWorkspace: z.string().describe("where the workspace appears inside the sandbox (also cwd and HOME)"),
  network: z
    .enum(["none", "full"])
    .describe(
      "none: commands get an empty network namespace; full: they share the host's (an administrator's choice, never the default)",
    ),
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

/** MiB from a setting, 0 meaning "no limit". */
const mibOrNone = (mib: number): number | null => (mib === 0 ? null : mib * MiB);

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
    defaultTimeoutS: FIELDS.bashTimeoutSec.default,
    maxTimeoutS: 600,
    maxOutputChars: 30_000,
    // Draining 64 MiB takes well under a second; anything beyond is a runaway, not a build log.
    killAfterOutputBytes: 64 * MiB,
    maxProcesses: FIELDS.sandboxMaxProcesses.default,
    maxFileBytes: 256 * MiB,
    callMemoryBytes: mibOrNone(FIELDS.sandboxMemoryMib.default),
    tmpBytes: 512 * MiB,
    workspaceQuotaBytes: mibOrNone(FIELDS.workspaceQuotaMib.default),
  },
});

/** The settings that shape the policy (a Config has them all). */
export type SandboxSettings = {
  bashTimeoutSec: number;
  sandboxMemoryMib: number;
  sandboxMaxProcesses: number;
  workspaceQuotaMib: number;
};

/** The default policy with an administrator's limits. */
export function sandboxPolicyFor(settings: SandboxSettings): SandboxPolicy {
  return sandboxPolicySchema.parse({
    ...DEFAULT_POLICY,
    limits: {
      ...DEFAULT_POLICY.limits,
      defaultTimeoutS: settings.bashTimeoutSec,
      maxProcesses: settings.sandboxMaxProcesses,
      callMemoryBytes: mibOrNone(settings.sandboxMemoryMib),
      workspaceQuotaBytes: mibOrNone(settings.workspaceQuotaMib),
    },
  });
}

/** What `bwrapArgs` needs to know about the host, gathered by `probeHost` (sandbox/host.ts). */
export type HostFacts = {
  /** System paths that exist, each a directory or a symlink (with its target). */
  systemEntries: Array<{ path: string; symlinkTarget?: string }>;
  /** /etc entries that exist. */
  etcEntries: string[];
  /**
   * For each of `writableRoots(policy, workspaceRoot)`, its read-only subpaths that exist, as the
   * real paths they resolve to, relative to the root (a symlinked .git protects its target).
   */
  readOnlyRealSubpaths: Record<string, string[]>;
};

/** Where a workspace-relative path lies inside the sandbox. */
export function sandboxPath(policy: SandboxPolicy, relativePath: string): string {
  return relativePath === "" ? policy.sandboxWorkspace : path.posix.join(policy.sandboxWorkspace, relativePath);
}

/** Where a host directory inside the workspace appears in the sandbox; anything outside is refused. */
function sandboxPathOf(policy: SandboxPolicy, workspaceRoot: string, hostPath: string): string {
  const rel = path.relative(workspaceRoot, hostPath);
  if (rel.startsWith("..") || path.isAbsolute(rel)) throw new Error(`${hostPath} is outside the workspace`);
  return sandboxPath(policy, rel.split(path.sep).join("/"));
}

/**
 * The bubblewrap argv (without the program name and without the command) for a workspace whose
 * real root is `workspaceRoot`. Order matters: later mounts cover earlier ones, so the workspace
 * is bound read-only unless a writable root covers it, each of `writableRoots` is bound writable
 * over it, and each root's read-only subpaths are bound back read-only after it.
 */
export function bwrapArgs(policy: SandboxPolicy, workspaceRoot: string, host: HostFacts): string[] {
  const args = [
    // New user, pid, ipc, uts, cgroup and network namespaces (the network one empty unless the
    // policy shares the host's); no nested user namespaces, no capabilities, so even uid 0
    // inside cannot remount the read-only binds.
    "--unshare-all",
    ...(networkAllowed(policy, "*") ? ["--share-net"] : []),
    "--unshare-user",
    "--disable-userns",
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    // A new session stops TIOCSTI terminal injection (CVE-2017-5226).
    "--new-session",
    "--clearenv",
    "--setenv",
    "PATH",
    "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
    "--setenv",
    "HOME",
    policy.sandboxWorkspace,
    "--setenv",
    "LANG",
    "C.UTF-8",
    "--setenv",
    "TERM",
    "dumb",
    "--hostname",
    "sandbox",
  ];
  for (const entry of host.systemEntries) {
    if (entry.symlinkTarget !== undefined) args.push("--symlink", entry.symlinkTarget, entry.path);
    else args.push("--ro-bind", entry.path, entry.path);
  }
  for (const etc of host.etcEntries) args.push("--ro-bind", etc, etc);
  args.push("--proc", "/proc", "--dev", "/dev", "--size", String(policy.limits.tmpBytes), "--tmpfs", "/tmp");
  const roots = writableRoots(policy, workspaceRoot);
  if (!roots.some((r) => r.root === workspaceRoot)) args.push("--ro-bind", workspaceRoot, policy.sandboxWorkspace);
  for (const { root, readOnlySubpaths } of roots) {
    const at = sandboxPathOf(policy, workspaceRoot, root);
    args.push("--bind", root, at);
    // Fail closed: a root whose protected subpaths were not probed is not mounted writable.
    const real = host.readOnlyRealSubpaths[root];
    if (!real && readOnlySubpaths.length > 0) throw new Error(`the read-only subpaths of ${root} were not probed`);
    for (const rel of real ?? []) args.push("--ro-bind", path.join(root, rel), path.posix.join(at, rel));
  }
  args.push("--chdir", policy.sandboxWorkspace);
  return args;
}

/**
 * The per-process limits a call's shell sets (ulimit). A limit the call's cgroup already holds for
 * the whole call is null here: per process it would only add a second, looser rule.
 */
export type ShellLimits = {
  /** Largest file a process may write (RLIMIT_FSIZE); 0: no file may grow at all. */
  fileBytes: number;
  /** RLIMIT_NPROC; null when a pids cgroup counts the call's processes. */
  processes: number | null;
  /** RLIMIT_AS; null when a memory cgroup holds the call's memory, or there is no memory limit. */
  addressSpaceBytes: number | null;
};

/** The per-process limits for a call, given what its cgroup enforces and the quota left (null: no quota). */
export function shellLimits(
  limits: SandboxLimits,
  cgroup: { memory: boolean; processes: boolean },
  quotaLeftBytes: number | null,
): ShellLimits {
  return {
    fileBytes: quotaLeftBytes === null ? limits.maxFileBytes : Math.min(limits.maxFileBytes, quotaLeftBytes),
    processes: cgroup.processes ? null : limits.maxProcesses,
    addressSpaceBytes: cgroup.memory ? null : limits.callMemoryBytes,
  };
}

/** The shell prelude run inside the sandbox before the command. */
export function ulimitPrelude(limits: ShellLimits): string {
  // bash counts -f and -v in KiB. -u is a no-op for uid 0 (the kernel exempts root); only a pids
  // cgroup bounds a fork bomb there.
  const kib = (bytes: number) => Math.floor(bytes / 1024);
  const parts = [`-f ${kib(limits.fileBytes)}`];
  if (limits.processes !== null) parts.unshift(`-u ${limits.processes}`);
  if (limits.addressSpaceBytes !== null) parts.push(`-v ${Math.max(1, kib(limits.addressSpaceBytes))}`);
  return `ulimit ${parts.join(" ")} -c 0`;
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
export function writableRoots(
  policy: SandboxPolicy,
  root: string,
): Array<{ root: string; readOnlySubpaths: string[] }> {
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

/** May a command reach `_host`? Under "none" nothing is (the namespace is empty); under "full" all is. */
export function networkAllowed(policy: SandboxPolicy, _host: string): boolean {
  switch (policy.network) {
    case "none":
      return false;
    case "full":
      return true;
    default: {
      const never: never = policy.network;
      throw new Error(`unknown network setting ${String(never)}`);
    }
  }
}

/** The timeout a bash call runs under: the call's request, else the default, never above the maximum. */
export function clampTimeout(policy: SandboxPolicy, requestedS: number | undefined): number {
  const wanted = requestedS === undefined || !(requestedS > 0) ? policy.limits.defaultTimeoutS : requestedS;
  return Math.min(wanted, policy.limits.maxTimeoutS);
}
