/**
 * Where a workspace's protected subpaths (.git) really lie, for the bubblewrap binds and the file
 * tools' write rules: a `.git` symlinked to another folder of the workspace protects that folder.
 * The file tools' own path resolution, which a concurrent rename cannot redirect, is
 * lib/workspaces/safe-fs.ts.
 */
import fs from "node:fs/promises";
import type { Stats } from "node:fs";
import path from "node:path";
import { isInside } from "@/lib/workspaces/safe-fs";
import type { SandboxPolicy } from "./policy";

export { isInside };

const MAX_SYMLINK_HOPS = 40;

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/**
 * The real location of an absolute path: symlinks are followed as the kernel would (dangling
 * ones included); from the first component that does not exist, the rest is joined lexically.
 */
export async function realpathLongestPrefix(abs: string): Promise<string> {
  const parts = abs.split("/").filter((p) => p !== "");
  let current = "/";
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === ".") continue;
    if (part === "..") {
      current = path.dirname(current);
      continue;
    }
    // A workspace path, known only at run time: the hint keeps the bundler from tracing it.
    const next = path.join(/*turbopackIgnore: true*/ current, part);
    let stat: Stats;
    try {
      stat = await fs.lstat(next);
    } catch (error) {
      const code = errnoCode(error);
      if (code === "ENOENT" || code === "ENOTDIR") return path.resolve(next, ...parts);
      throw error;
    }
    if (stat.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) throw new Error(`too many symbolic links in ${abs}`);
      const target = await fs.readlink(next);
      if (target.startsWith("/")) current = "/";
      parts.unshift(...target.split("/").filter((p) => p !== ""));
      continue;
    }
    current = next;
  }
  return current;
}

/** Real paths (relative to the real root) that the policy's protected subpaths resolve to. */
export function protectedRealSubpaths(policy: SandboxPolicy, realRoot: string): Promise<string[]> {
  return realSubpaths(realRoot, policy.readOnlySubpaths);
}

/** Real paths (relative to `realRoot`, inside it) that the existing ones of `subpaths` resolve to. */
export async function realSubpaths(realRoot: string, subpaths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const sub of subpaths) {
    const abs = path.join(realRoot, sub);
    try {
      await fs.lstat(abs);
    } catch {
      continue;
    }
    const real = await realpathLongestPrefix(abs);
    if (real !== realRoot && isInside(realRoot, real)) out.push(path.relative(realRoot, real));
  }
  return out;
}
