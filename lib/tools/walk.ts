/**
 * Lists the files under a workspace folder for glob and grep: dotfiles included, `.git` skipped,
 * .gitignore files (the root's, those on the way down to the start folder, and nested ones)
 * honoured, symlinks listed but never followed, and the walk bounded so a huge tree cannot stall
 * the server.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { isIgnored, parseGitignore, type IgnoreLevel } from "./gitignore";

export const MAX_WALK_ENTRIES = 50_000;

export type WalkedFile = { rel: string; abs: string; symlink: boolean };
export type WalkResult = { files: WalkedFile[]; truncated: boolean };

async function loadLevel(root: string, relDir: string): Promise<IgnoreLevel | null> {
  const text = await fs.readFile(path.join(root, relDir, ".gitignore"), "utf8").catch(() => null);
  return text === null ? null : { base: relDir, rules: parseGitignore(text) };
}

/** The .gitignore levels that apply at `startRel`: the root's and every folder's on the way down. */
async function levelsAbove(root: string, startRel: string): Promise<IgnoreLevel[]> {
  const levels: IgnoreLevel[] = [];
  const parts = startRel === "" ? [] : startRel.split("/");
  for (let i = 0; i < parts.length; i++) {
    const level = await loadLevel(root, parts.slice(0, i).join("/"));
    if (level) levels.push(level);
  }
  return levels;
}

/** Files below `startRel` (workspace-relative, "" = root) of the workspace whose real root is `root`. */
export async function walkFiles(root: string, startRel: string): Promise<WalkResult> {
  const files: WalkedFile[] = [];
  let visited = 0;
  const walk = async (relDir: string, levels: IgnoreLevel[]): Promise<boolean> => {
    const own = await loadLevel(root, relDir);
    const here = own ? [...levels, own] : levels;
    let entries;
    try {
      entries = await fs.readdir(path.join(root, relDir), { withFileTypes: true });
    } catch {
      return true;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (++visited > MAX_WALK_ENTRIES) return false;
      if (entry.name === ".git") continue;
      const rel = relDir === "" ? entry.name : `${relDir}/${entry.name}`;
      const isDir = entry.isDirectory();
      if (isIgnored(here, rel, isDir)) continue;
      if (isDir) {
        if (!(await walk(rel, here))) return false;
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        files.push({ rel, abs: path.join(root, rel), symlink: entry.isSymbolicLink() });
      }
    }
    return true;
  };
  const complete = await walk(startRel, await levelsAbove(root, startRel));
  return { files, truncated: !complete };
}
