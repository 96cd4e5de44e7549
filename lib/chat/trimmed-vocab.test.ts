import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createQwen3Renderer } from "./qwen3";
import { loadQwen3Tokenizer, type Tokenizer } from "./tokenizer";
import { TrimmedVocab, loadQwen3ByteLevel, withTrimmedVocab, type ByteLevel } from "./trimmed-vocab";
import type { Message, ToolSpec } from "./types";

let tokenizer: Tokenizer;
let bytes: ByteLevel;
let vocab: TrimmedVocab;

const KEPT_TEXT = "def total_apples(a, b):\n    return a + b\n";

beforeAll(async () => {
  [tokenizer, bytes] = await Promise.all([loadQwen3Tokenizer(), loadQwen3ByteLevel()]);
  vocab = TrimmedVocab.build(tokenizer.encode(KEPT_TEXT), tokenizer, bytes);
});

describe("TrimmedVocab", () => {
  it("keeps the used ids, the format's special tokens and all 256 byte tokens, ascending", () => {
    for (const id of tokenizer.encode(KEPT_TEXT)) expect(vocab.has(id)).toBe(true);
    for (const special of [
      "<|im_start|>",
      "<|im_end|>",
      "<tool_call>",
      "</tool_call>",
      "<tool_response>",
      "</tool_response>",
    ]) {
      expect(vocab.has(tokenizer.idOf(special))).toBe(true);
    }
    for (let b = 0; b < 256; b++) expect(vocab.has(bytes.byteToken(b))).toBe(true);
    expect([...vocab.ids]).toEqual([...vocab.ids].sort((a, b) => a - b));
    expect(new Set(vocab.ids).size).toBe(vocab.size);
  });

  it("maps Qwen3 ids to compact ids and back", () => {
    const ids = tokenizer.encode(KEPT_TEXT);
    const compact = vocab.toCompact(ids);
    expect(Math.max(...compact)).toBeLessThan(vocab.size);
    expect(vocab.toQwen(compact)).toEqual(ids);
    expect(vocab.toQwen(vocab.toCompact([...vocab.ids]))).toEqual([...vocab.ids]);
  });

  it("refuses an id it lacks until it is expanded", () => {
    const ids = tokenizer.encode("Photosynthesis happens in chloroplasts.");
    expect(ids.some((id) => !vocab.has(id))).toBe(true);
    expect(() => vocab.toCompact(ids)).toThrow(/not in the trimmed vocabulary/);
    expect(() => vocab.toQwen([vocab.size])).toThrow(/out of range/);
  });

  it("encodes every single byte as its own in-vocabulary token", () => {
    for (let b = 0; b < 256; b++) {
      const id = bytes.byteToken(b);
      expect(bytes.tokenBytes(id)).toEqual([b]);
    }
  });

  it("expands out-of-vocabulary tokens into byte tokens that decode to the same text", () => {
    for (const text of [
      "Photosynthesis happens in chloroplasts.",
      "naïve café — 数据 🚀",
      "<|im_end|> inside text",
      "\t\r\n  mixed whitespace",
    ]) {
      const ids = tokenizer.encode(text);
      const expanded = vocab.expandOov(ids);
      expect(expanded.every((id) => vocab.has(id))).toBe(true);
      expect(expanded.length).toBeGreaterThan(ids.length);
      expect(tokenizer.decode(expanded)).toBe(text);
      expect(vocab.toQwen(vocab.toCompact(expanded))).toEqual(expanded);
    }
  });

  it("leaves in-vocabulary ids untouched", () => {
    const ids = tokenizer.encode(KEPT_TEXT);
    expect(vocab.expandOov(ids)).toEqual(ids);
  });

  it("saves to and loads from vocab.json unchanged", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "vocab-"));
    try {
      const file = path.join(dir, "vocab.json");
      await vocab.save(file);
      const loaded = await TrimmedVocab.load(file);
      expect([...loaded.ids]).toEqual([...vocab.ids]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects a vocab.json that is not ascending or lacks byte tokens", () => {
    expect(() => TrimmedVocab.fromJSON({ tokenizer: "qwen3", ids: [5, 3] }, bytes)).toThrow(/ascending/);
    expect(() => TrimmedVocab.fromJSON({ tokenizer: "qwen3", ids: [1, 2, 3] }, bytes)).toThrow(/byte token/);
  });
});

describe("withTrimmedVocab", () => {
  const tools: ToolSpec[] = [
    {
      name: "read",
      description: "Read a file.",
      parameters: { type: "object", properties: { path: { type: "string" } } },
    },
  ];
  const messages: Message[] = [
    { role: "system", content: "You are a coding agent." },
    { role: "user", content: "Résumé the file, s'il vous plaît." },
    { role: "assistant", content: "", toolCalls: [{ id: "c1", name: "read", arguments: { path: "naïve.py" } }] },
    { role: "tool", toolCallId: "c1", name: "read", content: "1| print('héllo')" },
  ];

  it("renders only in-vocabulary ids with the same text and per-token weights", () => {
    const renderer = createQwen3Renderer(tokenizer);
    const trimmed = withTrimmedVocab(renderer, vocab);
    const plain = renderer.renderPrompt(messages, tools, { addGenerationPrompt: true });
    const rendered = trimmed.renderPrompt(messages, tools, { addGenerationPrompt: true });
    expect(rendered.tokens.every((id) => vocab.has(id))).toBe(true);
    expect(rendered.tokens.length).toBe(rendered.weights.length);
    expect(tokenizer.decode(rendered.tokens)).toBe(tokenizer.decode(plain.tokens));
    const weighted = (p: { tokens: number[]; weights: number[] }) =>
      tokenizer.decode(p.tokens.filter((_, i) => p.weights[i] === 1));
    expect(weighted(rendered)).toBe(weighted(plain));
    expect(weighted(rendered)).toContain("naïve.py");
  });

  it("parses an expanded completion into the same tool call", () => {
    const trimmed = withTrimmedVocab(createQwen3Renderer(tokenizer), vocab);
    const completion = vocab.expandOov(
      tokenizer.encodeWithSpecials(
        '<tool_call>\n{"name": "read", "arguments": {"path": "naïve.py"}}\n</tool_call><|im_end|>',
        ["<tool_call>", "</tool_call>", "<|im_end|>"],
      ),
    );
    const parsed = trimmed.parseCompletion(completion, "stop");
    expect(parsed.kind).toBe("message");
    if (parsed.kind === "message")
      expect(parsed.message.toolCalls?.map((c) => [c.name, c.arguments])).toEqual([["read", { path: "naïve.py" }]]);
  });
});
