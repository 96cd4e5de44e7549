/**
 * Rehearsal: calls the user approved unchanged, trained in the same step as a correction so that
 * the step keeps them. A correction alone only says what not to do in one context; every step
 * that pushes a denied call down also moves the model's other first moves, and after a few steps
 * approved behaviour on unrelated tasks drifts (bench:learning measures it). Each rehearsed call
 * is an importance-sampling datum under the current weights (ratio 1) with the same positive
 * advantage on every token: a likelihood step on what the user already accepted, which costs
 * little where the model already proposes it (the gradient of a likely token is small).
 */
import type { SamplingClient } from "@/lib/training/types";
import { sliceCompletionLogprobs } from "./align";
import type { Probe } from "./probes";

/** An approved call as it was sampled: its prompt and its reply's tokens. */
export interface RehearsalCall {
  promptTokens: number[];
  completionTokens: number[];
}

/** A rehearsed call ready for importance sampling: the current log-probs and its advantages. */
export interface RehearsalExample {
  promptTokens: number[];
  completionTokens: number[];
  samplingLogprobs: number[];
  advantages: number[];
}

/** The calls a step rehearses: at most `count`, the first (newest) ones that have a reply. */
export function pickRehearsals<T extends RehearsalCall>(calls: readonly T[], count: number): T[] {
  if (!(count >= 0) || !Number.isInteger(count))
    throw new Error(`rehearsal count must be a whole number ≥ 0; got ${count}`);
  return calls.filter((c) => c.promptTokens.length > 0 && c.completionTokens.length > 0).slice(0, count);
}

/**
 * The policy's retention probes (approved unchanged, newest first) as rehearsal calls: the probe
 * set decides which calls count as approved, so rehearsal and the guard's "approved behaviour
 * kept" judge the same calls.
 */
export function rehearsalsFromProbes(
  probes: readonly Probe[],
  replyOf: (probeId: string) => number[] | undefined,
  count: number,
): RehearsalCall[] {
  const calls: RehearsalCall[] = [];
  for (const p of probes) {
    if (p.kind !== "retention") continue;
    const completionTokens = replyOf(p.id);
    if (completionTokens) calls.push({ promptTokens: p.promptTokens, completionTokens });
  }
  return pickRehearsals(calls, count);
}

/** Scores each call under `student` (the weights the step starts from) and gives every token `weight`. */
export async function rehearsalExamples(
  student: SamplingClient,
  calls: readonly RehearsalCall[],
  weight: number,
): Promise<RehearsalExample[]> {
  if (!Number.isFinite(weight) || weight < 0) throw new Error(`rehearsal weight must be a number ≥ 0; got ${weight}`);
  if (weight === 0 || calls.length === 0) return [];
  const scored = await Promise.all(
    calls.map((c) => student.computeLogprobs([...c.promptTokens, ...c.completionTokens])),
  );
  return calls.map((c, i) => ({
    promptTokens: c.promptTokens,
    completionTokens: c.completionTokens,
    samplingLogprobs: sliceCompletionLogprobs(scored[i]!, c.promptTokens.length, c.completionTokens.length),
    advantages: c.completionTokens.map(() => weight),
  }));
}
