/**
 * The race suite: while a file tool or a file route runs, a `bash` call in the same workspace
 * (the real bubblewrap sandbox, as the agent runs it) swaps names for symlinks as fast as it can
 * with renameat2(RENAME_EXCHANGE). The links are relative (`../victim`), so inside the sandbox
 * they dangle, but on the host they point into another user's workspace. Each target is driven
 * for the swapper's whole run; every answer is searched for the victim's canary and the victim's
 * folder is compared with its snapshot after every write. The protection is the descriptor walk
 * of lib/workspaces/safe-fs.ts; with it switched off, the same suite counts escapes.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeTool, type ToolContext } from "@/lib/tools";
import { previewToolCall } from "@/lib/conversation-page/tool-preview";
import { readWorkspaceFile } from "@/lib/workspaces/read-file";
import { listTree } from "@/lib/workspaces/tree";
import { findBwrap } from "./host";

/** How long each target runs against the swapper: long enough for thousands of swaps, short enough for the suite. */
/** The race lasts at least this long and until a target has made MIN_TRIES attempts, at most MAX_SWAP_SECONDS. */
const SWAP_SECONDS = 3;
const MIN_TRIES = 20;
const MAX_SWAP_SECONDS = 60;
const CANARY = "CANARY";

/**
 * The swapper, run by the bash tool inside the sandbox: exchanges the folder `d` with `x`
 * (→ ../victim) and the file `f.txt` with `y` (→ ../victim/secret.txt) until the test writes `stop`
 * (or MAX_SWAP_SECONDS pass), then prints its count.
 */
const SWAPPER = `python3 - ${MAX_SWAP_SECONDS} <<'EOF'
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
SYS_renameat2 = {"x86_64": 316, "aarch64": 276}[os.uname().machine]
AT_FDCWD, RENAME_EXCHANGE = -100, 2
end = time.time() + float(sys.argv[1])
swaps = 0
while time.time() < end and not os.path.exists("stop"):
    for _ in range(100):
        for a, b in ((b"d", b"x"), (b"f.txt", b"y")):
            if libc.syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0:
                swaps += 1
print(f"swaps={swaps}")
EOF`;

let base: string;
let victim: string;
let victimBaseline: string;

/** The victim's folder as names and contents: any escaped write changes it. */
function victimSnapshot(): string {
  return JSON.stringify(
    fs
      .readdirSync(victim)
      .sort()
      .map((name) => [name, fs.readFileSync(path.join(victim, name), "utf8")]),
  );
}

function restoreVictim() {
  fs.rmSync(victim, { recursive: true, force: true });
  fs.mkdirSync(victim);
  fs.writeFileSync(path.join(victim, "secret.txt"), `${CANARY} inside the victim's workspace\n`);
  fs.writeFileSync(path.join(victim, `${CANARY}-listed.txt`), "");
}

/** An attacker's workspace next to the victim's: the real folder and file, and the two links that swap with them. */
function attackerWorkspace(name: string): string {
  const ws = path.join(base, "workspaces", name);
  fs.mkdirSync(path.join(ws, "d"), { recursive: true });
  fs.writeFileSync(path.join(ws, "d", "secret.txt"), "inside\n");
  fs.writeFileSync(path.join(ws, "f.txt"), "inside\n");
  fs.symlinkSync("../victim", path.join(ws, "x"));
  fs.symlinkSync("../victim/secret.txt", path.join(ws, "y"));
  return ws;
}

/** Files of the workspace (never following links) that hold the canary: what an edit that read the victim would leave. */
function leakedInto(ws: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(ws, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (entry.isFile() && fs.readFileSync(full, "utf8").includes(CANARY)) found.push(path.relative(ws, full));
  }
  return found;
}

type Target = {
  name: string;
  /** One try, alternating between the swapped folder and the swapped file; returns what it answered. */
  attempt: (ctx: ToolContext, i: number) => Promise<unknown>;
  writes?: boolean;
};

const twoPaths = (i: number) => (i % 2 === 0 ? "d/secret.txt" : "f.txt");
const tool = (name: string, args: (i: number) => Record<string, unknown>) => (ctx: ToolContext, i: number) =>
  executeTool(name, args(i), ctx);

