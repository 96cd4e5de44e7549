/**
 * Sampling behaviour on a small random model with a LoRA adapter: seeds, temperature 0, top-k,
 * top-p, stop tokens, several samples per prompt, returned log-probs that agree with scoring, and
 * a token observer that sees the first sequence as it is sampled.
 */
import { describe, expect, it } from "vitest";
import { createJsKernels } from "./kernels/js-kernels";
import { randomEngine, randomizeAdapter, randomTokens, tinyConfig } from "./testing";

const config = tinyConfig({ vocabSize: 64 });
const engine = randomEngine(createJsKernels(), config, 2, 0.15);
engine.createAdapter("a", { rank: 4 });
randomizeAdapter(engine, "a", 11, 0.1);
const prompt = randomTokens(9, config.vocabSize, 21);

/** The greedy continuation computed by scoring alone (argmax of each next-token row). */
function argmaxContinuation(n: number): number[] {
  const tokens = [...prompt];
  for (let i = 0; i < n; i++) {
    const row = engine.logSoftmaxRows("a", tokens, [tokens.length - 1]);
    let best = 0;
    for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
    tokens.push(best);
  }
  return tokens.slice(prompt.length);
}

describe("sampling", () => {
  it("the same seed gives the same samples and different seeds give different ones", () => {
    const params = { maxTokens: 12, temperature: 1, seed: 42, numSamples: 3 };
    const a = engine.sample("a", prompt, params);
    const b = engine.sample("a", prompt, params);
    const c = engine.sample("a", prompt, { ...params, seed: 43 });
    expect(a).toEqual(b);
    expect(c.sequences.map((s) => s.tokens)).not.toEqual(a.sequences.map((s) => s.tokens));
    expect(a.sequences).toHaveLength(3);
    expect(new Set(a.sequences.map((s) => s.tokens.join(","))).size).toBeGreaterThan(1);
  });

  it("temperature 0, top-k 1 and a tiny top-p all decode greedily", () => {
    const greedy = argmaxContinuation(8);
    expect(engine.sample("a", prompt, { maxTokens: 8, temperature: 0 }).sequences[0].tokens).toEqual(greedy);
    expect(engine.sample("a", prompt, { maxTokens: 8, temperature: 1, topK: 1, seed: 5 }).sequences[0].tokens).toEqual(
      greedy,
    );
    expect(
      engine.sample("a", prompt, { maxTokens: 8, temperature: 1, topP: 1e-6, seed: 5 }).sequences[0].tokens,
    ).toEqual(greedy);
  });

  it("top-k sampling only ever picks one of the k most likely tokens", () => {
    const k = 3;
    const top = engine.topkLogprobs("a", prompt, [prompt.length - 1], k);
    const allowed = new Set(Array.from(top.ids));
    const out = engine.sample("a", prompt, { maxTokens: 1, temperature: 2, topK: k, seed: 1, numSamples: 40 });
    const firsts = out.sequences.map((s) => s.tokens[0]);
    for (const t of firsts) expect(allowed.has(t)).toBe(true);
    expect(new Set(firsts).size).toBeGreaterThan(1);
  });

  it("top-p keeps the smallest set of most likely tokens whose mass reaches p", () => {
    const row = engine.logSoftmaxRows("a", prompt, [prompt.length - 1]);
    const order = Array.from(row.keys()).sort((x, y) => row[y] - row[x]);
    const p = Math.exp(row[order[0]]) + Math.exp(row[order[1]]) * 0.5; // needs exactly the top two
    const out = engine.sample("a", prompt, { maxTokens: 1, temperature: 1, topP: p, seed: 3, numSamples: 60 });
    const firsts = new Set(out.sequences.map((s) => s.tokens[0]));
    expect(firsts).toEqual(new Set([order[0], order[1]]));
  });

  it("a stop token ends the sequence and is included; otherwise maxTokens ends it", () => {
    const greedy = argmaxContinuation(6);
    const stopAt = greedy[3];
    const expectedLen = greedy.indexOf(stopAt) + 1;
    const out = engine.sample("a", prompt, { maxTokens: 6, temperature: 0, stop: [stopAt] }).sequences[0];
    expect(out).toEqual({ tokens: greedy.slice(0, expectedLen), logprobs: out.logprobs, stopReason: "stop" });
    const long = engine.sample("a", prompt, { maxTokens: 6, temperature: 0 }).sequences[0];
    expect(long.stopReason).toBe("length");
    expect(long.tokens).toHaveLength(6);
  });

  it("returned log-probs are the model's log-probs of the sampled tokens", () => {
    const s = engine.sample("a", prompt, { maxTokens: 10, temperature: 0.8, topP: 0.9, seed: 8 }).sequences[0];
    const scored = engine.computeLogprobs("a", [...prompt, ...s.tokens]).slice(prompt.length) as number[];
    expect(s.logprobs).toHaveLength(s.tokens.length);
    for (const [i, lp] of s.logprobs.entries()) expect(Math.abs(lp - scored[i])).toBeLessThan(1e-4);
  });

  it("top-k log-probs list the most likely tokens first and agree with the full rows", () => {
    const positions = [0, 4, prompt.length - 1];
    const rows = engine.logSoftmaxRows("a", prompt, positions);
    const top = engine.topkLogprobs("a", prompt, positions, 5);
    const V = config.vocabSize;
    positions.forEach((_, r) => {
      const sorted = Array.from(rows.subarray(r * V, (r + 1) * V))
        .sort((x, y) => y - x)
        .slice(0, 5);
      expect(Array.from(top.logprobs.subarray(r * 5, r * 5 + 5))).toEqual(sorted.map((x) => Math.fround(x)));
      for (let j = 0; j < 5; j++) expect(rows[r * V + top.ids[r * 5 + j]]).toBe(top.logprobs[r * 5 + j]);
    });
  });

  it("a token observer sees exactly the first sequence's tokens, in order, and changes no sample", () => {
    const cases = [
      { maxTokens: 9, temperature: 0 },
      { maxTokens: 9, temperature: 1, topP: 0.9, seed: 17, numSamples: 3 },
      { maxTokens: 9, temperature: 0, stop: [argmaxContinuation(4)[3]] },
    ];
    for (const params of cases) {
      const seen: number[] = [];
      const watched = engine.sample("a", prompt, params, (token) => seen.push(token));
      expect(watched).toEqual(engine.sample("a", prompt, params));
      expect(seen).toEqual(watched.sequences[0].tokens);
    }
  });

  it("the observer hears each token before the next one is computed", () => {
    const seen: number[] = [];
    const stopAfterThree = (token: number) => {
      seen.push(token);
      if (seen.length === 3) throw new Error("enough");
    };
    expect(() => engine.sample("a", prompt, { maxTokens: 9, temperature: 0 }, stopAfterThree)).toThrow("enough");
    expect(seen).toEqual(argmaxContinuation(3));
  });

  it("a prompt plus maxTokens beyond the context window is refused", () => {
    expect(() => engine.sample("a", prompt, { maxTokens: config.maxPositionEmbeddings, temperature: 0 })).toThrow(
      /context/,
    );
  });
});
