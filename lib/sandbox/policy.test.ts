import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bwrapArgs,
  canWrite,
  clampTimeout,
  DEFAULT_POLICY,
  networkAllowed,
  sandboxPolicyFor,
  sandboxPolicySchema,
  shellLimits,
  ulimitPrelude,
  writableRoots,
  type HostFacts,
  type SandboxPolicy,
  type ShellLimits,
} from "./policy";
import { realpathLongestPrefix } from "./resolve";
import { OutputCapture, capChars } from "./output";

const readOnly: SandboxPolicy = { ...DEFAULT_POLICY, type: "read-only" };

describe("canWrite", () => {
  const rows: Array<[SandboxPolicy, string, string[], boolean]> = [
    [DEFAULT_POLICY, "src/a.ts", [], true],
    [DEFAULT_POLICY, ".gitignore", [], true],
    [DEFAULT_POLICY, ".github/workflows/ci.yml", [], true],
    [DEFAULT_POLICY, ".git", [], false],
    [DEFAULT_POLICY, ".git/hooks/pre-commit", [], false],
    [DEFAULT_POLICY, ".git/config", [], false],
    [DEFAULT_POLICY, "", [], false],
    [DEFAULT_POLICY, "real-git/hooks/x", ["real-git"], false],
    [DEFAULT_POLICY, "real-gitx/hooks/x", ["real-git"], true],
    [{ ...DEFAULT_POLICY, readOnlySubpaths: [] }, ".git/config", [], true],
    [{ ...DEFAULT_POLICY, readOnlySubpaths: [".git", ".env"] }, ".env", [], false],
    [readOnly, "src/a.ts", [], false],
  ];
  it.each(rows)("policy %#: %s (extra %j) → writable %s", (policy, rel, extra, expected) => {
    expect(canWrite(policy, rel, extra).ok).toBe(expected);
  });
});

