/**
 * Training after a shared prefix on tiny random models: the loss is the full sequences' loss, the
 * gradient is the derivative of that loss with the prefix's keys and values held fixed (central
 * finite differences, every base tensor), it differs from the full gradient by what would flow into
 * the prefix, and the threaded kernels give the reference kernels' gradients.
 */
import { describe, expect, it } from "vitest";
import { createJsKernels } from "./kernels/js-kernels";
import { createKernels } from "./kernels/index";
import type { Engine } from "./engine";
import { Rng } from "./sampling";
import { sharedPrefixLength, type SharedPrefix } from "./shared-prefix";
import { randomEngine, randomTokens, tinyConfig } from "./testing";
import type { Datum } from "../training/types";

/** Datums that start with the same `prefix` tokens, with weight only on their own positions. */
function batch(prefix: number[], ownLengths: number[], vocab: number, seed: number): Datum[] {
  return ownLengths.map((n, i) => {
    const seq = [...prefix, ...randomTokens(n + 1, vocab, seed + i)];
    const targets = seq.slice(1);
    return {
      modelInput: seq.slice(0, -1),
      lossFnInputs: {
        targetTokens: targets,
        weights: targets.map((_, t) => (t < prefix.length ? 0 : 0.5 + (t % 3) * 0.5)),
      },
    };
  });
}

function gradsOf(engine: Engine, data: Datum[], prefix: SharedPrefix | null): Record<string, Float32Array> {
  engine.fullZeroGrad();
  engine.fullForwardBackward(data, "cross_entropy", {}, prefix);
  const grads = engine.baseTensors("grad");
  engine.fullZeroGrad();
  return grads;
}

const config = tinyConfig({ tieWordEmbeddings: true });
const V = config.vocabSize;
const prefixTokens = randomTokens(9, V, 40);
const data = batch(prefixTokens, [6, 8], V, 50);

