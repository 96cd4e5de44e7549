/**
 * The guard against collapse: after a step's probes are scored, is the new version worse in a
 * way the user would not want? Two signs: approved behaviour kept fell by more than the setting's
 * points below its best recent value, or the first moves of probes whose own calls differ have
 * collapsed onto one answer. Pure: the caller warns, or rolls the version back (reject).
 */
import type { ProbeScores } from "./probes";

export type GuardAction = "warn" | "reject";

export type GuardSettings = {
  /** Points (0–100) approved behaviour kept may fall below its best recent value. */
  dropPoints: number;
  action: GuardAction;
};

export type GuardReason =
  | { kind: "approved_drop"; bestRecent: number; now: number; points: number }
  | { kind: "collapse"; firstMove: string; share: number; probes: number; distinctReferences: number };

export type GuardVerdict = { flagged: boolean; reasons: GuardReason[]; action: GuardAction | null };

/** The steps back "recent" reaches: long enough to see a slide over a few steps, short enough to forgive an old peak. */
export const RECENT_STEPS = 5;
/** A collapse needs this many probes and three different reference calls among them: fewer could agree by chance. */
export const COLLAPSE_MIN_PROBES = 4;
export const COLLAPSE_MIN_REFERENCES = 3;
/** Share of probes answered with one and the same first move that counts as collapse. */
export const COLLAPSE_SHARE = 0.75;

/** `earlier`: approved behaviour kept at the previous steps, oldest first (null where none was scored). */
export function judgeStep({
  scores,
  earlier,
  settings,
}: {
  scores: ProbeScores;
  earlier: readonly (number | null)[];
  settings: GuardSettings;
}): GuardVerdict {
  const reasons: GuardReason[] = [];
  const recent = earlier.slice(-RECENT_STEPS).filter((x): x is number => x !== null);
  if (scores.approvedKept !== null && recent.length > 0) {
    const bestRecent = Math.max(...recent);
    const points = Math.round((bestRecent - scores.approvedKept) * 1000) / 10;
    if (points > settings.dropPoints)
      reasons.push({ kind: "approved_drop", bestRecent, now: scores.approvedKept, points });
  }
  if (
    scores.topFirstMove !== null &&
    scores.topFirstMoveShare !== null &&
    scores.probes >= COLLAPSE_MIN_PROBES &&
    scores.distinctReferences >= COLLAPSE_MIN_REFERENCES &&
    scores.topFirstMoveShare >= COLLAPSE_SHARE
  ) {
    reasons.push({
      kind: "collapse",
      firstMove: scores.topFirstMove,
      share: scores.topFirstMoveShare,
      probes: scores.probes,
      distinctReferences: scores.distinctReferences,
    });
  }
  return { flagged: reasons.length > 0, reasons, action: reasons.length > 0 ? settings.action : null };
}

/** One line per reason, as the panel and the notice show them. */
export function describeReason(reason: GuardReason): string {
  switch (reason.kind) {
    case "approved_drop":
      return `Approved behaviour kept fell ${reason.points} points, from ${Math.round(reason.bestRecent * 100)}% to ${Math.round(reason.now * 100)}%.`;
    case "collapse":
      return `${Math.round(reason.share * reason.probes)} of ${reason.probes} probes (${reason.distinctReferences} different calls) now start with ${reason.firstMove}.`;
    default: {
      const never: never = reason;
      throw new Error(`unknown guard reason ${String(never)}`);
    }
  }
}