describe("the policy as data", () => {
  it("the default policy parses and protects .git", () => {
    expect(sandboxPolicySchema.parse(DEFAULT_POLICY)).toEqual(DEFAULT_POLICY);
    expect(writableRoots(DEFAULT_POLICY, "/w")).toEqual([{ root: "/w", readOnlySubpaths: [".git"] }]);
    expect(writableRoots(readOnly, "/w")).toEqual([]);
  });

  it("never exposes /etc/shadow and allows no network", () => {
    expect(DEFAULT_POLICY.etcFiles.some((p) => p.includes("shadow"))).toBe(false);
    expect(networkAllowed(DEFAULT_POLICY, "example.com")).toBe(false);
  });

  it("clamps timeouts to the default and the maximum", () => {
    expect([
      clampTimeout(DEFAULT_POLICY, undefined),
      clampTimeout(DEFAULT_POLICY, 5),
      clampTimeout(DEFAULT_POLICY, 9999),
      clampTimeout(DEFAULT_POLICY, -1),
    ]).toEqual([30, 5, 600, 30]);
  });

  it("bwrapArgs builds the whole sandbox from the policy and the host facts", () => {
    const host: HostFacts = {
      systemEntries: [{ path: "/usr" }, { path: "/bin", symlinkTarget: "usr/bin" }],
      etcEntries: ["/etc/passwd"],
      readOnlyRealSubpaths: { "/data/ws/1": [".git"] },
    };
    const args = bwrapArgs(DEFAULT_POLICY, "/data/ws/1", host);
    expect(args.slice(0, 6)).toEqual([
      "--unshare-all",
      "--unshare-user",
      "--disable-userns",
      "--cap-drop",
      "ALL",
      "--die-with-parent",
    ]);
    expect(args).toContain("--new-session");
    expect(args).toContain("--clearenv");
    expect(args).not.toContain("--share-net");
    const tail = args.slice(args.indexOf("--setenv"));
    expect(tail.join(" ")).toContain(
      "--ro-bind /usr /usr --symlink usr/bin /bin --ro-bind /etc/passwd /etc/passwd --proc /proc --dev /dev --size 536870912 --tmpfs /tmp",
    );
    expect(tail.join(" ")).toContain(
      "--bind /data/ws/1 /workspace --ro-bind /data/ws/1/.git /workspace/.git --chdir /workspace",
    );
    expect(bwrapArgs(readOnly, "/data/ws/1", host).join(" ")).toContain("--ro-bind /data/ws/1 /workspace --chdir");
  });

  /** The workspace part of the argv: from the first mount of it to --chdir. */
  const workspaceMounts = (args: string[]) => {
    const start = args.findIndex(
      (a, i) => (a === "--bind" || a === "--ro-bind") && args[i + 1]?.startsWith("/data/ws/1"),
    );
    return args.slice(start, args.indexOf("--chdir")).join(" ");
  };
  const bare: HostFacts = { systemEntries: [], etcEntries: [], readOnlyRealSubpaths: { "/data/ws/1": [] } };

  it("the writable binds are the policy's writableRoots, with each root's read-only subpaths bound back", () => {
    const secrets: SandboxPolicy = { ...DEFAULT_POLICY, readOnlySubpaths: [".git", "secrets"] };
    expect(writableRoots(secrets, "/data/ws/1")).toEqual([
      { root: "/data/ws/1", readOnlySubpaths: [".git", "secrets"] },
    ]);
    const host = { ...bare, readOnlyRealSubpaths: { "/data/ws/1": [".git", "secrets"] } };
    expect(workspaceMounts(bwrapArgs(secrets, "/data/ws/1", host))).toBe(
      "--bind /data/ws/1 /workspace --ro-bind /data/ws/1/.git /workspace/.git --ro-bind /data/ws/1/secrets /workspace/secrets",
    );
    // A read-only policy has no writable root, so no writable bind at all.
    expect(writableRoots(readOnly, "/data/ws/1")).toEqual([]);
    expect(workspaceMounts(bwrapArgs(readOnly, "/data/ws/1", bare))).toBe("--ro-bind /data/ws/1 /workspace");
  });

  it("refuses to bind a writable root whose read-only subpaths were not probed", () => {
    expect(() => bwrapArgs(DEFAULT_POLICY, "/data/ws/1", { ...bare, readOnlyRealSubpaths: {} })).toThrow(
      /read-only subpaths of \/data\/ws\/1 were not probed/,
    );
  });

  it("the network namespace is shared only when the policy allows the network", () => {
    const online: SandboxPolicy = { ...DEFAULT_POLICY, network: "full" };
    expect([networkAllowed(DEFAULT_POLICY, "example.com"), networkAllowed(online, "example.com")]).toEqual([
      false,
      true,
    ]);
    expect(bwrapArgs(DEFAULT_POLICY, "/data/ws/1", bare)).not.toContain("--share-net");
    expect(bwrapArgs(online, "/data/ws/1", bare).slice(0, 2)).toEqual(["--unshare-all", "--share-net"]);
  });
});

describe("where protected subpaths really lie", () => {
  let base: string;
  let ws: string;
  beforeAll(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "cc-resolve-")));
    ws = path.join(base, "ws");
    fs.mkdirSync(path.join(ws, ".git"), { recursive: true });
    fs.mkdirSync(path.join(ws, "src"));
    fs.writeFileSync(path.join(ws, "src/a.ts"), "a");
    fs.symlinkSync(path.join(base, "missing/deeper"), path.join(ws, "dangling"));
    fs.symlinkSync("src", path.join(ws, "inner"));
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it("follows dangling symlinks instead of joining past them", async () => {
    expect(await realpathLongestPrefix(path.join(ws, "dangling/x.txt"))).toBe(path.join(base, "missing/deeper/x.txt"));
    expect(await realpathLongestPrefix(path.join(ws, "inner/new/x.txt"))).toBe(path.join(ws, "src/new/x.txt"));
  });
});

