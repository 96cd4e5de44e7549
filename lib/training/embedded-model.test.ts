/**
 * The bundled model as the app runs it: the embedded backend's default catalogue, the model's
 * trimmed-vocabulary renderer, the agent's system prompt and tools. A newcomer's first task on the
 * example workspace ("fix the failing test" in examples/calculator) must get one valid call of a
 * tool that looks around or runs the tests, decoded greedily so the result is reproducible.
 */
import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { buildSystemPrompt } from "@/lib/agent/system-prompt";
import { getRenderer } from "@/lib/chat";
import { TOOL_SPECS, TOOLS, isToolName } from "@/lib/tools";
import { projectPath } from "@/lib/paths";
import { createEmbeddedBackend } from "./embedded";
import { EMBEDDED_MODEL } from "./models";
import { VocabMap } from "./vocab-map";

const MODEL_DIR = projectPath("models", "qwen3-tiny-coder");
const installed = fs.existsSync(`${MODEL_DIR}/model.safetensors`);
const backend = createEmbeddedBackend({ statesDir: projectPath(".data", "test-states-embedded-model") });
afterAll(() => backend.close());

describe.skipIf(!installed)(`the bundled model (skipped only when ${MODEL_DIR}/model.safetensors is absent)`, () => {
  it("its renderer spells text outside the model's vocabulary in byte tokens the model has", async () => {
    const renderer = await getRenderer(EMBEDDED_MODEL);
    const vocab = VocabMap.read(MODEL_DIR)!;
    const prompt = renderer.renderPrompt(
      [{ role: "user", content: "Rename Zephyrine to 量子 in the quarterly reports" }],
      TOOL_SPECS,
      { addGenerationPrompt: true },
    );
    expect(() => vocab.toModel(prompt.tokens)).not.toThrow();
    expect(renderer.tokenizer.decode(prompt.tokens)).toContain("Rename Zephyrine to 量子 in the quarterly reports");
    expect(renderer.stopTokens).toContain(renderer.tokenizer.idOf("<|im_end|>"));
  });

  it("answers a first 'fix the failing test' on the example workspace with a valid call to glob, grep, read or bash", async () => {
    const renderer = await getRenderer(EMBEDDED_MODEL);
    const sampler = await backend.createSamplingClient({ baseModel: EMBEDDED_MODEL });
    const messages = [
      { role: "system" as const, content: buildSystemPrompt({ cwd: "/workspace" }) },
      { role: "user" as const, content: "Fix the failing test." },
    ];
    const prompt = renderer.renderPrompt(messages, TOOL_SPECS, { addGenerationPrompt: true });
    const result = await sampler.sample(prompt.tokens, {
      maxTokens: 160,
      temperature: 0,
      seed: 7,
      stop: renderer.stopTokens,
    });
    const seq = result.sequences[0]!;
    const parsed = renderer.parseCompletion(seq.tokens, seq.stopReason, { tools: TOOL_SPECS });
    expect(seq.stopReason, parsed.text).toBe("stop");
    expect(parsed.kind, parsed.text).toBe("message");
    if (parsed.kind !== "message") return;
    const calls = parsed.message.toolCalls ?? [];
    expect(calls, parsed.text).toHaveLength(1);
    const call = calls[0]!;
    expect(["glob", "grep", "read", "bash"]).toContain(call.name);
    expect(isToolName(call.name)).toBe(true);
    if (!isToolName(call.name)) return;
    const checked = TOOLS[call.name].inputSchema.safeParse(call.arguments);
    expect(checked.success, JSON.stringify(call.arguments)).toBe(true);
  }, 180_000);
});
