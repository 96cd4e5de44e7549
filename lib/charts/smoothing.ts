/**
 * Curve smoothing for training charts: TensorBoard's debiased exponential moving average. The
 * running average starts at 0 and is divided by (1 - w^n), so the first points are not dragged
 * towards zero; non-finite values pass through unsmoothed and do not enter the average; a
 * constant series is returned as is (dividing by the debias term would add rounding noise).
 */

/** Smoothing weight in [0, 1): 0 returns the raw values, 0.99 is the slider's maximum. */
export const MAX_SMOOTHING = 0.99;

/** Where every chart's slider starts: TensorBoard's default weight, smooth enough to show a trend in noisy losses. */
export const DEFAULT_SMOOTHING = 0.6;

export function debiasedEma(values: readonly number[], weight: number): number[] {
  const w = Math.min(Math.max(weight, 0), MAX_SMOOTHING);
  const finite = values.filter(Number.isFinite);
  const constant = finite.length > 0 && finite.every((v) => v === finite[0]);
  if (w === 0 || constant) return [...values];
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * w + (1 - w) * v;
    count += 1;
    return last / (1 - w ** count);
  });
}
