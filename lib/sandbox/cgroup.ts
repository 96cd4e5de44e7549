/**
 * One cgroup per bash call, so its limits hold for the whole call rather than per process: memory
 * (every process of the call together) and processes (threads included). Sequence: find where we
 * may make groups (per controller) → make the call's group and write its limits → the caller moves
 * the call's first process in → `limitHit` reports an OOM kill or a refused fork → `cleanup` kills
 * what is left and removes the group.
 *
 * Where: cgroup v1 (a writable `memory` / `pids` hierarchy; the group goes under this process's own
 * group, so it stays inside whatever limits the server itself runs under) or v2 (only when this
 * process sits in the root cgroup: v2 lets a group with processes delegate no controllers, so
 * anywhere else we would have to move the server itself). A controller we cannot use is reported
 * as not enforced, and the caller falls back to per-process limits (ulimit) for it.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { randomUUID } from "node:crypto";

export type CgroupVersion = 1 | 2;

/** A limit the kernel enforced for the call: an OOM kill in the group, or a fork it refused. */
export type CgroupLimitHit = "memory" | "processes";

export type CallCgroupLimits = {
  /** Memory for the whole call, in bytes; null: no memory group. */
  memoryBytes: number | null;
  /** Processes and threads at once. */
  maxProcesses: number;
};

export type CallCgroup = {
  /** Write a pid to each of these to move that process (and its future children) into the group. */
  procsFiles: string[];
  /** Which limits the group enforces, and through which cgroup version; null: not enforced here. */
  enforces: { memory: CgroupVersion | null; processes: CgroupVersion | null };
  /** The limit the kernel has enforced so far, else null; memory is checked first. */
  limitHit(): Promise<CgroupLimitHit | null>;
  /** Kill whatever is left in the group and remove it. */
  cleanup(): Promise<void>;
};

const GROUP_NAME = "continualcode-sandbox";

type Controller = "memory" | "pids";
type Parent = { dir: string; version: CgroupVersion };
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
async function ownCgroupPath(controller: Controller | null): Promise<string | null> {
  const text = await fs.readFile("/proc/self/cgroup", "utf8");
  for (const line of text.split("\n")) {
    const [id, controllers, p] = line.split(":");
    if (p === undefined) continue;
    if (controller === null ? id === "0" && controllers === "" : controllers!.split(",").includes(controller)) return p;
  }
  return null;
}

/** The folder under which the call groups for `controller` go, made once. */
async function parentDir(controller: Controller): Promise<Parent | null> {
  const all = await mounts();
  const v1 = all.find((m) => m.fsType === "cgroup" && m.superOptions.includes(controller));
  if (v1) {
    const own = await ownCgroupPath(controller);
    if (own === null) return null;
    const dir = path.join(v1.mountPoint, own, GROUP_NAME);
    await fs.mkdir(dir, { recursive: true });
    return { dir, version: 1 };
  }
  const v2 = all.find((m) => m.fsType === "cgroup2");
  if (!v2 || (await ownCgroupPath(null)) !== "/") return null;
  const controllers = await fs.readFile(path.join(v2.mountPoint, "cgroup.controllers"), "utf8").catch(() => "");
  if (!controllers.split(/\s+/).includes(controller)) return null;
  await fs.writeFile(path.join(v2.mountPoint, "cgroup.subtree_control"), `+${controller}`);
  const dir = path.join(v2.mountPoint, GROUP_NAME);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, "cgroup.subtree_control"), `+${controller}`);
  return { dir, version: 2 };
}

/** A group this old with no process in it was left by a server that stopped during a call. */
const STALE_GROUP_MS = 60_000;

/** Remove such groups; rmdir refuses any group that still holds a process, so a live call is never touched. */
async function sweepStaleGroups(parent: Parent): Promise<void> {
  const entries = await fs.readdir(parent.dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(parent.dir, entry.name);
    const stat = await fs.stat(dir).catch(() => null);
    if (stat && Date.now() - stat.mtimeMs > STALE_GROUP_MS) await fs.rmdir(dir).catch(() => {});
  }
}

const parents = new Map<Controller, Promise<Parent | null>>();

function parentFor(controller: Controller): Promise<Parent | null> {
  let parent = parents.get(controller);
  if (!parent) {
    parent = parentDir(controller)
      .then(async (found) => {
        if (found) await sweepStaleGroups(found);
        return found;
      })
      .catch(() => null);
    parents.set(controller, parent);
  }
  return parent;
}

/** One group: its folder, the version and, once it exists, how to read whether its limit was hit. */
type Group = { dir: string; version: CgroupVersion };

