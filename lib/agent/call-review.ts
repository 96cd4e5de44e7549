/**
 * How the reviewer changed a proposed call before it ran, kept on the call (tool_call.review) so the
 * agent's next context can say so: which hunks were rejected (with the reviewer's reason when one
 * was given), and what the file holds now compared with what the call proposed. The model is told
 * compactly, in the tool message it reads next (`reviewNote`), so it does not fight the reviewer by
 * proposing the rejected change again.
 */
import { z } from "zod";
import { unifiedDiff } from "./hunks";

export const rejectedHunkSchema = z.strictObject({
  /** 1-based, as the reviewer saw it ("hunk 2 of 3"). */
  number: z.number().int().min(1),
  /** The hunk as a unified-diff block (what the call proposed there). */
  diff: z.string().max(2 * 1024 * 1024),
  /** Why it was rejected; a rejected hunk with a correction trains like a denial. */
  correction: z.string().trim().min(1).max(20_000).optional(),
});
export type RejectedHunk = z.infer<typeof rejectedHunkSchema>;

export const callReviewSchema = z.strictObject({
  /** The proposed call's hunk count and the ones rejected; none rejected when it was edited whole. */
  hunks: z.number().int().min(0),
  rejected: z.array(rejectedHunkSchema).max(10_000),
  /** A write sent elsewhere: the proposed path and the one it went to. */
  path: z.strictObject({ from: z.string(), to: z.string() }).optional(),
  /** What the file holds after the call compared with what the call proposed, as a unified diff. */
  diff: z.string().max(4 * 1024 * 1024),
});
export type CallReview = z.infer<typeof callReviewSchema>;

/** The review of a diff call the reviewer changed: the file it proposed vs the file that will be. */
export function reviewOf({
  proposedAfter,
  appliedAfter,
  hunks = 0,
  rejected = [],
  path,
}: {
  proposedAfter: string;
  appliedAfter: string;
  hunks?: number;
  rejected?: RejectedHunk[];
  path?: { from: string; to: string };
}): CallReview {
  return {
    hunks,
    rejected,
    ...(path && path.from !== path.to ? { path } : {}),
    diff: unifiedDiff(proposedAfter, appliedAfter),
  };
}

/** Past this many characters the diff in a note is cut: the model needs the gist, not a second file. */
const NOTE_DIFF_CHARS = 4_000;

const clip = (text: string) =>
  text.length > NOTE_DIFF_CHARS
    ? `${text.slice(0, NOTE_DIFF_CHARS)}\n[… ${text.length - NOTE_DIFF_CHARS} more characters of diff]`
    : text;

/**
 * The lines the agent reads before the tool's output when the reviewer changed its call.
 * `argsChanged`: for calls with no file diff (bash …), the arguments the reviewer changed.
 */
export function reviewNote(
  review: CallReview | null,
  argsChanged?: { key: string; from: unknown; to: unknown }[],
): string | null {
  const lines: string[] = [];
  if (review) {
    if (review.rejected.length > 0) {
      const accepted = review.hunks - review.rejected.length;
      lines.push(
        `The reviewer accepted ${accepted} of your ${review.hunks} hunks and rejected ${review.rejected.length}; only the accepted ones were applied.`,
      );
      for (const r of review.rejected) {
        lines.push(
          `Rejected hunk ${r.number} of ${review.hunks}${r.correction ? ` (reason: ${r.correction.trim()})` : ""}:`,
          r.diff,
        );
      }
    } else {
      lines.push("The reviewer edited your call before it ran.");
    }
    if (review.path) lines.push(`It was written to ${review.path.to} instead of ${review.path.from}.`);
    if (review.diff) lines.push("The file now holds, compared with what you proposed:", clip(review.diff));
    lines.push("Do not propose the rejected or replaced changes again unless asked.");
  } else if (argsChanged && argsChanged.length > 0) {
    lines.push(
      `The reviewer edited your call before it ran: ${argsChanged.map((c) => `${c.key} ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`).join("; ")}.`,
    );
  }
  return lines.length > 0 ? lines.join("\n") : null;
}

/** The note for a call about to report its result: null unless the reviewer changed it. */
export function noteForCall(call: {
  status: string;
  review: CallReview | null;
  args: Record<string, unknown>;
  editedArgs: Record<string, unknown> | null;
}): string | null {
  if (call.status !== "edited") return null;
  if (call.review) return reviewNote(call.review);
  const edited = call.editedArgs ?? {};
  const keys = [...new Set([...Object.keys(call.args), ...Object.keys(edited)])].filter(
    (k) => JSON.stringify(call.args[k]) !== JSON.stringify(edited[k]),
  );
  return reviewNote(
    null,
    keys.map((key) => ({ key, from: call.args[key] ?? null, to: edited[key] ?? null })),
  );
}

/** The tool message with the reviewer's note first, when there is one. */
export function withReviewNote(note: string | null, toolMessage: string): string {
  return note ? `${note}\n\nTool output:\n${toolMessage}` : toolMessage;
}
