/**
 * Resolving a path a user typed into a file inside a workspace, and refusing everything else.
 * The check runs on real paths (symlinks followed), so `..`, absolute paths and links that
 * point out of the workspace all end up outside its real root and are refused the same way.
 */
import fs from "node:fs/promises";
import path from "node:path";

export type ResolvedPath =
  | { status: "ok"; realPath: string; relativePath: string }
  | { status: "outside"; error: string }
  | { status: "not_found"; error: string };

/** True when `child` is `root` itself or lies below it (both already absolute and normalised). */
export function isInside(root: string, child: string): boolean {
  const rel = path.relative(root, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * Resolve `relativePath` (as shown in the file tree, "/"-separated) inside `workspaceRoot`.
 * Absolute paths and any path whose real location is not under the workspace's real root are
 * refused; a missing file is `not_found`.
 */
export async function resolveInWorkspace(workspaceRoot: string, relativePath: string): Promise<ResolvedPath> {
  if (relativePath.includes("\0")) return { status: "outside", error: "Path contains a NUL byte." };
  if (path.isAbsolute(relativePath) || path.win32.isAbsolute(relativePath)) {
    return { status: "outside", error: `Absolute paths are not allowed: ${relativePath}` };
  }
  const root = await fs.realpath(workspaceRoot);
  const lexical = path.resolve(root, relativePath);
  // Refuse `..` escapes before touching the file system, so a missing outside file is not a 404.
  if (!isInside(root, lexical)) {
    return { status: "outside", error: `Path leaves the workspace: ${relativePath}` };
  }
  let realPath: string;
  try {
    realPath = await fs.realpath(lexical);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      // A dangling symlink also lands here; it reads as missing, which reveals nothing outside.
      return { status: "not_found", error: `No such file: ${relativePath}` };
    }
    throw error;
  }
  if (!isInside(root, realPath)) {
    return { status: "outside", error: `Path resolves outside the workspace (symlink): ${relativePath}` };
  }
  return { status: "ok", realPath, relativePath: path.relative(root, realPath).split(path.sep).join("/") };
}
