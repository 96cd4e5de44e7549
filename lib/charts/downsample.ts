/**
 * Downsampling for long training curves without hiding spikes. Points are split into equal
 * buckets by index; each bucket keeps its minimum and its maximum (in x order), and the first
 * and last points always stay. A chart of a million steps thus still shows every outlier a
 * bucket holds, unlike stride sampling, which drops them silently.
 */

/** Above this many points a chart downsamples (W&B does so above 1,500). */
export const DEFAULT_MAX_POINTS = 2000;

/**
 * Indices of at most `target` points (target ≥ 4): the first, the last, and the min and max of
 * each equal bucket between them; a non-finite value counts as its bucket's maximum (a failed or
 * diverged step stays visible). Ascending; every index when there are no more than `target`.
 */
export function downsampleIndices(values: readonly number[], target: number): number[] {
  if (target < 4) throw new Error(`downsampling needs a target of at least 4 points, got ${target}`);
  if (values.length <= target) return values.map((_, i) => i);
  const inner = values.length - 2;
  const buckets = Math.floor((target - 2) / 2);
  const keep: number[] = [0];
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * inner) / buckets);
    const end = 1 + Math.floor(((b + 1) * inner) / buckets);
    if (start >= end) continue;
    let lo = -1;
    let hi = -1;
    let nonFinite = -1;
    for (let i = start; i < end; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) {
        if (nonFinite < 0) nonFinite = i;
        continue;
      }
      if (lo < 0 || v < values[lo]!) lo = i;
      if (hi < 0 || v > values[hi]!) hi = i;
    }
    // A non-finite point takes the max slot: it is the most extreme thing in the bucket.
    if (nonFinite >= 0) hi = nonFinite;
    if (lo < 0) lo = hi;
    if (lo === hi) keep.push(lo);
    else keep.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  keep.push(values.length - 1);
  return keep;
}

/** The points at `downsampleIndices` of their values, in input order. */
export function downsampleMinMax<P>(points: readonly P[], target: number, value: (p: P) => number): P[] {
  return downsampleIndices(points.map(value), target).map((i) => points[i]!);
}
