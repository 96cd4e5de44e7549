/**
 * What a path the viewer was asked for may be: relative, without NUL bytes, and never climbing
 * out with `..`. This is checked before the disk is touched (so a missing outside file is not a
 * 404); symlinks are then resolved safely by the walk in safe-fs.ts.
 */
import path from "node:path";
import { isInside, normalizeBeneath } from "./safe-fs";

export { isInside };

export type RelativePath = { status: "ok"; rel: string } | { status: "outside"; error: string };

/** `relativePath` (as shown in the file tree, "/"-separated) normalised inside the workspace, or refused. */
export function relativeInWorkspace(relativePath: string): RelativePath {
  if (relativePath.includes("\0")) return { status: "outside", error: "Path contains a NUL byte." };
  if (path.isAbsolute(relativePath) || path.win32.isAbsolute(relativePath)) {
    return { status: "outside", error: `Absolute paths are not allowed: ${relativePath}` };
  }
  const rel = normalizeBeneath(relativePath);
  return rel === null
    ? { status: "outside", error: `Path leaves the workspace: ${relativePath}` }
    : { status: "ok", rel };
}
