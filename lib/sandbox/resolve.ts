/**
 * Where a path named by a tool call really lies, and whether a file tool may touch it. Every
 * path goes through `resolveToolPath`: symlinks are followed component by component (dangling
 * ones too, so a write cannot create a file through a link that points out), the result must lie
 * inside the workspace's real root, /proc is refused outright, protected subpaths (.git) are
 * read-only, and multiply-linked files are refused unless every link is provably inside.
 *
 * Hard links: a regular file with st_nlink > 1 shares its bytes with other names we cannot see
 * from the inode. Writes to such a file are always refused (they would change the other names
 * too). Reads are allowed only when a bounded walk of the workspace finds all of its links.
 */
import fs from "node:fs/promises";
import type { Stats } from "node:fs";
import path from "node:path";
import { canWrite, type SandboxPolicy } from "./policy";

export type Intent = "read" | "write" | "list";

export type ResolvedPath =
  | { ok: true; root: string; real: string; rel: string; stat: Stats | null }
  | { ok: false; error: string };

/** Entries a hard-link proof may visit before giving up (and refusing the read). */
const LINK_PROOF_MAX_ENTRIES = 20_000;
const MAX_SYMLINK_HOPS = 40;

/** True when `child` is `root` itself or lies below it (both absolute and normalised). */
export function isInside(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function isProcPath(p: string): boolean {
  return p === "/proc" || p.startsWith("/proc/");
}

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
    const next = path.join(current, part);
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
export async function protectedRealSubpaths(policy: SandboxPolicy, realRoot: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of policy.readOnlySubpaths) {
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

/** Does a walk of the workspace find all `nlink` names of this inode? */
async function allLinksInside(realRoot: string, stat: Stats): Promise<boolean> {
  let found = 0;
  let visited = 0;
  const stack = [realRoot];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (++visited > LINK_PROOF_MAX_ENTRIES) return false;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (entry.isFile()) {
        const s = await fs.lstat(full).catch(() => null);
        if (s && s.dev === stat.dev && s.ino === stat.ino && ++found >= stat.nlink) return true;
      }
    }
  }
  return false;
}

/** Accepts workspace-relative paths, `/workspace/...` (the sandbox's view) and the host's own path. */
function toRelative(policy: SandboxPolicy, workspace: string, realRoot: string, input: string): string | null {
  if (!path.isAbsolute(input)) return input;
  for (const base of [policy.sandboxWorkspace, path.resolve(workspace), realRoot]) {
    if (isInside(base, input)) return path.relative(base, input) || ".";
  }
  return null;
}

/**
 * Resolve `input` for a file tool. `intent` decides the extra checks: writes must pass
 * `canWrite` and may not target a multiply-linked file; reads of one need a proof.
 */
export async function resolveToolPath(
  policy: SandboxPolicy,
  workspace: string,
  input: string,
  intent: Intent,
): Promise<ResolvedPath> {
  if (input.includes("\0")) return { ok: false, error: "path contains a NUL byte" };
  const shown = input === "" ? "." : input;
  let realRoot: string;
  try {
    realRoot = await fs.realpath(workspace);
  } catch {
    return { ok: false, error: `workspace ${workspace} does not exist` };
  }
  if (isProcPath(path.resolve("/", input)) && path.isAbsolute(input)) {
    return { ok: false, error: `${shown}: paths under /proc are not allowed` };
  }
  const relInput = toRelative(policy, workspace, realRoot, shown);
  if (relInput === null) {
    return { ok: false, error: `${shown} is outside the workspace (use a path relative to the workspace root)` };
  }
  // 1. Lexical: `..` may not climb out, even through a folder that does not exist yet.
  const lexical = path.resolve(realRoot, relInput);
  if (!isInside(realRoot, lexical)) return { ok: false, error: `${shown} leaves the workspace` };
  // 2. Real: every symlink followed.
  let real: string;
  try {
    real = await realpathLongestPrefix(lexical);
  } catch (error) {
    return { ok: false, error: `${shown}: ${(error as Error).message}` };
  }
  if (isProcPath(real)) return { ok: false, error: `${shown} resolves into /proc, which is not allowed` };
  if (!isInside(realRoot, real)) {
    return { ok: false, error: `${shown} resolves outside the workspace (through a symbolic link)` };
  }
  const rel = path.relative(realRoot, real);
  const stat = await fs.stat(real).catch(() => null);
  // 3. Intent-specific checks.
  if (intent === "write") {
    const lexicalRel = path.relative(realRoot, lexical);
    const extra = await protectedRealSubpaths(policy, realRoot);
    for (const candidate of [lexicalRel, rel]) {
      const decision = canWrite(policy, candidate, extra);
      if (!decision.ok) return { ok: false, error: `cannot write ${shown}: ${decision.reason}` };
    }
    if (stat?.isFile() && stat.nlink > 1) {
      return { ok: false, error: `cannot write ${shown}: it has ${stat.nlink} hard links, which may lie outside the workspace` };
    }
  }
  if (intent === "read" && stat?.isFile() && stat.nlink > 1 && !(await allLinksInside(realRoot, stat))) {
    return { ok: false, error: `cannot read ${shown}: it has ${stat.nlink} hard links and not all of them are inside the workspace` };
  }
  return { ok: true, root: realRoot, real, rel, stat };
}
