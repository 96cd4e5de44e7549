/**
 * The embedded sampler streams: on the bundled model, whose weights number a trimmed vocabulary,
 * an observer hears the sample's tokens as Qwen3 ids, exactly the tokens the result returns.
 */
import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { getRenderer } from "@/lib/chat";
import { projectPath } from "@/lib/paths";
import { createEmbeddedBackend } from "./embedded";
import { EMBEDDED_MODEL } from "./models";
import { VocabMap } from "./vocab-map";

const MODEL_DIR = projectPath("models", "qwen3-tiny-coder");
const installed = fs.existsSync(`${MODEL_DIR}/model.safetensors`);
const backend = createEmbeddedBackend({ statesDir: projectPath(".data", "test-states-embedded-clients") });
afterAll(() => backend.close());

describe.skipIf(!installed)(
  `streaming from the bundled model (skipped only when ${MODEL_DIR}/model.safetensors is absent)`,
  () => {
    it("the observer hears Qwen3 ids, the same tokens as the result, in order", async () => {
      const renderer = await getRenderer(EMBEDDED_MODEL);
      const vocab = VocabMap.read(MODEL_DIR)!;
      const sampler = await backend.createSamplingClient({ baseModel: EMBEDDED_MODEL });
      const prompt = renderer.renderPrompt([{ role: "user", content: "List the files." }], [], {
        addGenerationPrompt: true,
      });
      const heard: number[][] = [];
      const params = { maxTokens: 48, temperature: 0.8, seed: 3, stop: renderer.stopTokens };
      const result = await sampler.sample(prompt.tokens, params, { onTokens: (tokens) => heard.push(tokens) });
      const tokens = result.sequences[0]!.tokens;
      expect(heard.flat()).toEqual(tokens);
      // Ids past the model's own numbering show the observer was not handed compact ids.
      expect(tokens.some((id) => id >= vocab.modelSize)).toBe(true);
      // Without an observer the same draw comes back; this time the prompt's keys and values come
      // from the engine's prefix cache, so the log-probs may differ in the last float digits.
      const again = (await sampler.sample(prompt.tokens, params)).sequences[0]!;
      expect(again.tokens).toEqual(tokens);
      for (const [i, lp] of again.logprobs.entries()) expect(lp).toBeCloseTo(result.sequences[0]!.logprobs[i]!, 5);
    }, 120_000);
  },
);
