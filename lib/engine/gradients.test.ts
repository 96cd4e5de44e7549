/**
 * Every loss's LoRA gradients against central finite differences of the loss itself, on a small
 * random model with all seven projections adapted (so the check runs through attention, rotary,
 * q/k norms, SwiGLU and every norm's backward). Directional derivatives along random unit
 * directions keep float32 rounding far below the tolerance.
 */
import { describe, expect, it } from "vitest";
import { createJsKernels } from "./kernels/js-kernels";
import { Rng } from "./sampling";
import { randomEngine, randomizeAdapter, randomTokens, tinyConfig } from "./testing";
import type { Datum, LossFnConfig, LossFnName } from "../training/types";

const config = tinyConfig();
const V = config.vocabSize;
const engine = randomEngine(createJsKernels(), config);
engine.createAdapter("p", { rank: 3, alpha: 6 });
randomizeAdapter(engine, "p", 7);

/** Two datums of different lengths; per-position inputs chosen away from the clip boundaries. */
function datums(): Datum[] {
  const rng = new Rng(3);
  return [11, 7].map((n, d) => {
    const seq = randomTokens(n + 1, V, 100 + d);
    const modelInput = seq.slice(0, -1);
    const targetTokens = seq.slice(1);
    const lps = engine.computeLogprobs("p", seq).slice(1) as number[];
    const offsets = [0.5, -0.05, 0.05, -0.5]; // ratios 1.65, 0.95, 1.05, 0.61: ppo clips t%4 = 0 and 3
    const teacher = new Float32Array(n * V);
    for (let i = 0; i < teacher.length; i++) teacher[i] = rng.normal() * 2;
    for (let t = 0; t < n; t++) {
      let max = -Infinity,
        sum = 0;
      for (let j = 0; j < V; j++) max = Math.max(max, teacher[t * V + j]);
      for (let j = 0; j < V; j++) sum += Math.exp(teacher[t * V + j] - max);
      for (let j = 0; j < V; j++) teacher[t * V + j] -= max + Math.log(sum);
    }
    const K = 5;
    const ids = new Int32Array(n * K);
    const topLp = new Float32Array(n * K);
    for (let t = 0; t < n; t++) {
      const perm = randomTokens(V, 1 << 30, t + 17 * d)
        .map((r, i) => [r, i])
        .sort((a, b) => a[0] - b[0])
        .slice(0, K);
      perm.forEach(([, id], s) => {
        ids[t * K + s] = id;
        topLp[t * K + s] = -1 - s * 0.7;
      });
    }
    return {
      modelInput,
      lossFnInputs: {
        targetTokens,
        weights: targetTokens.map((_, t) => (t < 2 ? 0 : 0.5 + (t % 3) * 0.5)),
        advantages: targetTokens.map((_, t) => (t < 2 ? 0 : t % 2 === 0 ? 1.3 : -0.7)),
        logprobs: lps.map((lp, t) => lp - offsets[t % 4]),
        teacherLogprobs: teacher,
        teacherTopkIds: ids,
        teacherTopkLogprobs: topLp,
      },
    };
  });
}

const data = datums();
const names = Object.keys(engine.adapterTensors("p"));

function lossAt(loss: LossFnName, cfg: LossFnConfig, tensors: Record<string, Float32Array>): number {
  engine.setAdapterTensors("p", tensors);
  return engine.forward("p", data, loss, cfg).metrics["loss:sum"];
}

/** Analytic vs finite-difference derivative along a random unit direction over `which` tensors. */
function directional(
  loss: LossFnName,
  cfg: LossFnConfig,
  which: string[],
  seed: number,
): { analytic: number; numeric: number } {
  const base = engine.adapterTensors("p");
  engine.zeroGrad("p");
  engine.forwardBackward("p", data, loss, cfg);
  const grads = engine.adapterTensors("p", "grad");
  engine.zeroGrad("p");
  const rng = new Rng(seed);
  const dir: Record<string, Float32Array> = {};
  let norm = 0;
  for (const n of which) {
    dir[n] = Float32Array.from(base[n], () => rng.normal());
    for (const x of dir[n]) norm += x * x;
  }
  norm = Math.sqrt(norm);
  let analytic = 0;
  for (const n of which) for (let i = 0; i < dir[n].length; i++) analytic += (grads[n][i] * dir[n][i]) / norm;
  const eps = 1e-2;
  const shifted = (sign: number): Record<string, Float32Array> => {
    const out: Record<string, Float32Array> = {};
    for (const n of names)
      out[n] = which.includes(n) ? Float32Array.from(base[n], (x, i) => x + (sign * eps * dir[n][i]) / norm) : base[n];
    return out;
  };
  const numeric = (lossAt(loss, cfg, shifted(1)) - lossAt(loss, cfg, shifted(-1))) / (2 * eps);
  engine.setAdapterTensors("p", base);
  return { analytic, numeric };
}

