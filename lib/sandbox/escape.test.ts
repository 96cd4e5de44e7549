/**
 * The escape suite: every row of escape-cases.ts runs through the tool CLI in a child process
 * (the same registry, sandbox and limits as the agent), with a secret planted in that process's
 * environment. After each row: nothing outside the row's workspace changed (contents, mtimes,
 * modes of every canary), the host listeners saw no connection, and no process the row started
 * is still alive.
 */
import { execFile } from "node:child_process";
import { createHash, randomInt } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ESCAPE_CASES, type Outcome, type World } from "./escape-cases";
import { findBwrap } from "./host";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SECRET = `planted-secret-${randomInt(1e9)}`;

let base: string;
let outside: string;
let dataDir: string;
let otherWs: string;
let baseline: Map<string, string>;
let connections = 0;
const servers: net.Server[] = [];

/** Every file and folder under `dir` except the rows' own workspaces: content hash, mode, mtime. */
function snapshot(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (full.startsWith(path.join(dataDir, "workspaces", "row-"))) continue;
    const s = fs.lstatSync(full);
    // Not nlink: planting a hard link to an outside file is part of some rows.
    let digest = `${s.mode}:${s.mtimeMs}`;
    if (entry.isFile()) digest += `:${createHash("sha256").update(fs.readFileSync(full)).digest("hex")}`;
    if (entry.isSymbolicLink()) digest += `:${fs.readlinkSync(full)}`;
    out.set(full, digest);
    if (entry.isDirectory()) snapshot(full, out);
  }
  return out;
}

/** Host processes (other than this one) whose command line contains `token`. */
function processesWith(token: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmdline.includes(token)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

function runCli(tool: string, workspace: string, args: unknown): Promise<Outcome> {
  const argv = [
    "--import",
    "tsx",
    path.join(ROOT, "lib/tools/cli-entry.ts"),
    tool,
    "--workspace",
    workspace,
    "--args",
    JSON.stringify(args),
  ];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      argv,
      { cwd: ROOT, env: { ...process.env, CC_PLANTED_SECRET: SECRET }, maxBuffer: 4 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        try {
          resolve({ code, result: JSON.parse(stdout) });
        } catch {
          reject(new Error(`tool CLI printed no JSON (exit ${code}): ${stdout}${stderr}`));
        }
      },
    );
  });
}

function listen(server: net.Server, where: string | number): Promise<void> {
  servers.push(server);
  return new Promise((resolve) =>
    typeof where === "number" ? server.listen(where, "127.0.0.1", resolve) : server.listen(where, resolve),
  );
}

let port = 0;
const unixSocket = () => path.join(outside, "host.sock");
const abstractSocket = `cc-escape-${randomInt(1e9)}`;

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), "cc-escape-"));
  outside = path.join(base, "outside");
  dataDir = path.join(base, "data");
  otherWs = path.join(dataDir, "workspaces", "other");
  fs.mkdirSync(outside, { recursive: true });
  fs.mkdirSync(otherWs, { recursive: true });
  fs.writeFileSync(path.join(outside, "canary.txt"), "CANARY outside\n");
  fs.writeFileSync(path.join(outside, "hard.txt"), "CANARY hard-linked\n");
  fs.writeFileSync(path.join(otherWs, "secret.txt"), "CANARY other workspace\n");
  fs.writeFileSync(path.join(dataDir, "db.sqlite"), "CANARY database\n");
  const count = () => connections++;
  const tcp = net.createServer((s) => (count(), s.destroy()));
  await listen(tcp, 0);
  port = (tcp.address() as net.AddressInfo).port;
  await listen(
    net.createServer((s) => (count(), s.destroy())),
    unixSocket(),
  );
  await listen(
    net.createServer((s) => (count(), s.destroy())),
    `\0${abstractSocket}`,
  );
  for (const index of ESCAPE_CASES.keys()) makeWorkspace(index);
  baseline = snapshot(base);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

function makeWorkspace(index: number): string {
  const ws = path.join(dataDir, "workspaces", `row-${index}`);
  fs.mkdirSync(path.join(ws, ".git", "hooks"), { recursive: true });
  fs.writeFileSync(path.join(ws, ".git", "config"), "[core]\n\tbare = false\n");
  fs.writeFileSync(path.join(ws, ".git", "hooks", "pre-commit"), "#!/bin/sh\nexit 0\n");
  fs.writeFileSync(path.join(ws, "README.md"), "# project\n");
  return ws;
}

const bwrapMissing = (await findBwrap()) === null;

describe.skipIf(bwrapMissing).concurrent("a tool call cannot reach outside its workspace", () => {
  it("has at least 40 rows", () => expect(ESCAPE_CASES.length).toBeGreaterThanOrEqual(40));

  ESCAPE_CASES.forEach((row, index) => {
    it(row.name, async () => {
      const ws = path.join(dataDir, "workspaces", `row-${index}`);
      const before = connections;
      const world: World = {
        ws,
        outside,
        dataDir,
        otherWs,
        dbFile: path.join(dataDir, "db.sqlite"),
        port,
        unixSocket: unixSocket(),
        abstractSocket,
        secret: SECRET,
        token: `${400 + index}.${randomInt(1e5, 1e6)}`,
        connections: () => connections - before,
      };
      row.setup?.(world);
      const outcome = await runCli(row.tool, ws, row.args(world));
      row.check(outcome, world);
      expect(JSON.stringify(outcome)).not.toContain(SECRET);
      expect(processesWith(world.token)).toEqual([]);
      expect(snapshot(base)).toEqual(baseline);
    });
  });
});