describe("training after a shared prefix", () => {
  it("finds the tokens every datum shares, up to the first position with a loss, leaving each one of its own", () => {
    expect(sharedPrefixLength(data)).toBe(9);
    expect(sharedPrefixLength(data.slice(0, 1))).toBe(0);
    const late = data.map((d) => ({
      ...d,
      lossFnInputs: { ...d.lossFnInputs, weights: d.lossFnInputs.weights!.map((w, t) => (t === 4 ? 1 : w)) },
    }));
    expect(sharedPrefixLength(late)).toBe(4);
    const differ = [data[0]!, { ...data[1]!, modelInput: data[1]!.modelInput.map((x, t) => (t === 6 ? x + 1 : x)) }];
    expect(sharedPrefixLength(differ)).toBe(6);
    const same = [data[0]!, data[0]!];
    expect(sharedPrefixLength(same)).toBe(9);
    const noWeights = same.map((d) => ({ ...d, lossFnInputs: { targetTokens: d.lossFnInputs.targetTokens } }));
    expect(sharedPrefixLength(noWeights)).toBe(data[0]!.modelInput.length - 1);
  });

  it("gives the full sequences' loss and log-probs", () => {
    const engine = randomEngine(createJsKernels(), config, 3, 0.3);
    const full = engine.forward(null, data, "cross_entropy");
    const shared = engine.forward(null, data, "cross_entropy", {}, engine.prefillShared(null, prefixTokens));
    expect(shared.metrics["loss:sum"]).toBeCloseTo(full.metrics["loss:sum"]!, 4);
    for (const [i, out] of shared.lossFnOutputs.entries()) {
      expect(out.logprobs).toHaveLength(data[i]!.modelInput.length);
      const own = (xs: number[]) => xs.slice(prefixTokens.length);
      for (const [t, lp] of own(out.logprobs).entries())
        expect(lp).toBeCloseTo(own(full.lossFnOutputs[i]!.logprobs)[t]!, 4);
    }
  });

  it("gives the derivative of the loss with the prefix's keys and values held fixed, for every base tensor", () => {
    const engine = randomEngine(createJsKernels(), config, 3, 0.3);
    engine.createFullTraining();
    const base = engine.baseTensors();
    const prefix = engine.prefillShared(null, prefixTokens);
    const grads = gradsOf(engine, data, prefix);
    for (const [s, name] of Object.keys(base).entries()) {
      const rng = new Rng(500 + s);
      const dir = Float32Array.from(base[name]!, () => rng.normal());
      const norm = Math.hypot(...dir);
      let analytic = 0;
      for (let i = 0; i < dir.length; i++) analytic += (grads[name]![i]! * dir[i]!) / norm;
      const eps = 1e-2;
      // The prefix's keys and values stay those of the unshifted weights: that is what "fixed" means.
      const lossAt = (sign: number): number => {
        engine.setBaseTensors({ [name]: Float32Array.from(base[name]!, (x, i) => x + (sign * eps * dir[i]!) / norm) });
        return engine.forward(null, data, "cross_entropy", {}, prefix).metrics["loss:sum"]!;
      };
      const numeric = (lossAt(1) - lossAt(-1)) / (2 * eps);
      engine.setBaseTensors(base);
      expect(Math.abs(analytic), `${name}: gradient is zero`).toBeGreaterThan(1e-4);
      expect(Math.abs(analytic - numeric), `${name}: analytic ${analytic} vs numeric ${numeric}`).toBeLessThan(
        3e-4 + 2e-3 * Math.abs(numeric),
      );
    }
  });

  it("differs from the full gradient by what flows into the prefix: a token only the prefix holds gets no input gradient", () => {
    const engine = randomEngine(createJsKernels(), config, 3, 0.3);
    engine.createFullTraining();
    const full = gradsOf(engine, data, null);
    const shared = gradsOf(engine, data, engine.prefillShared(null, prefixTokens));
    const own = new Set(
      data.flatMap((d) => [...d.modelInput.slice(prefixTokens.length), ...d.lossFnInputs.targetTokens]),
    );
    const onlyInPrefix = prefixTokens.find((t) => !own.has(t));
    expect(onlyInPrefix, "the fixture's prefix has a token of its own").toBeDefined();
    const C = config.hiddenSize;
    const row = (g: Record<string, Float32Array>) =>
      g["model.embed_tokens.weight"]!.subarray(onlyInPrefix! * C, onlyInPrefix! * C + C);
    // Tied embeddings: the row's output use is the same in both; its input use exists only in full.
    const diff = row(full).map((x, i) => Math.abs(x - row(shared)[i]!));
    expect(Math.max(...diff)).toBeGreaterThan(1e-4);
  });

  it("rejects a datum that does not start with the prefix, a loss inside it, and the whole-row losses", () => {
    const engine = randomEngine(createJsKernels(), config, 3, 0.3);
    engine.createFullTraining();
    const prefix = engine.prefillShared(null, prefixTokens);
    const other = batch(randomTokens(9, V, 41), [5], V, 60);
    expect(() => engine.fullForwardBackward(other, "cross_entropy", {}, prefix)).toThrow(
      /differs from the shared prefix/,
    );
    const inside = data.map((d) => ({
      ...d,
      lossFnInputs: { ...d.lossFnInputs, weights: d.lossFnInputs.weights!.map((w, t) => (t === 3 ? 1 : w)) },
    }));
    expect(() => engine.fullForwardBackward(inside, "cross_entropy", {}, prefix)).toThrow(/inside the shared prefix/);
    expect(() => engine.forward(null, data, "reverse_kl", {}, prefix)).toThrow(/does not train after a shared prefix/);
  });

  it("the threaded kernels give the reference kernels' gradients after a 100-token prefix", async () => {
    const fast = await createKernels({ threads: 2 });
    try {
      const big = tinyConfig({
        hiddenSize: 40,
        intermediateSize: 72,
        vocabSize: 200,
        headDim: 16,
        maxPositionEmbeddings: 256,
      });
      const tokens = randomTokens(100, big.vocabSize, 70);
      const longData = batch(tokens, [100, 90], big.vocabSize, 80);
      const [ref, got] = [createJsKernels(), fast].map((k) => {
        const e = randomEngine(k, big, 7, 0.3);
        e.createFullTraining();
        return gradsOf(e, longData, e.prefillShared(null, tokens));
      });
      for (const [name, g] of Object.entries(ref!)) {
        let scale = 0,
          diff = 0;
        for (let i = 0; i < g.length; i++) {
          scale = Math.max(scale, Math.abs(g[i]!));
          diff = Math.max(diff, Math.abs(g[i]! - got![name]![i]!));
        }
        expect(scale, name).toBeGreaterThan(0);
        expect(diff / scale, name).toBeLessThan(1e-4);
      }
    } finally {
      fast.dispose();
    }
  });
});
