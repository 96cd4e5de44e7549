/**
 * The TrainingBackend contract as one suite that any backend must pass: seeded sampling, log-probs,
 * every loss the backend claims (and refusal of the ones it does not), Adam steps, exact state
 * save/load, and frozen samplers. `referenceRun` replays one fixed script and returns every number
 * it produced, so two paths to the same engine can be compared number for number.
 */
import { describe, expect, it } from "vitest";
import { REFERENCE_FIXTURE_DIR, REFERENCE_FIXTURE_VOCAB } from "../engine/reference-fixture";
import type { AdamParams, BackendCapabilities, Datum, SamplingClient, TrainingBackend, TrainingClient } from "./types";
import { canScoreDistributions, hasTeacherOperations } from "./types";

/** The reference fixture: a tiny random Qwen3 saved by Hugging Face (vocabulary 384). */
export const FIXTURE_DIR = REFERENCE_FIXTURE_DIR;
export const FIXTURE_VOCAB = REFERENCE_FIXTURE_VOCAB;

export const ADAM: AdamParams = { learningRate: 2e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8 };
export const PROMPT = [5, 17, 42, 99, 7, 250, 3, 61];
const SEQUENCE = [...PROMPT, 12, 300, 44, 8, 190, 77];
const COMPLETION_START = PROMPT.length;

export interface ContractTarget {
  backend: TrainingBackend;
  baseModel: string;
}

/** Capabilities as the contract reads them: a backend that states none offers Tinker's. */
function capabilitiesOf(backend: TrainingBackend): BackendCapabilities {
  return (
    backend.capabilities ?? {
      losses: ["cross_entropy", "importance_sampling", "ppo", "cispo"],
      importanceSamplingClipRatio: false,
      teacherModes: ["student", "frozen"],
    }
  );
}

/** Cross-entropy on the completion of SEQUENCE (shifted: position i predicts token i+1). */
export function ceDatum(sequence = SEQUENCE): Datum {
  return {
    modelInput: sequence.slice(0, -1),
    lossFnInputs: {
      targetTokens: sequence.slice(1),
      weights: sequence.slice(1).map((_, i) => (i + 1 >= COMPLETION_START ? 1 : 0)),
    },
  };
}

/** Importance sampling on a sampled completion: q = the sampler's log-probs, advantage 0 on the prompt. */
export function isDatum(prompt: number[], tokens: number[], sampled: number[], advantage: number): Datum {
  const full = [...prompt, ...tokens];
  const N = full.length - 1;
  const promptPositions = prompt.length - 1;
  return {
    modelInput: full.slice(0, -1),
    lossFnInputs: {
      targetTokens: full.slice(1),
      logprobs: Array.from({ length: N }, (_, i) => (i < promptPositions ? 0 : sampled[i - promptPositions])),
      advantages: Array.from({ length: N }, (_, i) => (i < promptPositions ? 0 : advantage)),
    },
  };
}

function closeTo(actual: number[], expected: number[], tolerance = 1e-5): void {
  expect(actual).toHaveLength(expected.length);
  for (const [i, a] of actual.entries())
    expect(Math.abs(a - expected[i])).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected[i])));
}

async function trainOnce(client: TrainingClient): Promise<void> {
  await client.forwardBackward([ceDatum()], "cross_entropy");
  await client.optimStep(ADAM);
}

/** One fixed script; every number it produces, for comparing two paths to the same engine. */
export async function referenceRun({ backend, baseModel }: ContractTarget) {
  const trainer = await backend.createTrainingClient({ baseModel, rank: 4, seed: 3 });
  const sampler = await trainer.saveWeightsForSampler();
  const sampled = await sampler.sample(PROMPT, { maxTokens: 6, temperature: 1, seed: 11, numSamples: 2 });
  const scored = await sampler.computeLogprobs(SEQUENCE);
  const ce = await trainer.forwardBackward([ceDatum()], "cross_entropy");
  const seq = sampled.sequences[0];
  const is = await trainer.forwardBackward([isDatum(PROMPT, seq.tokens, seq.logprobs, 0.5)], "importance_sampling");
  const step = await trainer.optimStep(ADAM);
  await trainOnce(trainer);
  const after = await trainer.saveWeightsForSampler();
  return {
    sampled: sampled.sequences,
    scored,
    ce: { loss: ce.metrics["loss:sum"], logprobs: ce.lossFnOutputs[0].logprobs },
    is: { loss: is.metrics["loss:sum"], logprobs: is.lossFnOutputs[0].logprobs },
    gradNorm: step.metrics["optim/grad_norm"],
    scoredAfter: await after.computeLogprobs(SEQUENCE),
    sampledAfter: (await after.sample(PROMPT, { maxTokens: 6, temperature: 0.8, seed: 5 })).sequences,
  };
}

