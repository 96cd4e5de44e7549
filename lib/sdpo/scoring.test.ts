/**
 * The entropy-fetch budget on the bundled trimmed-vocabulary model: rows are judged at the width
 * the sampler really hands out (the model's 1,200 columns), so a 120-token completion, which at
 * Qwen3's 151,936 columns would cost 18.2 Mi floats and be refused, gets its rows and true
 * entropy; its token log-probs, read at each id's column, equal computeLogprobs'.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectPath } from "@/lib/paths";
import { createEmbeddedBackend, type EmbeddedBackend } from "@/lib/training/embedded";
import { EMBEDDED_MODEL } from "@/lib/training/models";
import { canScoreDistributions, type DistributionSamplingClient } from "@/lib/training/types";
import { QWEN3_ROWS, VocabMap } from "@/lib/training/vocab-map";
import { sliceCompletionLogprobs } from "./align";
import { ENTROPY_ROWS_BUDGET, scoreCompletion } from "./scoring";

const BUNDLED_DIR = projectPath("models", "qwen3-tiny-coder");
const T = 120;

describe.skipIf(!fs.existsSync(path.join(BUNDLED_DIR, "model.safetensors")))(
  "the entropy budget on the bundled model",
  () => {
    let backend: EmbeddedBackend;
    let sampler: DistributionSamplingClient;
    let context: number[];
    let completion: number[];

    beforeAll(async () => {
      backend = createEmbeddedBackend({ statesDir: fs.mkdtempSync(path.join(os.tmpdir(), "cc-scoring-")) });
      const s = await backend.createSamplingClient({ baseModel: EMBEDDED_MODEL });
      if (!canScoreDistributions(s)) throw new Error("the embedded sampler gives distributions");
      sampler = s;
      const ids = VocabMap.read(BUNDLED_DIR)!;
      context = ids.fromModel(Array.from({ length: 16 }, (_, i) => (37 * i + 11) % 1200));
      completion = ids.fromModel(Array.from({ length: T }, (_, i) => (53 * i + 5) % 1200));
    }, 120_000);
    afterAll(async () => {
      await backend?.close();
    });

    it("judges the budget on the real row width, and never widens the rows", async () => {
      expect(T * QWEN3_ROWS).toBeGreaterThan(ENTROPY_ROWS_BUDGET);
      expect(T * sampler.rowWidth).toBeLessThanOrEqual(ENTROPY_ROWS_BUDGET);
      const scored = await scoreCompletion(sampler, {
        contextTokens: context,
        completionTokens: completion,
        lossMode: "token",
        topK: 0,
      });
      expect(scored.rows?.vocabSize).toBe(sampler.rowWidth);
      expect(scored.rows!.logprobs.length).toBe(T * sampler.rowWidth);
      expect(scored.entropy).toBeGreaterThan(0);
      const direct = sliceCompletionLogprobs(
        await sampler.computeLogprobs([...context, ...completion]),
        context.length,
        T,
      );
      for (const [t, lp] of scored.logprobs.entries()) expect(lp).toBeCloseTo(direct[t]!, 4);
    }, 120_000);

    it("fetches no rows for a sampler whose rows would be Qwen3-wide", async () => {
      let fetched = 0;
      const wide = Object.create(sampler, {
        rowWidth: { value: QWEN3_ROWS },
        logSoftmaxRows: {
          value: (...args: Parameters<DistributionSamplingClient["logSoftmaxRows"]>) => {
            fetched++;
            return sampler.logSoftmaxRows(...args);
          },
        },
      }) as DistributionSamplingClient;
      const scored = await scoreCompletion(wide, {
        contextTokens: context,
        completionTokens: completion,
        lossMode: "token",
        topK: 0,
      });
      expect(fetched).toBe(0);
      expect(scored.rows).toBeUndefined();
      expect(scored.logprobs).toHaveLength(T);
    }, 120_000);
  },
);
