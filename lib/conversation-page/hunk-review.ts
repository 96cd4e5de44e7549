/**
 * A reviewer's per-hunk choices on a write / edit / edit_lines proposal, turned into one decision:
 * every hunk accepted is an approval, every hunk rejected a denial (the hunks' reasons, if any, are
 * its correction), and anything between applies exactly the accepted hunks, with the rejected ones
 * (and their reasons) kept for the agent's next context and for training.
 */
import type { RejectedHunk } from "@/lib/agent/call-review";
import { applyHunks, formatHunk, splitHunks } from "@/lib/agent/hunks";

export type HunkChoice = { accept: boolean; correction?: string };

export type HunkOutcome =
  | { kind: "approve" }
  | { kind: "deny"; correction: string }
  | { kind: "partial"; text: string; hunks: number; rejected: RejectedHunk[] };

/** Said when every hunk is rejected and none carries a reason. */
export const ALL_HUNKS_REJECTED = "The reviewer rejected every hunk of this change.";

export function hunkOutcome(
  before: string,
  after: string,
  choices: readonly HunkChoice[],
): HunkOutcome | { kind: "mismatch"; error: string } {
  const hunks = splitHunks(before, after);
  if (choices.length !== hunks.length)
    return {
      kind: "mismatch",
      error: `The proposal has ${hunks.length} hunks now, not ${choices.length}: the file changed; review it again.`,
    };
  const reason = (c: HunkChoice) => c.correction?.trim() || undefined;
  if (choices.every((c) => c.accept)) return { kind: "approve" };
  const rejected: RejectedHunk[] = hunks.flatMap((h, i) =>
    choices[i]!.accept
      ? []
      : [{ number: i + 1, diff: formatHunk(h), ...(reason(choices[i]!) ? { correction: reason(choices[i]!) } : {}) }],
  );
  if (choices.every((c) => !c.accept)) {
    const reasons = rejected
      .filter((r) => r.correction)
      .map((r) => (hunks.length > 1 ? `Hunk ${r.number}: ${r.correction}` : r.correction!));
    return { kind: "deny", correction: reasons.length > 0 ? reasons.join("\n") : ALL_HUNKS_REJECTED };
  }
  return {
    kind: "partial",
    text: applyHunks(
      before,
      hunks,
      choices.map((c) => c.accept),
    ),
    hunks: hunks.length,
    rejected,
  };
}