describe("output capping", () => {
  it("keeps short output whole", () => {
    const capture = new OutputCapture(100);
    capture.push(Buffer.from("hello\n"));
    expect(capture.text()).toBe("hello\n");
  });

  it("keeps the head and the tail of long output with a marker, in bounded memory", () => {
    const capture = new OutputCapture(1000);
    capture.push(Buffer.from("HEAD"));
    for (let i = 0; i < 1000; i++) capture.push(Buffer.alloc(10_000, "m"));
    capture.push(Buffer.from("TAIL"));
    const text = capture.text();
    expect(text.startsWith("HEAD")).toBe(true);
    expect(text.endsWith("TAIL")).toBe(true);
    expect(text).toContain(
      "[... output truncated: 10000008 bytes in all; the first and last 500 characters are shown ...]",
    );
    expect(text.length).toBeLessThan(1200);
  });

  it("capChars cuts text longer than the limit in the middle", () => {
    expect(capChars("abcdefghij", 4)).toBe(
      "ab\n\n[... output truncated: 10 characters in all; the first and last 2 characters are shown ...]\n\nij",
    );
  });
});

describe("the per-process limits a call's shell sets", () => {
  const MiB = 1024 * 1024;
  const limits = { ...DEFAULT_POLICY.limits, maxProcesses: 256, maxFileBytes: 256 * MiB, callMemoryBytes: 2048 * MiB };
  const both = { memory: true, processes: true };
  const none = { memory: false, processes: false };
  const rows: Array<[string, ShellLimits, string]> = [
    ["a cgroup holds memory and processes, no quota", shellLimits(limits, both, null), "ulimit -f 262144 -c 0"],
    [
      "no cgroup: the call's memory and process limits apply per process",
      shellLimits(limits, none, null),
      "ulimit -u 256 -f 262144 -v 2097152 -c 0",
    ],
    [
      "no cgroup, no memory limit",
      shellLimits({ ...limits, callMemoryBytes: null }, none, null),
      "ulimit -u 256 -f 262144 -c 0",
    ],
    [
      "only a pids cgroup",
      shellLimits(limits, { memory: false, processes: true }, null),
      "ulimit -f 262144 -v 2097152 -c 0",
    ],
    ["10 MiB left of the quota caps every file", shellLimits(limits, both, 10 * MiB), "ulimit -f 10240 -c 0"],
    ["a workspace over its quota: no file may grow", shellLimits(limits, both, 0), "ulimit -f 0 -c 0"],
    ["more left than the largest file", shellLimits(limits, both, 1024 * MiB), "ulimit -f 262144 -c 0"],
  ];
  it.each(rows)("%s", (_name, shell, prelude) => {
    expect(ulimitPrelude(shell)).toBe(prelude);
  });
});

describe("the policy an administrator's settings make", () => {
  const MiB = 1024 * 1024;
  it("carries the timeout, memory, process and quota settings into the limits", () => {
    const policy = sandboxPolicyFor({
      bashTimeoutSec: 90,
      sandboxMemoryMib: 4096,
      sandboxMaxProcesses: 512,
      workspaceQuotaMib: 10240,
    });
    expect(policy).toEqual({
      ...DEFAULT_POLICY,
      limits: {
        ...DEFAULT_POLICY.limits,
        defaultTimeoutS: 90,
        callMemoryBytes: 4096 * MiB,
        maxProcesses: 512,
        workspaceQuotaBytes: 10240 * MiB,
      },
    });
  });

  it("reads 0 MiB as no memory limit and no quota", () => {
    const policy = sandboxPolicyFor({
      bashTimeoutSec: 30,
      sandboxMemoryMib: 0,
      sandboxMaxProcesses: 256,
      workspaceQuotaMib: 0,
    });
    expect([policy.limits.callMemoryBytes, policy.limits.workspaceQuotaBytes]).toEqual([null, null]);
  });

  it("defaults to 2 GiB of memory and 256 processes per call and a 2 GiB quota per workspace", () => {
    expect(DEFAULT_POLICY.limits).toMatchObject({
      callMemoryBytes: 2048 * MiB,
      maxProcesses: 256,
      workspaceQuotaBytes: 2048 * MiB,
      defaultTimeoutS: 30,
    });
  });
});