/** The limit files for `controller`, in the order they must be written (v1 memsw must not be below memory). */
async function limitWrites(
  controller: Controller,
  group: Group,
  limits: CallCgroupLimits,
): Promise<Array<[string, string]>> {
  switch (controller) {
    case "pids":
      return [["pids.max", String(limits.maxProcesses)]];
    case "memory": {
      const bytes = String(limits.memoryBytes);
      if (group.version === 2) {
        // swap.max 0: swap would let the call use more than its limit; oom.group: an OOM kill takes
        // the whole call at once instead of one process the kernel happens to pick.
        const writes: Array<[string, string]> = [
          ["memory.max", bytes],
          ["memory.oom.group", "1"],
        ];
        if (await exists(path.join(group.dir, "memory.swap.max"))) writes.push(["memory.swap.max", "0"]);
        return writes;
      }
      // oom_control 1: at the limit the kernel pauses the process that asked for memory instead of
      // killing one it picks, so the rest of the call never carries on after a partial kill; the
      // watcher sees under_oom and stops the whole call (v1 has no memory.oom.group).
      const writes: Array<[string, string]> = [
        ["memory.limit_in_bytes", bytes],
        ["memory.oom_control", "1"],
      ];
      // memsw (memory + swap) exists only where swap accounting is on; equal to the limit: no swap.
      if (await exists(path.join(group.dir, "memory.memsw.limit_in_bytes")))
        writes.push(["memory.memsw.limit_in_bytes", bytes]);
      return writes;
    }
    default: {
      const never: never = controller;
      throw new Error(`unknown cgroup controller ${String(never)}`);
    }
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function makeGroup(controller: Controller, limits: CallCgroupLimits): Promise<Group | null> {
  const parent = await parentFor(controller);
  if (!parent) return null;
  const group = { dir: path.join(parent.dir, randomUUID()), version: parent.version };
  try {
    await fs.mkdir(group.dir);
    for (const [file, value] of await limitWrites(controller, group, limits))
      await fs.writeFile(path.join(group.dir, file), value);
    return group;
  } catch {
    await fs.rmdir(group.dir).catch(() => {});
    return null;
  }
}

/** A counter from a flat keyed file such as memory.events ("oom_kill 2"); 0 when absent. */
async function counter(file: string, key: string): Promise<number> {
  const text = await fs.readFile(file, "utf8").catch(() => "");
  const line = text.split("\n").find((l) => l.startsWith(`${key} `));
  return line ? Number(line.slice(key.length + 1)) : 0;
}

/** Has the group run out of memory: v2 counts OOM kills; v1 (OOM killer off) reports a paused group. */
async function outOfMemory(group: Group): Promise<boolean> {
  if (group.version === 2) return (await counter(path.join(group.dir, "memory.events"), "oom_kill")) > 0;
  const control = path.join(group.dir, "memory.oom_control");
  return (await counter(control, "under_oom")) > 0 || (await counter(control, "oom_kill")) > 0;
}

/** Forks refused at pids.max (the same file and key in v1 and v2). */
function refusedForks(group: Group): Promise<number> {
  return counter(path.join(group.dir, "pids.events"), "max");
}

/**
 * The call's groups: a memory group when `limits.memoryBytes` is set and memory can be limited
 * here, a pids group when pids can. Null when neither can be made (the caller then relies on
 * ulimit alone). In v2 one group carries both controllers.
 */
export async function createCallCgroup(limits: CallCgroupLimits): Promise<CallCgroup | null> {
  const wanted: Controller[] = limits.memoryBytes === null ? ["pids"] : ["memory", "pids"];
  const groups = new Map<Controller, Group>();
  for (const controller of wanted) {
    const shared = [...groups.values()].find((g) => g.version === 2);
    const parent = await parentFor(controller);
    if (shared && parent?.version === 2) {
      // v2: the controller is already enabled for the shared parent; write this one's limits into the same group.
      try {
        for (const [file, value] of await limitWrites(controller, shared, limits))
          await fs.writeFile(path.join(shared.dir, file), value);
        groups.set(controller, shared);
      } catch {
        // this controller stays unenforced
      }
      continue;
    }
    const group = await makeGroup(controller, limits);
    if (group) groups.set(controller, group);
  }
  if (groups.size === 0) return null;
  const memory = groups.get("memory");
  const pids = groups.get("pids");
  const distinct = [...new Set(groups.values())];
  return {
    procsFiles: distinct.map((g) => path.join(g.dir, "cgroup.procs")),
    enforces: { memory: memory?.version ?? null, processes: pids?.version ?? null },
    async limitHit() {
      if (memory && (await outOfMemory(memory))) return "memory";
      if (pids && (await refusedForks(pids)) > 0) return "processes";
      return null;
    },
    async cleanup() {
      for (const group of distinct) await removeGroup(group.dir);
    },
  };
}

/** Kill and remove; up to ~5 s, as a fork bomb's last children may still be starting when the first are killed. */
async function removeGroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 250; attempt++) {
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
