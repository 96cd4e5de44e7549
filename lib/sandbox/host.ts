/**
 * Facts about the host that the bubblewrap argv depends on: where bwrap is, which system
 * directories exist (and which are merged-/usr symlinks), which /etc entries exist, and what the
 * read-only subpaths of the policy's writable roots resolve to. Gathered here so `bwrapArgs` can stay pure.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { type HostFacts, type SandboxPolicy, writableRoots } from "./policy";
import { realSubpaths } from "./resolve";

export const INSTALL_BWRAP = "apt-get install -y bubblewrap";

/**
 * The bwrap binary: CONTINUALCODE_BWRAP when set (an administrator's choice of binary; a path
 * that does not exist means "not installed"), else the first on PATH or in the usual places.
 */
export async function findBwrap(): Promise<string | null> {
  const chosen = process.env.CONTINUALCODE_BWRAP;
  const candidates = chosen
    ? [chosen]
    : [...(process.env.PATH ?? "").split(":"), "/usr/bin", "/usr/local/bin", "/bin"]
        .filter(Boolean)
        .map((dir) => path.join(dir, "bwrap"));
  for (const candidate of candidates) {
    try {
      await fs.access(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}

export async function probeHost(policy: SandboxPolicy, realRoot: string): Promise<HostFacts> {
  const systemEntries: HostFacts["systemEntries"] = [];
  for (const p of policy.systemPaths) {
    const stat = await fs.lstat(p).catch(() => null);
    if (!stat) continue;
    if (stat.isSymbolicLink()) systemEntries.push({ path: p, symlinkTarget: await fs.readlink(p) });
    else if (stat.isDirectory()) systemEntries.push({ path: p });
  }
  const etcEntries: string[] = [];
  for (const p of policy.etcFiles) {
    if (
      await fs.lstat(p).then(
        () => true,
        () => false,
      )
    )
      etcEntries.push(p);
  }
  const readOnlyRealSubpaths: HostFacts["readOnlyRealSubpaths"] = {};
  for (const { root, readOnlySubpaths } of writableRoots(policy, realRoot)) {
    readOnlyRealSubpaths[root] = await realSubpaths(root, readOnlySubpaths);
  }
  return { systemEntries, etcEntries, readOnlyRealSubpaths };
}