function expectClose({ analytic, numeric }: { analytic: number; numeric: number }, label: string): void {
  expect(Math.abs(analytic - numeric), `${label}: analytic ${analytic} vs numeric ${numeric}`).toBeLessThan(
    3e-4 + 2e-3 * Math.abs(numeric),
  );
}

describe("LoRA gradients agree with finite differences of the loss", () => {
  it("cross_entropy, for every LoRA tensor of every layer separately", () => {
    for (const [i, n] of names.entries()) expectClose(directional("cross_entropy", {}, [n], 1000 + i), n);
  });

  const cases: Array<[LossFnName, LossFnConfig]> = [
    ["cross_entropy", {}],
    ["importance_sampling", {}],
    ["importance_sampling", { clipRatio: 1.2 }],
    ["ppo", {}],
    ["reverse_kl", {}],
    ["topk_reverse_kl", {}],
  ];
  for (const [loss, cfg] of cases) {
    it(`${loss} ${JSON.stringify(cfg)} along three random directions over all tensors`, () => {
      for (let s = 0; s < 3; s++) expectClose(directional(loss, cfg, names, 50 + s), `${loss} direction ${s}`);
    });
  }

  it("cispo's gradient is cross-entropy's with weights clip(ratio)·A held constant (its stop-gradient)", () => {
    const cfg = { clipLowThreshold: 0.9, clipHighThreshold: 1.3 };
    const gradsOf = (loss: LossFnName, ds: Datum[], c: LossFnConfig): Record<string, Float32Array> => {
      engine.zeroGrad("p");
      engine.forwardBackward("p", ds, loss, c);
      const g = engine.adapterTensors("p", "grad");
      engine.zeroGrad("p");
      return g;
    };
    const lps = engine.forward("p", data, "cross_entropy", {}).lossFnOutputs.map((o) => o.logprobs);
    const ceData = data.map((d, i) => ({
      modelInput: d.modelInput,
      lossFnInputs: {
        targetTokens: d.lossFnInputs.targetTokens,
        weights: lps[i].map(
          (lp, t) =>
            Math.min(
              Math.max(Math.exp(lp - d.lossFnInputs.logprobs![t]), cfg.clipLowThreshold),
              cfg.clipHighThreshold,
            ) * d.lossFnInputs.advantages![t],
        ),
      },
    }));
    const a = gradsOf("cispo", data, cfg);
    const b = gradsOf("cross_entropy", ceData, {});
    for (const n of names) for (let i = 0; i < a[n].length; i++) expect(Math.abs(a[n][i] - b[n][i])).toBeLessThan(1e-5);
  });

  it("teacher rows from the first weighted position on give the loss and gradients of the full layout", () => {
    const run = (loss: LossFnName, ds: Datum[]) => {
      engine.zeroGrad("p");
      const out = engine.forwardBackward("p", ds, loss, {});
      const grads = engine.adapterTensors("p", "grad");
      engine.zeroGrad("p");
      return { out, grads };
    };
    const start = 2; // every datum weighs positions 0 and 1 at zero
    const windowed = data.map((d) => {
      const n = d.modelInput.length;
      const K = d.lossFnInputs.teacherTopkIds!.length / n;
      return {
        modelInput: d.modelInput,
        lossFnInputs: {
          ...d.lossFnInputs,
          teacherRowsStart: start,
          teacherLogprobs: d.lossFnInputs.teacherLogprobs!.slice(start * V),
          teacherTopkIds: d.lossFnInputs.teacherTopkIds!.slice(start * K),
          teacherTopkLogprobs: d.lossFnInputs.teacherTopkLogprobs!.slice(start * K),
        },
      };
    });
    for (const loss of ["reverse_kl", "topk_reverse_kl"] as const) {
      const full = run(loss, data);
      const win = run(loss, windowed);
      expect(win.out).toEqual(full.out);
      expect(win.grads).toEqual(full.grads);
      expect(full.grads[names[0]].some((g) => g !== 0)).toBe(true);
    }
    const outside = windowed.map((d) => ({
      ...d,
      lossFnInputs: {
        ...d.lossFnInputs,
        teacherRowsStart: start + 1,
        teacherLogprobs: d.lossFnInputs.teacherLogprobs.slice(V),
      },
    }));
    expect(() => engine.forwardBackward("p", outside, "reverse_kl", {})).toThrow(
      "position 2 has weight 1.5 but teacherLogprobs covers only positions [3, 11)",
    );
    engine.zeroGrad("p");
  });

  it("gradients are not all zero for any loss (the checks above are not vacuous)", () => {
    for (const [loss, cfg] of [...cases, ["cispo", {}] as [LossFnName, LossFnConfig]]) {
      const { analytic } = directional(loss, cfg, names, 9);
      expect(Math.abs(analytic), loss).toBeGreaterThan(1e-3);
    }
  });
});
