/**
 * The step's metrics as one flat record with the original product's names (seed-behaviour §3):
 * credit statistics of the advantages, the sampled-token NLLs it called entropy/*, and the true
 * entropies where whole distributions are at hand. All pure; train-step.ts assembles the record.
 */

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

export interface CreditInput {
  /** Final SDPO advantages of every trained completion token. */
  advantages: number[];
  /** teacher − student of the same tokens. */
  delta: number[];
  klCoef: number;
  gain: number;
  /** Denials that carried a demonstration, and all denials. */
  withSolution: number;
  denials: number;
}

/** credit/* as the original computed them; sparsity is the share of |a| above twice the median. */
export function creditMetrics(c: CreditInput): Record<string, number> {
  const abs = c.advantages.map(Math.abs).sort((a, b) => a - b);
  const m = mean(c.advantages);
  const std = Math.sqrt(mean(c.advantages.map((a) => (a - m) ** 2)));
  const p50 = quantile(abs, 0.5);
  return {
    "credit/adv_abs_mean_raw": mean(c.delta.map((d) => Math.abs(c.klCoef * d))),
    "credit/adv_mean": m,
    "credit/adv_abs_mean": mean(abs),
    "credit/adv_std": std,
    "credit/adv_abs_p50": p50,
    "credit/adv_abs_p90": quantile(abs, 0.9),
    "credit/adv_abs_max": abs.length ? abs[abs.length - 1]! : 0,
    "credit/adv_sparsity": abs.length ? abs.filter((a) => a > 2 * p50).length / abs.length : 0,
    "credit/kl_gain": c.gain,
    "credit/kl_coef_effective": c.klCoef * c.gain,
    "credit/kl_positive_frac": c.delta.length ? c.delta.filter((d) => d > 0).length / c.delta.length : 0,
    "credit/solution_coverage": c.denials ? c.withSolution / c.denials : 0,
  };
}

/**
 * entropy/student and entropy/teacher as the original reported them: the mean negative log-prob
 * of the sampled tokens (an NLL, a one-sample entropy estimate, not the entropy itself).
 */
export function nllMetrics(student: number[], teacher: number[]): Record<string, number> {
  const s = -mean(student);
  const t = -mean(teacher);
  return { "entropy/student": s, "entropy/teacher": t, "entropy/gap": t - s };
}

/** Mean Shannon entropy −Σ p log p of log-softmax rows (P, V). */
export function meanRowEntropy(rows: Float32Array, vocabSize: number): number {
  const P = rows.length / vocabSize;
  if (P === 0) return 0;
  let total = 0;
  for (let r = 0; r < P; r++) {
    let h = 0;
    for (let v = 0; v < vocabSize; v++) {
      const lp = rows[r * vocabSize + v]!;
      if (lp > -Infinity) h -= Math.exp(lp) * lp;
    }
    total += h;
  }
  return total / P;
}

/** Mean reverse KL Σ_v p_s(v)(log p_s(v) − log p_t(v)) between paired rows (P, V). */
export function meanRowReverseKl(student: Float32Array, teacher: Float32Array, vocabSize: number): number {
  const P = student.length / vocabSize;
  if (P === 0) return 0;
  let total = 0;
  for (let r = 0; r < P; r++) {
    for (let v = 0; v < vocabSize; v++) {
      const ls = student[r * vocabSize + v]!;
      if (ls > -Infinity) total += Math.exp(ls) * (ls - teacher[r * vocabSize + v]!);
    }
  }
  return total / P;
}

/** Backend metrics under a prefix, keeping keys that already carry it (optim/grad_norm). */
export function prefixed(prefix: string, metrics: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) out[k.startsWith(`${prefix}/`) ? k : `${prefix}/${k}`] = v;
  return out;
}

export function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/**
 * Log-probability rows over a vocabulary may hold −∞ (log 0: a token the model cannot emit, e.g.
 * outside a trimmed vocabulary); only NaN and +∞ make them unusable.
 */
export function validLogprobRow(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v) || v === Infinity) return false;
  }
  return true;
}
