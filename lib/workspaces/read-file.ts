/**
 * Reading one workspace file for the viewer: text comes back as a string, while binary files,
 * large files, folders and anything outside the workspace come back as a described refusal, so
 * the viewer never dumps megabytes or bytes of another user's disk into the page. The file is
 * reached through safe-fs.ts's walk and read from the descriptor that was checked, so a folder
 * swapped for a symlink while the request runs cannot send it outside; like the file tools, it
 * refuses a multiply-linked file unless every link is inside the workspace.
 */
import { DEFAULT_POLICY } from "@/lib/sandbox/policy";
import { relativeInWorkspace } from "./paths";
import { allLinksInside, openBeneath, readOpened, withRoot } from "./safe-fs";

/** Monaco stays responsive far beyond this, but a viewer has no use for larger files. */
export const MAX_VIEW_BYTES = 1024 * 1024;
/** How much of a file is inspected to tell text from binary (as git does with its first 8000 bytes). */
const SNIFF_BYTES = 8000;

export type FileView =
  | { kind: "text"; path: string; size: number; content: string }
  | { kind: "binary"; path: string; size: number }
  | { kind: "too_large"; path: string; size: number; limit: number }
  | { kind: "directory"; path: string }
  | { kind: "not_found"; path: string; error: string }
  | { kind: "outside"; path: string; error: string };

/** A NUL byte, or a sequence that is not valid UTF-8, marks a file as binary. */
export function looksBinary(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return false;
  } catch {
    // A multi-byte character cut at the sniff boundary is not a reason to call a file binary.
    if (bytes.length < SNIFF_BYTES) return true;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, bytes.length - 4), { stream: true });
      return false;
    } catch {
      return true;
    }
  }
}

export async function readWorkspaceFile(workspaceRoot: string, relativePath: string): Promise<FileView> {
  const where = relativeInWorkspace(relativePath);
  if (where.status === "outside") return { kind: "outside", path: relativePath, error: where.error };
  return withRoot(workspaceRoot, [DEFAULT_POLICY.sandboxWorkspace], async (root): Promise<FileView> => {
    const opened = await openBeneath(root, where.rel);
    if (!opened.ok) {
      switch (opened.reason) {
        case "not_found":
        case "not_a_directory":
          // A dangling symlink also lands here; it reads as missing, which reveals nothing outside.
          return { kind: "not_found", path: relativePath, error: `No such file: ${relativePath}` };
        case "not_a_file":
          return { kind: "outside", path: relativePath, error: `Not a regular file: ${relativePath}` };
        case "outside":
        case "too_many_links":
          return { kind: "outside", path: relativePath, error: `Path ${opened.error}: ${relativePath}` };
      }
    }
    try {
      const { stat } = opened;
      if (stat.isDirectory()) return { kind: "directory", path: relativePath };
      if (!stat.isFile()) return { kind: "outside", path: relativePath, error: `Not a regular file: ${relativePath}` };
      if (stat.size > MAX_VIEW_BYTES)
        return { kind: "too_large", path: relativePath, size: stat.size, limit: MAX_VIEW_BYTES };
      if (stat.nlink > 1 && !(await allLinksInside(root, stat))) {
        return {
          kind: "outside",
          path: relativePath,
          error: `${relativePath} has ${stat.nlink} hard links and not all of them are inside the workspace`,
        };
      }
      const bytes = await readOpened(opened.handle, stat.size);
      if (looksBinary(bytes.subarray(0, SNIFF_BYTES))) return { kind: "binary", path: relativePath, size: stat.size };
      return { kind: "text", path: relativePath, size: stat.size, content: bytes.toString("utf8") };
    } finally {
      await opened.handle.close();
    }
  });
}
