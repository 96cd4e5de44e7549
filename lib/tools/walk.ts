/**
 * Visits the files under a workspace folder for glob and grep: dotfiles included, `.git` skipped,
 * .gitignore files (the root's, those on the way down to the start folder, and nested ones)
 * honoured, symlinks listed but never followed, and the walk bounded so a huge tree cannot stall
 * the server. Each folder is opened from the one above it without following links
 * (lib/workspaces/safe-fs.ts), so a folder swapped for a symlink mid-walk is skipped, never
 * entered. Relative imports only: the grep worker loads this file on its own.
 */
import type { FileHandle } from "node:fs/promises";
import { listDir, openSubdir, readFileIn, type Root } from "../workspaces/safe-fs";
import { isIgnored, parseGitignore, type IgnoreLevel } from "./gitignore";

export const MAX_WALK_ENTRIES = 50_000;
/** A .gitignore larger than this is not read (no real one comes close). */
const MAX_GITIGNORE_BYTES = 1024 * 1024;

/** A file (or symlink) found by the walk; `dir` (held open while the visitor runs) is the folder it is in. */
export type WalkedFile = { rel: string; name: string; symlink: boolean };
export type FileVisitor = (file: WalkedFile, dir: FileHandle) => Promise<void>;

/**
 * The rules of the .gitignore in `dir`, if it is a regular file. A symlinked .gitignore is not
 * followed, as git (since 2.32) does not follow one inside the tree either.
 */
async function loadLevel(dir: FileHandle, relDir: string): Promise<IgnoreLevel | null> {
  const file = await readFileIn(dir, ".gitignore", MAX_GITIGNORE_BYTES);
  return file.ok ? { base: relDir, rules: parseGitignore(file.bytes.toString("utf8")) } : null;
}

/** Visits the files below `startRel` (a real workspace-relative folder, "" = root); says whether it stopped early. */
export async function walkFiles(root: Root, startRel: string, visit: FileVisitor): Promise<{ truncated: boolean }> {
  let visited = 0;
  const walk = async (dir: FileHandle, relDir: string, levels: IgnoreLevel[]): Promise<boolean> => {
    const own = await loadLevel(dir, relDir);
    const here = own ? [...levels, own] : levels;
    const entries = await listDir(dir).catch(() => null);
    if (!entries) return true;
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (++visited > MAX_WALK_ENTRIES) return false;
      if (entry.name === ".git") continue;
      const rel = relDir === "" ? entry.name : `${relDir}/${entry.name}`;
      const isDir = entry.isDirectory();
      if (isIgnored(here, rel, isDir)) continue;
      if (isDir) {
        const sub = await openSubdir(dir, entry.name);
        if (!sub) continue;
        try {
          if (!(await walk(sub, rel, here))) return false;
        } finally {
          await sub.close();
        }
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        await visit({ rel, name: entry.name, symlink: entry.isSymbolicLink() }, dir);
      }
    }
    return true;
  };
  // Down to the start folder, gathering the .gitignore levels that apply there.
  const levels: IgnoreLevel[] = [];
  const held: FileHandle[] = [];
  try {
    let dir = root.handle;
    const parts = startRel === "" ? [] : startRel.split("/");
    for (let i = 0; i < parts.length; i++) {
      const level = await loadLevel(dir, parts.slice(0, i).join("/"));
      if (level) levels.push(level);
      const sub = await openSubdir(dir, parts[i]!);
      if (!sub) return { truncated: false };
      held.push(sub);
      dir = sub;
    }
    return { truncated: !(await walk(dir, startRel, levels)) };
  } finally {
    for (const handle of held) await handle.close();
  }
}
