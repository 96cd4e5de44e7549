/**
 * How a file tool turns the path the model wrote into a workspace-relative one, and which writes
 * the policy refuses. Accepted: relative paths, `/workspace/...` (the sandbox's view) and the
 * workspace's own host path; refused: NUL bytes, /proc, any other absolute path and `..` that
 * climbs out. Everything after this (symlinks, the disk) is lib/workspaces/safe-fs.ts's walk.
 */
import path from "node:path";
import { canWrite, DEFAULT_POLICY, type SandboxPolicy } from "@/lib/sandbox/policy";
import { protectedRealSubpaths } from "@/lib/sandbox/resolve";
import { isInside, normalizeBeneath, withRoot, type Root } from "@/lib/workspaces/safe-fs";
import type { ToolContext } from "./types";

export function policyOf(ctx: ToolContext): SandboxPolicy {
  return ctx.sandbox.policy ?? DEFAULT_POLICY;
}

/** Runs `use` with the tool's workspace root open; absolute links to the sandbox's mount point count as inside. */
export function withToolRoot<T>(ctx: ToolContext, use: (root: Root, policy: SandboxPolicy) => Promise<T>): Promise<T> {
  const policy = policyOf(ctx);
  return withRoot(ctx.workspace, [policy.sandboxWorkspace], (root) => use(root, policy));
}

export type ToolPath = { ok: true; rel: string } | { ok: false; error: string };

const isProcPath = (p: string) => p === "/proc" || p.startsWith("/proc/");

/** `input` as a normalised workspace-relative path ("" is the root), or why it is refused. */
export function toolRelativePath(policy: SandboxPolicy, root: Root, workspace: string, input: string): ToolPath {
  const shown = input === "" ? "." : input;
  if (input.includes("\0")) return { ok: false, error: "path contains a NUL byte" };
  let relative = shown;
  if (path.isAbsolute(shown)) {
    if (isProcPath(path.posix.normalize(shown)))
      return { ok: false, error: `${shown}: paths under /proc are not allowed` };
    const base = [policy.sandboxWorkspace, path.resolve(workspace), root.real].find((b) =>
      isInside(b, path.posix.normalize(shown)),
    );
    if (base === undefined)
      return { ok: false, error: `${shown} is outside the workspace (use a path relative to the workspace root)` };
    relative = path.posix.relative(base, path.posix.normalize(shown));
  }
  const rel = normalizeBeneath(relative);
  return rel === null ? { ok: false, error: `${shown} leaves the workspace` } : { ok: true, rel };
}

export type WriteRules = {
  /** Why the policy refuses writing any of `rels` (the path as typed, where it really lies), or null. */
  refusal(rels: string[]): string | null;
  /** May a missing folder at real relative path `rel` be made for a write? Not where a write would be refused. */
  mayCreateDir(rel: string): boolean;
};

export async function writeRules(policy: SandboxPolicy, root: Root): Promise<WriteRules> {
  const extra = await protectedRealSubpaths(policy, root.real);
  const refusal = (rels: string[]) => {
    for (const rel of rels) {
      const decision = canWrite(policy, rel, extra);
      if (!decision.ok) return decision.reason;
    }
    return null;
  };
  return { refusal, mayCreateDir: (rel) => refusal([rel]) === null };
}