const TARGETS: Target[] = [
  { name: "read", attempt: tool("read", (i) => ({ path: twoPaths(i) })) },
  { name: "write", writes: true, attempt: tool("write", (i) => ({ path: twoPaths(i), content: "written\n" })) },
  // Each edit makes the line one letter longer, so `old` always matches once inside (and "inside" also matches the victim's line).
  { name: "edit", writes: true, attempt: tool("edit", (i) => ({ path: twoPaths(i), old: "inside", new: "insidex" })) },
  {
    name: "edit_lines",
    writes: true,
    attempt: tool("edit_lines", (i) => ({ path: twoPaths(i), start_line: 1, end_line: 1, content: "inside\n" })),
  },
  { name: "glob", attempt: tool("glob", (i) => (i % 2 === 0 ? { pat: "**/*" } : { pat: "*", path: "d" })) },
  { name: "grep", attempt: tool("grep", (i) => ({ pat: CANARY, path: [".", "d", "f.txt"][i % 3] })) },
  {
    name: "diff preview",
    attempt: (ctx, i) =>
      previewToolCall({ workspacePath: ctx.workspace, sandbox: ctx.sandbox, cwd: "/workspace" }, "edit", {
        path: twoPaths(i),
        old: "inside",
        new: "changed",
      }),
  },
  {
    name: "file viewer (GET /api/workspaces/:id/files)",
    attempt: (ctx, i) => readWorkspaceFile(ctx.workspace, twoPaths(i)),
  },
  { name: "file tree (GET /api/workspaces/:id/tree)", attempt: (ctx) => listTree(ctx.workspace) },
];

type RaceCount = { tries: number; escapes: number; swaps: number; swappedSeen: number };

/** Drives `target` in a fresh attacker workspace for as long as the swapper runs. */
async function race(target: Target, index: number): Promise<RaceCount> {
  const ws = attackerWorkspace(`attacker-${index}`);
  const ctx: ToolContext = { workspace: ws, sandbox: { mode: "bwrap" } };
  const swapper = executeTool("bash", { cmd: SWAPPER, timeout: MAX_SWAP_SECONDS + 30 }, ctx);
  let done = false;
  void swapper.finally(() => (done = true));
  // The sandbox takes a moment to start: wait for the first swap before counting tries.
  while (!done && !fs.lstatSync(path.join(ws, "d")).isSymbolicLink()) await new Promise((r) => setTimeout(r, 5));
  const count: RaceCount = { tries: 0, escapes: 0, swaps: 0, swappedSeen: 0 };
  const started = Date.now();
  // On a loaded machine each try takes longer: the race runs until enough tries met the swapper.
  const enough = () => Date.now() - started >= SWAP_SECONDS * 1000 && count.tries >= MIN_TRIES;
  while (!done) {
    if (enough()) fs.writeFileSync(path.join(ws, "stop"), "");
    if (fs.lstatSync(path.join(ws, "d")).isSymbolicLink()) count.swappedSeen++;
    const answer = await target.attempt(ctx, count.tries++);
    let escaped = JSON.stringify(answer).includes(CANARY);
    if (target.writes && victimSnapshot() !== victimBaseline) {
      escaped = true;
      restoreVictim();
    }
    if (escaped) count.escapes++;
  }
  const result = await swapper;
  expect(result.success, result.output).toBe(true);
  count.swaps = Number(/swaps=(\d+)/.exec(result.output)?.[1] ?? 0);
  // An edit that read the victim and wrote inside leaves the canary in the attacker's own files.
  if (leakedInto(ws).length > 0) count.escapes++;
  return count;
}

beforeAll(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "cc-race-")));
  victim = path.join(base, "workspaces", "victim");
  fs.mkdirSync(path.join(base, "workspaces"));
  restoreVictim();
  victimBaseline = victimSnapshot();
});

afterAll(() => {
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

const bwrapMissing = (await findBwrap()) === null;

describe.skipIf(bwrapMissing)(
  "a rename race inside the sandbox cannot send a file tool or route outside the workspace",
  () => {
    const counts: Record<string, RaceCount> = {};
    afterAll(() => console.table(counts));

    TARGETS.forEach((target, index) => {
      it(`${target.name}: 0 escapes while the swapper runs`, { timeout: (MAX_SWAP_SECONDS + 30) * 1000 }, async () => {
        const count = await race(target, index);
        counts[target.name] = count;
        // The attack really ran: thousands of swaps, and tries that met the swapped state.
        expect(count.swaps).toBeGreaterThan(1000);
        expect(count.tries).toBeGreaterThanOrEqual(MIN_TRIES);
        expect(count.swappedSeen).toBeGreaterThan(0);
        expect(count.escapes).toBe(0);
        expect(victimSnapshot()).toBe(victimBaseline);
      });
    });
  },
);
