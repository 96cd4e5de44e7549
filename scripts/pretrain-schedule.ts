/**
 * The pure parts of pretraining (scripts/pretrain.ts): the seeded shuffle, turning episodes into
 * shifted datums whose loss is a mean per assistant token (plus, optionally, the other tokens'
 * loss after the shared system prompt), the learning-rate schedule, and the prompt of an
 * episode's first assistant turn (for decoding checks).
 */
import type { Datum } from "@/lib/training/types";
import type { Rng } from "@/lib/curriculum/prng";

/** One curriculum episode in the model's ids: `weights[i]` is 1 where token i is the assistant's. */
export interface Episode {
  tokens: number[];
  weights: number[];
}

export function shuffle<T>(items: T[], rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

/**
 * Where the other tokens (the task, tool results) also carry a loss: from token `from` on, at
 * `weight` per token. Predicting a tool result teaches copying the way nothing else does: a grep
 * result repeats the pattern the call named, a file read repeats the names the task gave, a test
 * report repeats the test names of the file it ran.
 */
export interface ContextLoss {
  from: number;
  weight: number;
}

/**
 * Shifted datums whose assistant weights sum to 1 over the batch: the summed loss is the mean
 * loss per assistant token, so the learning rate does not depend on how many tokens a batch holds.
 * With a context loss, every other token from `from` on adds `weight` times its own loss on that
 * same scale.
 */
export function toDatums(
  batch: Episode[],
  context: ContextLoss | null = null,
): { datums: Datum[]; weighted: number; tokens: number } {
  let weighted = 0;
  let tokens = 0;
  for (const e of batch) {
    for (let i = 1; i < e.weights.length; i++) weighted += e.weights[i]!;
    tokens += e.tokens.length;
  }
  const scale = weighted > 0 ? 1 / weighted : 0;
  const weightOf = (w: number, i: number): number =>
    w === 0 && context !== null && i >= context.from ? context.weight : w;
  const datums = batch.map((e) => ({
    modelInput: e.tokens.slice(0, -1),
    lossFnInputs: {
      targetTokens: e.tokens.slice(1),
      weights: e.weights.slice(1).map((w, t) => weightOf(w, t + 1) * scale),
    },
  }));
  return { datums, weighted, tokens };
}

/** How many tokens every episode starts with (the system prompt and tools block). */
export function commonPrefixLength(episodes: readonly Episode[]): number {
  if (episodes.length === 0) return 0;
  const first = episodes[0]!.tokens;
  let n = Math.min(...episodes.map((e) => e.tokens.length));
  for (const e of episodes) {
    let t = 0;
    while (t < n && e.tokens[t] === first[t]) t++;
    n = t;
  }
  return n;
}

/** Linear warmup, then cosine from the peak down to minRatio · peak as `progress` goes 0 → 1. */
export function learningRate(step: number, progress: number, peak: number, warmup: number, minRatio: number): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const p = Math.min(1, Math.max(0, progress));
  return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** The prompt of an episode's first assistant turn: every token before its first weighted one. */
export function firstPrompt(e: Episode): { prompt: number[]; answer: number[] } {
  const start = e.weights.findIndex((w) => w > 0);
  let end = start;
  while (end < e.weights.length && e.weights[end]! > 0) end++;
  return { prompt: e.tokens.slice(0, start), answer: e.tokens.slice(start, end) };
}
