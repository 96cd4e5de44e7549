/**
 * `npm run bench:load [-- --conversations 20 --seconds 120]`: the app under load, as its users
 * reach it. The real server (`node bin/continualcode`, built first when `.next` is missing or older
 * than the code) runs on a free loopback port with its own data directory (mkdtemp, removed after);
 * N people, each with their own account and conversation, are driven at once through the same
 * HTTP routes and server actions the browser uses (see lib/bench/load.ts), for `--seconds`.
 * Prints one JSON object: decide.p50/p95 (seconds from a decision's request to its
 * acknowledgement), send and proposal-wait latencies, errors (count and the first messages), the
 * load average before and after, conversations and duration. Run it under `flock /tmp/e2e.lock`. With `--postgres postgres://host/` the app uses a fresh database on that
 * PostgreSQL server (created, then dropped) instead of PGlite in its data directory.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { runPerson } from "@/lib/bench/load";
import { BrowserClient, readActionIds } from "@/lib/bench/load-client";
import { round, summarise } from "@/lib/bench/stats";
import { projectRoot } from "@/lib/paths";
import { readsViewAfter } from "@/lib/conversation-page/live-view";
import { logToStderr } from "@/lib/log";

// Stdout carries the one JSON result; the app's log lines go to stderr.
logToStderr();

const { values } = parseArgs({
  options: {
    conversations: { type: "string", default: "20" },
    seconds: { type: "string", default: "120" },
    "start-timeout": { type: "string", default: "600" },
    postgres: { type: "string" },
  },
});
const conversations = Number(values.conversations);
const seconds = Number(values.seconds);
if (!(conversations >= 1 && seconds > 0)) throw new Error("--conversations and --seconds must be positive numbers");
const log = (line: string) => process.stderr.write(`[bench:load ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const loadavg = () => fs.readFileSync("/proc/loadavg", "utf8").trim();
const root = projectRoot();

/** Newest modification time of the app's code, to tell whether `.next` was built from it. */
function newestSource(): number {
  const files = spawnSync("git", ["ls-files", "app", "components", "lib", "hooks", "proxy.ts", "instrumentation.ts"], {
    cwd: root,
    encoding: "utf8",
  }).stdout.split("\n");
  let newest = 0;
  for (const f of files) {
    if (!f || f.includes(".test.")) continue;
    const stat = fs.statSync(path.join(root, f), { throwIfNoEntry: false });
    if (stat) newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}

function ensureBuilt(): void {
  const buildId = path.join(root, ".next", "BUILD_ID");
  const builtAt = fs.statSync(buildId, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (builtAt > newestSource()) return;
  log(builtAt ? "the build is older than the code: next build …" : "no build yet: next build …");
  const built = spawnSync(path.join(root, "node_modules", ".bin", "next"), ["build"], {
    cwd: root,
    stdio: ["ignore", process.stderr, process.stderr],
  });
  if (built.status !== 0) throw new Error(`next build exited with ${built.status}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function waitForHealth(baseUrl: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (exited()) throw new Error("the server exited before it answered");
    try {
      if ((await fetch(`${baseUrl}/api/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the server did not answer /api/health within ${timeoutMs / 1000} s`);
}

ensureBuilt();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-load-"));
/** A database of the run's own on the given PostgreSQL server, or none (PGlite in dataDir). */
const database = values.postgres ? { server: values.postgres, name: `bench_load_${Date.now()}` } : null;
if (database) {
  const admin = postgres(database.server, { max: 1 });
  await admin.unsafe(`create database ${database.name}`);
  await admin.end();
}
const databaseUrl = database ? new URL(database.name, database.server).href : null;
const port = await freePort();
const baseUrl = `http://127.0.0.1:${port}`;
log(`server on ${baseUrl}, data in ${dataDir}`);
const server = spawn(
  process.execPath,
  [
    path.join(root, "bin", "continualcode"),
    "--port",
    String(port),
    "--data-dir",
    dataDir,
    "--trust-proxy",
    "--temperature",
    "0",
  ],
  {
    cwd: root,
    stdio: ["ignore", "ignore", fs.openSync(path.join(dataDir, "server.log"), "a")],
    detached: true,
    env: databaseUrl ? { ...process.env, DATABASE_URL: databaseUrl } : process.env,
  },
);
let exited = false;
server.on("exit", () => {
  exited = true;
});

const controller = new AbortController();
try {
  await waitForHealth(baseUrl, Number(values["start-timeout"]) * 1000, () => exited);
  const actionIds = readActionIds(root);
  const loadBefore = loadavg();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  log(`${conversations} conversations for ${seconds} s`);
  const runs = await Promise.all(
    Array.from({ length: conversations }, (_, i) =>
      runPerson({
        client: new BrowserClient(baseUrl, `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}`, actionIds),
        index: i,
        deadline,
        readsViewAfter,
        signal: controller.signal,
      }),
    ),
  );
  const duration = (performance.now() - started) / 1000;
  const all = <K extends "decide_s" | "deny_s" | "approve_s" | "send_s" | "proposalWait_s">(k: K) =>
    runs.flatMap((r) => r[k]);
  const stats = (xs: number[]) => {
    const s = summarise(xs);
    return { n: xs.length, p50: round(s.p50, 3), p95: round(s.p95, 3), max: round(s.max, 3) };
  };
  const errors = runs.flatMap((r) => r.errors);
  console.log(
    JSON.stringify({
      conversations,
      database: database ? "postgresql" : "pglite",
      duration_s: round(duration, 1),
      decide: { ...stats(all("decide_s")), deny: stats(all("deny_s")), approve: stats(all("approve_s")) },
      send: stats(all("send_s")),
      proposalWait: stats(all("proposalWait_s")),
      viewReads: runs.reduce((n, r) => n + r.viewReads, 0),
      errors: { count: errors.length, first: errors.slice(0, 5) },
      loadavg: { before: loadBefore, after: loadavg() },
    }),
  );
} finally {
  controller.abort();
  if (!exited && server.pid) process.kill(-server.pid, "SIGTERM");
  await new Promise((r) => setTimeout(r, 1000));
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (database) {
    const admin = postgres(database.server, { max: 1 });
    await admin.unsafe(`drop database if exists ${database.name}`);
    await admin.end();
  }
}
