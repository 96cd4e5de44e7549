/**
 * The file tree of a workspace as a flat, sorted list of entries (directories before files at
 * each level), for the explorer. Dependency and VCS folders are skipped, symlinks are listed but
 * never followed, and the walk stops at a cap so a huge directory cannot stall a page. Each folder
 * is opened from its parent's descriptor (safe-fs.ts), so nothing outside the workspace is listed
 * even while its folders are being swapped for symlinks.
 */
import type { FileHandle } from "node:fs/promises";
import { listDir, openSubdir, withRoot } from "./safe-fs";

export type TreeEntry = {
  /** "/"-separated path relative to the workspace root. */
  path: string;
  name: string;
  type: "file" | "dir" | "symlink";
  depth: number;
};

export type Tree = { entries: TreeEntry[]; truncated: boolean };

/** Folders never shown: version control internals and installed dependencies. */
export const SKIPPED_DIRS = new Set([".git", "node_modules", "__pycache__", ".venv"]);
/** Enough for any project a person browses by hand; larger trees show a "truncated" notice. */
export const DEFAULT_MAX_ENTRIES = 2000;

export async function listTree(workspace: string, options: { maxEntries?: number } = {}): Promise<Tree> {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const entries: TreeEntry[] = [];
  let truncated = false;

  async function walk(dir: FileHandle, relDir: string, depth: number): Promise<void> {
    const dirents = await listDir(dir).catch(() => null);
    if (!dirents) return; // unreadable folder: show it, but not its contents
    dirents.sort((a, b) => {
      const ad = a.isDirectory() ? 0 : 1;
      const bd = b.isDirectory() ? 0 : 1;
      return ad - bd || a.name.localeCompare(b.name);
    });
    for (const d of dirents) {
      if (entries.length >= maxEntries) {
        truncated = true;
        return;
      }
      if (d.isDirectory() && SKIPPED_DIRS.has(d.name)) continue;
      const rel = relDir ? `${relDir}/${d.name}` : d.name;
      const type = d.isSymbolicLink() ? "symlink" : d.isDirectory() ? "dir" : "file";
      entries.push({ path: rel, name: d.name, type, depth });
      if (type === "dir") {
        // Opened from the folder we hold, never through a link: a folder swapped for a symlink
        // after it was listed is shown but not entered.
        const sub = await openSubdir(dir, d.name);
        if (sub) {
          try {
            await walk(sub, rel, depth + 1);
          } finally {
            await sub.close();
          }
        }
      }
      if (truncated) return;
    }
  }

  try {
    await withRoot(workspace, [], (root) => walk(root.handle, "", 0));
  } catch (error) {
    // A workspace whose folder is gone or unreadable shows an empty tree, not an error page.
    if (!["ENOENT", "ENOTDIR", "EACCES"].includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
  }
  return { entries, truncated };
}
