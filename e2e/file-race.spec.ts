/**
 * The file viewer and tree routes under a rename race, through the real server and real sign-in:
 * Bob's own bash (the tool CLI, inside bubblewrap, as the agent runs it) swaps a folder of his
 * workspace with a link to Alice's workspace folder as fast as it can, while Bob asks his own
 * workspace's routes for that folder. Neither route may answer with anything of Alice's.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, PASSWORD, test } from "./fixtures";

const SWAP_SECONDS = 4;

/** Exchanges `d` and `x` (renameat2 RENAME_EXCHANGE) until the time is up, then prints its count. */
const SWAPPER = `python3 - ${SWAP_SECONDS} <<'EOF'
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
SYS_renameat2 = {"x86_64": 316, "aarch64": 276}[os.uname().machine]
end = time.time() + float(sys.argv[1])
swaps = 0
while time.time() < end:
    for _ in range(100):
        swaps += libc.syscall(SYS_renameat2, -100, b"d", -100, b"x", 2) == 0
print(f"swaps={swaps}")
EOF`;

/** The bash tool, run as the agent runs it, in a workspace folder; resolves with its JSON result. */
function bashInWorkspace(workspace: string, cmd: string): Promise<{ output: string; success: boolean }> {
  const argv = [
    "--import",
    "tsx",
    "lib/tools/cli-entry.ts",
    "bash",
    "--workspace",
    workspace,
    "--args",
    JSON.stringify({ cmd, timeout: SWAP_SECONDS + 30 }),
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, argv, { cwd: process.cwd() }, (_error, stdout, stderr) => {
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`tool CLI printed no JSON: ${stdout}${stderr}`));
      }
    });
  });
}

test("Bob's viewer and tree never show Alice's files while his own bash swaps a folder for a link to hers", async ({
  persona,
}) => {
  test.setTimeout(120_000);
  const alice = await persona("Alice");
  await alice.auth.signUp({ name: "Alice", email: alice.email, password: PASSWORD });
  const aliceId = await alice.workspaces.create("alice private");
  const bob = await persona("Bob");
  await bob.auth.signUp({ name: "Bob", email: bob.email, password: PASSWORD });
  const bobId = await bob.workspaces.create("bob project", "");

  // Managed workspaces are folders named by their id under <data dir>/workspaces.
  const workspaces = path.join(process.env.E2E_DATA_DIR!, "workspaces");
  const bobDir = path.join(workspaces, bobId);
  expect(fs.readFileSync(path.join(workspaces, aliceId, "calculator.py"), "utf8")).toContain("def divide");
  fs.mkdirSync(path.join(bobDir, "d"));
  fs.writeFileSync(path.join(bobDir, "d", "notes.txt"), "bob's own notes\n");
  // Dangling inside the sandbox; on the host it names Alice's folder.
  fs.symlinkSync(`../${aliceId}`, path.join(bobDir, "x"));

  const swapper = bashInWorkspace(bobDir, SWAPPER);
  let done = false;
  void swapper.finally(() => (done = true));
  while (!done && !fs.lstatSync(path.join(bobDir, "d")).isSymbolicLink()) await new Promise((r) => setTimeout(r, 10));

  let tries = 0;
  let escapes = 0;
  let refusedAsOutside = 0;
  let treeSawLink = 0;
  while (!done) {
    const file = await bob.page.request.get(
      `/api/workspaces/${bobId}/files?path=${encodeURIComponent("d/calculator.py")}`,
    );
    const fileBody = await file.text();
    if (fileBody.includes("def divide")) escapes++;
    if (file.status() === 400) refusedAsOutside++;
    const tree = (await (await bob.page.request.get(`/api/workspaces/${bobId}/tree`)).json()) as {
      entries: Array<{ path: string; type: string }>;
    };
    if (tree.entries.some((e) => /calculator/.test(e.path))) escapes++;
    if (tree.entries.some((e) => e.path === "d" && e.type === "symlink")) treeSawLink++;
    tries++;
  }
  const result = await swapper;
  const swaps = Number(/swaps=(\d+)/.exec(result.output)?.[1] ?? 0);
  console.log(JSON.stringify({ tries, escapes, swaps, refusedAsOutside, treeSawLink }));

  // The race really ran: many swaps, and requests that met the link.
  expect(result.success, result.output).toBe(true);
  expect(swaps).toBeGreaterThan(1000);
  expect(tries).toBeGreaterThan(5);
  expect(refusedAsOutside + treeSawLink).toBeGreaterThan(0);
  expect(escapes).toBe(0);
});
