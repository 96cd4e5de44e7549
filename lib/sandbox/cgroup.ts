/**
 * A pids cgroup per command, when the host lets us make one. The kernel never applies
 * RLIMIT_NPROC (`ulimit -u`) to real uid 0, so when the server runs as root a fork bomb is only
 * bounded by a cgroup's pids.max. Supports cgroup v1 (a writable `pids` hierarchy) and v2 (when
 * this process sits in the root cgroup, so controllers can be delegated). Anything else: null,
 * and the caller relies on `ulimit -u` (effective for non-root servers) and the timeout.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { randomUUID } from "node:crypto";

export type PidsCgroup = {
  /** Write a pid here to move that process (and its future children) into the group. */
  procsFile: string;
  /** Kill whatever is left in the group and remove it. */
  cleanup(): Promise<void>;
};

const GROUP_NAME = "continualcode-sandbox";

type Mount = { mountPoint: string; fsType: string; superOptions: string[] };

async function mounts(): Promise<Mount[]> {
  const text = await fs.readFile("/proc/self/mountinfo", "utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [left, right = ""] = line.split(" - ");
      const [fsType = "", , superOpts = ""] = right.split(" ");
      return { mountPoint: left!.split(" ")[4]!, fsType, superOptions: superOpts.split(",") };
    });
}

/** This process's cgroup path in the v1 hierarchy with `controller`, or in v2 ("0::"). */
async function ownCgroupPath(controller: string | null): Promise<string | null> {
  const text = await fs.readFile("/proc/self/cgroup", "utf8");
  for (const line of text.split("\n")) {
    const [id, controllers, p] = line.split(":");
    if (p === undefined) continue;
    if (controller === null ? id === "0" && controllers === "" : controllers!.split(",").includes(controller)) return p;
  }
  return null;
}

async function parentDir(): Promise<{ dir: string; version: 1 | 2 } | null> {
  const all = await mounts();
  const v1 = all.find((m) => m.fsType === "cgroup" && m.superOptions.includes("pids"));
  if (v1) {
    const own = await ownCgroupPath("pids");
    if (own === null) return null;
    return { dir: path.join(v1.mountPoint, own, GROUP_NAME), version: 1 };
  }
  const v2 = all.find((m) => m.fsType === "cgroup2");
  if (!v2 || (await ownCgroupPath(null)) !== "/") return null;
  const controllers = await fs.readFile(path.join(v2.mountPoint, "cgroup.controllers"), "utf8").catch(() => "");
  if (!controllers.split(/\s+/).includes("pids")) return null;
  await fs.writeFile(path.join(v2.mountPoint, "cgroup.subtree_control"), "+pids");
  const dir = path.join(v2.mountPoint, GROUP_NAME);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, "cgroup.subtree_control"), "+pids");
  return { dir, version: 2 };
}

let parentCache: Promise<{ dir: string; version: 1 | 2 } | null> | undefined;

export async function createPidsCgroup(maxPids: number): Promise<PidsCgroup | null> {
  parentCache ??= parentDir().catch(() => null);
  const parent = await parentCache;
  if (!parent) return null;
  const dir = path.join(parent.dir, randomUUID());
  try {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, "pids.max"), String(maxPids));
  } catch {
    await fs.rmdir(dir).catch(() => {});
    return null;
  }
  return { procsFile: path.join(dir, "cgroup.procs"), cleanup: () => removeGroup(dir) };
}

async function removeGroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pids = (await fs.readFile(path.join(dir, "cgroup.procs"), "utf8").catch(() => ""))
      .split("\n")
      .filter(Boolean)
      .map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    try {
      await fs.rmdir(dir);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