export type ReferenceNumbers = Awaited<ReturnType<typeof referenceRun>>;

/** Two runs agree: identical tokens, numbers equal within float tolerance. */
export function expectSameNumbers(a: ReferenceNumbers, b: ReferenceNumbers, tolerance = 1e-5): void {
  const tokens = (r: ReferenceNumbers) => [r.sampled.map((s) => s.tokens), r.sampledAfter.map((s) => s.tokens)];
  expect(tokens(a)).toEqual(tokens(b));
  closeTo(
    a.sampled.flatMap((s) => s.logprobs),
    b.sampled.flatMap((s) => s.logprobs),
    tolerance,
  );
  closeTo(a.scored.slice(1) as number[], b.scored.slice(1) as number[], tolerance);
  closeTo([a.ce.loss, a.is.loss], [b.ce.loss, b.is.loss], tolerance);
  closeTo([...a.ce.logprobs, ...a.is.logprobs], [...b.ce.logprobs, ...b.is.logprobs], tolerance);
  if (a.gradNorm !== undefined && b.gradNorm !== undefined) closeTo([a.gradNorm], [b.gradNorm], tolerance);
  closeTo(a.scoredAfter.slice(1) as number[], b.scoredAfter.slice(1) as number[], tolerance);
}

/** Registers the contract tests for the backend `target()` returns (set up in the caller's beforeAll). */
export function backendContract(name: string, target: () => ContractTarget): void {
  describe(`the training-backend contract: ${name}`, () => {
    const create = (rank = 4, seed = 1) =>
      target().backend.createTrainingClient({ baseModel: target().baseModel, rank, seed });

    it("lists the model it serves", async () => {
      const models = await target().backend.listModels();
      expect(models.map((m) => m.modelName)).toContain(target().baseModel);
    });

    it("sampling with the same seed gives the same tokens, and each token's log-prob is what computeLogprobs says", async () => {
      const sampler = await (await create()).saveWeightsForSampler();
      const params = { maxTokens: 8, temperature: 1, seed: 7, numSamples: 2 };
      const first = await sampler.sample(PROMPT, params);
      expect(await sampler.sample(PROMPT, params)).toEqual(first);
      expect(first.sequences).toHaveLength(2);
      const others = await Promise.all([8, 9, 10].map((seed) => sampler.sample(PROMPT, { ...params, seed })));
      expect(
        others.some((o) => JSON.stringify(o.sequences[0].tokens) !== JSON.stringify(first.sequences[0].tokens)),
      ).toBe(true);
      for (const seq of first.sequences) {
        expect(seq.tokens).toHaveLength(8);
        expect(seq.stopReason).toBe("length");
        const scored = await sampler.computeLogprobs([...PROMPT, ...seq.tokens]);
        expect(scored[0]).toBeNull();
        expect(scored).toHaveLength(PROMPT.length + seq.tokens.length);
        closeTo(scored.slice(PROMPT.length) as number[], seq.logprobs, 1e-4);
      }
    });

    it("a stop token ends a sample and is included", async () => {
      const sampler = await (await create()).saveWeightsForSampler();
      const free = (await sampler.sample(PROMPT, { maxTokens: 8, temperature: 0 })).sequences[0];
      const stopped = (await sampler.sample(PROMPT, { maxTokens: 8, temperature: 0, stop: [free.tokens[2]] }))
        .sequences[0];
      const at = free.tokens.indexOf(free.tokens[2]);
      expect(stopped).toMatchObject({ stopReason: "stop", tokens: free.tokens.slice(0, at + 1) });
    });

    it("cross_entropy returns the learner's log-probs and loss:sum = −Σ w·lp", async () => {
      const trainer = await create();
      const expected = await (await trainer.saveWeightsForSampler()).computeLogprobs(SEQUENCE);
      const datum = ceDatum();
      const out = await trainer.forwardBackward([datum], "cross_entropy");
      closeTo(out.lossFnOutputs[0].logprobs, expected.slice(1) as number[]);
      const loss = -out.lossFnOutputs[0].logprobs.reduce((s, lp, i) => s + datum.lossFnInputs.weights![i] * lp, 0);
      closeTo([out.metrics["loss:sum"]], [loss]);
    });

    it("importance_sampling's loss:sum = −Σ exp(lp − q)·A over a sampled completion", async () => {
      const trainer = await create();
      const seq = (
        await (await trainer.saveWeightsForSampler()).sample(PROMPT, { maxTokens: 5, temperature: 1, seed: 2 })
      ).sequences[0];
      const datum = isDatum(
        PROMPT,
        seq.tokens,
        seq.logprobs.map((q) => q - 0.3),
        0.7,
      );
      const out = await trainer.forwardBackward([datum], "importance_sampling");
      const { logprobs: q, advantages: A } = datum.lossFnInputs;
      const lp = out.lossFnOutputs[0].logprobs;
      closeTo([out.metrics["loss:sum"]], [-lp.reduce((s, l, t) => s + Math.exp(l - q![t]) * A![t], 0)]);
      // The sampler and the learner share weights: on the completion the ratio is exp(0.3).
      closeTo(lp.slice(PROMPT.length - 1), seq.logprobs, 1e-4);
    });

    it("losses outside the backend's capabilities are refused, the ones inside run", async () => {
      const caps = capabilitiesOf(target().backend);
      const trainer = await create();
      const seq = (
        await (await trainer.saveWeightsForSampler()).sample(PROMPT, { maxTokens: 4, temperature: 1, seed: 4 })
      ).sequences[0];
      const datum = () =>
        isDatum(
          PROMPT,
          seq.tokens,
          seq.logprobs.map((q) => q - 1),
          1,
        );
      const clipped = trainer.forwardBackward([datum()], "importance_sampling", { clipRatio: 1.5 });
      if (!caps.importanceSamplingClipRatio) {
        await expect(clipped).rejects.toThrow(/clipRatio/);
        return;
      }
      // ratio = e ≈ 2.72 on every completion token, capped at 1.5.
      const out = await clipped;
      const completion = datum().lossFnInputs.advantages!.filter((a) => a !== 0).length;
      closeTo([out.metrics["loss:sum"]], [-1.5 * completion], 1e-4);
    });

    it("the KL losses match Σ p_s (log p_s − log p_t) against a teacher's rows, or are refused", async () => {
      const backend = target().backend;
      const trainer = await create();
      if (!capabilitiesOf(backend).losses.includes("reverse_kl")) {
        const rows = new Float32Array((SEQUENCE.length - 1) * FIXTURE_VOCAB);
        await expect(
          trainer.forwardBackward(
            [{ ...ceDatum(), lossFnInputs: { ...ceDatum().lossFnInputs, teacherLogprobs: rows } }],
            "reverse_kl",
          ),
        ).rejects.toThrow();
        return;
      }
      expect(hasTeacherOperations(trainer)).toBe(true);
      if (!hasTeacherOperations(trainer)) return;
      const teacher = await trainer.snapshotTeacher();
      await trainOnce(trainer);
      await trainOnce(trainer);
      const student = await trainer.saveWeightsForSampler();
      expect(canScoreDistributions(student)).toBe(true);
      if (!canScoreDistributions(student)) return;
      const N = SEQUENCE.length - 1;
      const positions = Array.from({ length: N }, (_, i) => i);
      const t = await teacher.logSoftmaxRows(SEQUENCE, positions);
      const s = await student.logSoftmaxRows(SEQUENCE, positions);
      const V = t.length / N;
      const weights = ceDatum().lossFnInputs.weights!;
      let expected = 0;
      for (let p = 0; p < N; p++) {
        if (weights[p] === 0) continue;
        for (let v = 0; v < V; v++) expected += Math.exp(s[p * V + v]) * (s[p * V + v] - t[p * V + v]);
      }
      expect(expected).toBeGreaterThan(0);
      const full = await trainer.forwardBackward(
        [{ ...ceDatum(), lossFnInputs: { ...ceDatum().lossFnInputs, teacherLogprobs: Float32Array.from(t) } }],
        "reverse_kl",
      );
      closeTo([full.metrics["loss:sum"]], [expected], 1e-4);
      // Rows for the weighted (completion) positions only, from teacherRowsStart, give the same loss.
      const start = COMPLETION_START - 1;
      const windowed = await trainer.forwardBackward(
        [
          {
            ...ceDatum(),
            lossFnInputs: { ...ceDatum().lossFnInputs, teacherRowsStart: start, teacherLogprobs: t.slice(start * V) },
          },
        ],
        "reverse_kl",
      );
      closeTo([windowed.metrics["loss:sum"]], [expected], 1e-4);
      await expect(
        trainer.forwardBackward(
          [
            {
              ...ceDatum(),
              lossFnInputs: {
                ...ceDatum().lossFnInputs,
                teacherRowsStart: start + 1,
                teacherLogprobs: t.slice((start + 1) * V),
              },
            },
          ],
          "reverse_kl",
        ),
      ).rejects.toThrow(`position ${start} has weight 1`);
      // Top-k over the whole vocabulary is the full KL; a smaller k still gives a finite loss.
      for (const k of [V, 8]) {
        const top = await teacher.topkLogprobs(SEQUENCE, positions, k);
        const out = await trainer.forwardBackward(
          [
            {
              ...ceDatum(),
              lossFnInputs: {
                ...ceDatum().lossFnInputs,
                teacherTopkIds: top.ids.slice(),
                teacherTopkLogprobs: top.logprobs.slice(),
              },
            },
          ],
          "topk_reverse_kl",
        );
        const win = await trainer.forwardBackward(
          [
            {
              ...ceDatum(),
              lossFnInputs: {
                ...ceDatum().lossFnInputs,
                teacherRowsStart: start,
                teacherTopkIds: top.ids.slice(start * k),
                teacherTopkLogprobs: top.logprobs.slice(start * k),
              },
            },
          ],
          "topk_reverse_kl",
        );
        closeTo([win.metrics["loss:sum"]], [out.metrics["loss:sum"]], 1e-6);
        if (k === V) closeTo([out.metrics["loss:sum"]], [expected], 1e-4);
        else expect(out.metrics["loss:sum"]).toBeGreaterThanOrEqual(0);
      }
    });

    it("optimizer steps lower the cross-entropy loss", async () => {
      const trainer = await create();
      const losses: number[] = [];
      for (let i = 0; i < 4; i++) {
        losses.push((await trainer.forwardBackward([ceDatum()], "cross_entropy")).metrics["loss:sum"]);
        await trainer.optimStep(ADAM);
      }
      expect(losses[3]).toBeLessThan(losses[0]);
    });

    it("a saved state restores weights and optimizer exactly: the next step equals the step without save/load", async () => {
      const trainer = await create(4, 5);
      await trainOnce(trainer);
      await trainOnce(trainer);
      const saved = await trainer.saveState(`exact-${Date.now()}`);
      const atSave = await (await trainer.saveWeightsForSampler()).computeLogprobs(SEQUENCE);
      const next = async (client: TrainingClient) => {
        const out = await client.forwardBackward([ceDatum()], "cross_entropy");
        await client.optimStep(ADAM);
        return {
          loss: out.metrics["loss:sum"],
          after: await (await client.saveWeightsForSampler()).computeLogprobs(SEQUENCE),
        };
      };
      const straight = await next(trainer);
      await trainer.loadState(saved);
      expect(await next(trainer)).toEqual(straight);

      const resumed = await target().backend.createTrainingClient({
        baseModel: target().baseModel,
        rank: 4,
        fromState: saved,
      });
      expect(resumed.rank).toBe(4);
      expect(await next(resumed)).toEqual(straight);

      // Weights only: the same weights, fresh Adam moments, so a different next step.
      await trainer.loadState(saved, { weightsOnly: true });
      expect(await (await trainer.saveWeightsForSampler()).computeLogprobs(SEQUENCE)).toEqual(atSave);
      expect((await next(trainer)).after).not.toEqual(straight.after);
    });

    it("a sampler handed out before a step keeps the old weights; a new one has the new weights", async () => {
      const trainer = await create();
      const old = await trainer.saveWeightsForSampler();
      const before = await old.computeLogprobs(SEQUENCE);
      await trainOnce(trainer);
      await trainOnce(trainer);
      const fresh = await trainer.saveWeightsForSampler();
      expect(await old.computeLogprobs(SEQUENCE)).toEqual(before);
      expect(await fresh.computeLogprobs(SEQUENCE)).not.toEqual(before);
    });

    it("a named sampler reopens by its path, and the base model samples without LoRA", async () => {
      const trainer = await create();
      await trainOnce(trainer);
      await trainOnce(trainer);
      const named: SamplingClient = await trainer.saveWeightsForSampler(`named-${Date.now()}`);
      expect(named.modelPath).toEqual(expect.any(String));
      const reopened = await target().backend.createSamplingClient({ modelPath: named.modelPath! });
      expect(await reopened.computeLogprobs(SEQUENCE)).toEqual(await named.computeLogprobs(SEQUENCE));
      // A new adapter starts with B = 0, so it equals the base model.
      const base = await target().backend.createSamplingClient({ baseModel: target().baseModel });
      const untrained = await (await create(4, 9)).saveWeightsForSampler();
      expect(await base.computeLogprobs(SEQUENCE)).toEqual(await untrained.computeLogprobs(SEQUENCE));
      expect(await base.computeLogprobs(SEQUENCE)).not.toEqual(await named.computeLogprobs(SEQUENCE));
    });

    it("an unknown base model is refused with the models that exist", async () => {
      await expect(target().backend.createTrainingClient({ baseModel: "no/such-model", rank: 4 })).rejects.toThrow(
        new RegExp(target().baseModel.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")),
      );
    });
  });
}
