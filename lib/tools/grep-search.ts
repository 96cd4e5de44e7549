/**
 * The search behind the grep tool, run inside a worker thread so that a pattern that backtracks
 * catastrophically (`(a+)+$`) can be stopped without stalling the server. Files are read through
 * the folder descriptor the walk holds, never by path and never through a symlink. Relative
 * imports only: the worker loads this file on its own.
 */
import { openBeneath, readFileIn, readOpened, withRoot, type FileIn } from "../workspaces/safe-fs";
import { isBinary, MAX_TEXT_BYTES, splitLines, stripEol } from "./limits";
import { walkFiles } from "./walk";

export const MAX_GREP_HITS = 50;
const MAX_HIT_CHARS = 300;

/** `rel` is the search base's real workspace-relative path; `aliases` name the root in absolute links. */
export type GrepRequest = { pat: string; workspace: string; aliases: string[]; rel: string; isDir: boolean };
export type GrepReport = { hits: string[]; total: number; skippedLinked: number; truncated: boolean };

export function searchFiles(req: GrepRequest): Promise<GrepReport> {
  const regex = new RegExp(req.pat);
  const hits: string[] = [];
  let total = 0;
  let skippedLinked = 0;
  const search = (rel: string, file: FileIn) => {
    if (!file.ok) return;
    // Other names of a multiply-linked file may lie outside the workspace.
    if (file.stat.nlink > 1) {
      skippedLinked++;
      return;
    }
    if (isBinary(file.bytes)) return;
    splitLines(file.bytes.toString("utf8")).forEach((line, i) => {
      const text = stripEol(line);
      if (!regex.test(text)) return;
      total++;
      if (hits.length < MAX_GREP_HITS)
        hits.push(`${rel}:${i + 1}:${text.length > MAX_HIT_CHARS ? `${text.slice(0, MAX_HIT_CHARS)}…` : text}`);
    });
  };
  return withRoot(req.workspace, req.aliases, async (root) => {
    let truncated = false;
    if (req.isDir) {
      ({ truncated } = await walkFiles(root, req.rel, async (file, dir) => {
        if (!file.symlink) search(file.rel, await readFileIn(dir, file.name, MAX_TEXT_BYTES));
      }));
    } else {
      const opened = await openBeneath(root, req.rel);
      if (opened.ok) {
        try {
          const { stat } = opened;
          if (stat.isFile() && stat.size <= MAX_TEXT_BYTES)
            search(opened.rel, { ok: true, stat, bytes: await readOpened(opened.handle, stat.size) });
        } finally {
          await opened.handle.close();
        }
      }
    }
    return { hits, total, skippedLinked, truncated };
  });
}
