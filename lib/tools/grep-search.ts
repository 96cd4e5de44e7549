/**
 * The search behind the grep tool, run inside a worker thread so that a pattern that backtracks
 * catastrophically (`(a+)+$`) can be stopped without stalling the server. Relative imports only:
 * the worker loads this file on its own.
 */
import fs from "node:fs/promises";
import { isBinary, MAX_TEXT_BYTES, splitLines, stripEol } from "./limits";
import { walkFiles, type WalkedFile } from "./walk";

export const MAX_GREP_HITS = 50;
const MAX_HIT_CHARS = 300;

export type GrepRequest = { pat: string; root: string; rel: string; real: string; isDir: boolean };
export type GrepReport = { hits: string[]; total: number; skippedLinked: number; truncated: boolean };

export async function searchFiles(req: GrepRequest): Promise<GrepReport> {
  const regex = new RegExp(req.pat);
  const walked: { files: WalkedFile[]; truncated: boolean } = req.isDir
    ? await walkFiles(req.root, req.rel)
    : { files: [{ rel: req.rel, abs: req.real, symlink: false }], truncated: false };
  const hits: string[] = [];
  let total = 0;
  let skippedLinked = 0;
  for (const file of walked.files) {
    if (file.symlink) continue;
    const s = await fs.lstat(file.abs).catch(() => null);
    if (!s?.isFile() || s.size > MAX_TEXT_BYTES) continue;
    // Other names of a multiply-linked file may lie outside the workspace.
    if (s.nlink > 1) {
      skippedLinked++;
      continue;
    }
    const bytes = await fs.readFile(file.abs).catch(() => null);
    if (!bytes || isBinary(bytes)) continue;
    splitLines(bytes.toString("utf8")).forEach((line, i) => {
      const text = stripEol(line);
      if (!regex.test(text)) return;
      total++;
      if (hits.length < MAX_GREP_HITS) hits.push(`${file.rel}:${i + 1}:${text.length > MAX_HIT_CHARS ? `${text.slice(0, MAX_HIT_CHARS)}…` : text}`);
    });
  }
  return { hits, total, skippedLinked, truncated: walked.truncated };
}
