/**
 * The pure arithmetic of the benchmarks: rates over fresh conversations, percentiles over timed
 * runs, and the learning goal's verdict (corrected behaviour ≥ 80 % after 3 corrections from
 * ≤ 30 %, unrelated success down by ≤ 5 points) and the lasting goal's (the corrected move still
 * ≥ 80 % at k = 3, unrelated success within 5 points of k = 0 at k = 20), kept apart from the model
 * so tests can pin it.
 */

/** Share of `flags` that are true, rounded to 3 decimals; 0 for none. */
export function rate(flags: readonly boolean[]): number {
  if (flags.length === 0) return 0;
  return round(flags.filter(Boolean).length / flags.length);
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Nearest-rank percentile (p in 0..100) of `xs`; NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** p50, p95, mean, min and max of timings, in the timings' own unit. */
export function summarise(
  xs: readonly number[],
  digits = 3,
): { p50: number; p95: number; mean: number; min: number; max: number; n: number } {
  return {
    p50: round(percentile(xs, 50), digits),
    p95: round(percentile(xs, 95), digits),
    mean: round(mean(xs), digits),
    min: round(Math.min(...xs), digits),
    max: round(Math.max(...xs), digits),
    n: xs.length,
  };
}

export interface LearningPoint {
  k: number;
  /** Fresh conversations whose first call is the corrected (right) behaviour on the task's own path. */
  correctedRate: number;
  /** The same, on any path (the move without the copying); absent in older reports. */
  correctedMoveRate?: number;
  /** Fresh conversations whose first call shows the habit (the detector fires). */
  habitRate: number;
  /** Unrelated families' held-out tasks whose first call is the ideal one. */
  unrelatedSuccess: number;
}

export const LEARNING_GOAL = { atK: 3, correctedAfter: 0.8, correctedBefore: 0.3, maxUnrelatedDropPoints: 5 } as const;

export interface GoalVerdict {
  correctedBefore: number;
  correctedAfter: number | null;
  unrelatedDropPoints: number | null;
  /** The starting point is as bad as the goal assumes (≤ 30 %). */
  startsLow: boolean;
  reached: boolean;
  /** The same goal judged on the move alone (any path); null when the points lack it. */
  correctedMoveBefore: number | null;
  correctedMoveAfter: number | null;
  reachedIgnoringPaths: boolean | null;
}

/** The goal at k = 3 (or the largest k below it that was measured is not enough: null when k = 3 is missing). */
export function goalVerdict(points: readonly LearningPoint[]): GoalVerdict {
  const before = points.find((p) => p.k === 0);
  const after = points.find((p) => p.k === LEARNING_GOAL.atK);
  const correctedBefore = before?.correctedRate ?? Number.NaN;
  const drop = before && after ? round((before.unrelatedSuccess - after.unrelatedSuccess) * 100, 1) : null;
  const within = drop !== null && drop <= LEARNING_GOAL.maxUnrelatedDropPoints;
  const reached = after !== undefined && within && after.correctedRate >= LEARNING_GOAL.correctedAfter;
  const moveAfter = after?.correctedMoveRate ?? null;
  return {
    correctedBefore,
    correctedAfter: after?.correctedRate ?? null,
    unrelatedDropPoints: drop,
    startsLow: correctedBefore <= LEARNING_GOAL.correctedBefore,
    reached,
    correctedMoveBefore: before?.correctedMoveRate ?? null,
    correctedMoveAfter: moveAfter,
    reachedIgnoringPaths: moveAfter === null ? null : within && moveAfter >= LEARNING_GOAL.correctedAfter,
  };
}

/**
 * Whether learning lasts: the corrected move is there after 3 corrections and, 20 corrections on,
 * unrelated tasks are still solved about as often as before any (a collapse onto one answer fails
 * the second half even when the corrected move is kept).
 */
export const LASTING_GOAL = { moveAtK: 3, minCorrectedMove: 0.8, unrelatedAtK: 20, maxUnrelatedDropPoints: 5 } as const;

export interface LastingVerdict {
  correctedMoveAtK3: number | null;
  /** Unrelated success at k = 0 minus at k = 20, in points; null when either is missing. */
  unrelatedDropPointsAtK20: number | null;
  /** Corrected move at the largest k measured, to show whether the lesson itself was kept. */
  correctedMoveAtLastK: number | null;
  reached: boolean;
}

export function lastingVerdict(points: readonly LearningPoint[]): LastingVerdict {
  const at = (k: number) => points.find((p) => p.k === k);
  const before = at(0);
  const early = at(LASTING_GOAL.moveAtK);
  const late = at(LASTING_GOAL.unrelatedAtK);
  const last = points.reduce<LearningPoint | undefined>((a, p) => (a === undefined || p.k > a.k ? p : a), undefined);
  const move = early?.correctedMoveRate ?? null;
  const drop = before && late ? round((before.unrelatedSuccess - late.unrelatedSuccess) * 100, 1) : null;
  return {
    correctedMoveAtK3: move,
    unrelatedDropPointsAtK20: drop,
    correctedMoveAtLastK: last?.correctedMoveRate ?? null,
    reached:
      move !== null &&
      move >= LASTING_GOAL.minCorrectedMove &&
      drop !== null &&
      drop <= LASTING_GOAL.maxUnrelatedDropPoints,
  };
}
