/**
 * The per-workspace disk quota: how much space a workspace occupies, and the decisions drawn from
 * it. The file tools ask `checkWriteQuota` before each write (refused with a sentence the agent
 * can act on); bash runs with its per-file size limit lowered to `quotaLeft` and is watched while
 * it runs (lib/sandbox/run.ts). Usage is what `du` counts: the blocks the workspace's files and
 * folders occupy, symlinks not followed, each hard-linked file once.
 */
import type { Stats } from "node:fs";
import { execFromHelper } from "@/lib/spawner";

const MiB = 1024 * 1024;

export type QuotaDecision = { ok: true } | { ok: false; error: string };

/** Bytes the workspace at `root` occupies on disk (du, started from the helper process: lib/spawner.ts). */
export async function workspaceUsage(root: string): Promise<number> {
  // -B1: bytes. du exits 1 when a file vanished while it walked (a command still running
  // deletes files): its total still counts everything that was there, so the total is used.
  const { stdout, end } = await execFromHelper("du", ["-s", "-B1", "--", root]);
  const total = Number(/^(\d+)\s/.exec(stdout)?.[1]);
  if (Number.isFinite(total)) return total;
  throw new Error(
    `cannot measure ${root}: ${end.error ?? (end.code !== 0 ? `du exited with ${end.code}` : "du printed no total")}`,
  );
}

/** Space left under the quota: never negative (a workspace over its quota has none). */
export function quotaLeft(usedBytes: number, quotaBytes: number): number {
  return Math.max(0, quotaBytes - usedBytes);
}

/**
 * "100 MiB", "100.1 MiB", to a tenth: usage rounds up, so a workspace just over its quota never
 * reads as exactly on it, and space left rounds down, so it never reads as more than there is.
 */
export function formatMiB(bytes: number, round: "up" | "down" = "up"): string {
  const tenths = (round === "up" ? Math.ceil : Math.floor)((bytes / MiB) * 10);
  return `${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)} MiB`;
}

export function overQuotaSentence(usedBytes: number, quotaBytes: number, tense: "would" | "now"): string {
  const uses = tense === "would" ? "would use" : "now uses";
  return `the workspace ${uses} ${formatMiB(usedBytes)} of its ${formatMiB(quotaBytes)} quota`;
}

/**
 * May a file tool write `newBytes` to a file, replacing `replacing` (null: a new file)? The file's
 * current blocks are given back first, so rewriting a file in a full workspace with shorter text
 * succeeds. `quotaBytes` null: no quota. Two writes racing can both pass; a quota is a bound on
 * runaway growth, not an accounting ledger.
 */
export async function checkWriteQuota({
  root,
  quotaBytes,
  replacing,
  newBytes,
}: {
  root: string;
  quotaBytes: number | null;
  replacing: Stats | null;
  newBytes: number;
}): Promise<QuotaDecision> {
  if (quotaBytes === null) return { ok: true };
  const current = replacing?.isFile() ? replacing.blocks * 512 : 0;
  const wouldUse = (await workspaceUsage(root)) - current + newBytes;
  if (wouldUse <= quotaBytes || newBytes <= current) return { ok: true };
  return {
    ok: false,
    error: `${overQuotaSentence(wouldUse, quotaBytes, "would")}; delete files the task no longer needs, or write less`,
  };
}
