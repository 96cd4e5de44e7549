/**
 * Measures the Qwen3 tokenizer and renderer: first-load time (import + build of the bundled
 * vocabulary), encode/decode throughput on source code, and the time to render a long agent
 * conversation. Prints one JSON object. Run: `npx tsx lib/chat/bench-tokenizer.ts`.
 */
import { performance } from "node:perf_hooks";
import { createQwen3Renderer } from "./qwen3";
import { loadQwen3Tokenizer } from "./tokenizer";
import type { Message, ToolSpec } from "./types";

function best(runs: number, fn: () => void): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

const t0 = performance.now();
const tok = await loadQwen3Tokenizer();
const loadMs = performance.now() - t0;

const code =
  "export function add(a: number, b: number): number {\n  // 合計を返す — sum ü\n  return a + b;\n}\n\n" +
  "def parse(line):\n    key, _, value = line.partition('=')\n    return key.strip(), value.strip()\n";
const text = code.repeat(Math.ceil(100_000 / code.length));
const coldStart = performance.now();
const ids = tok.encode(text);
const coldEncodeMs = performance.now() - coldStart;
const encodeMs = best(5, () => tok.encode(text));
const decodeMs = best(5, () => tok.decode(ids));
const shortMs = best(5, () => {
  for (let i = 0; i < 1000; i++) tok.encode(`line ${i}: const x${i} = f(${i});`);
});

const renderer = createQwen3Renderer(tok);
const tools: ToolSpec[] = ["read", "write", "edit", "edit_lines", "glob", "grep", "bash"].map((name) => ({
  name,
  description: `The ${name} tool.`,
  parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
}));
const conversation: Message[] = [
  { role: "system", content: "You are a coding agent." },
  { role: "user", content: "Fix the bug." },
];
for (let i = 0; i < 50; i++) {
  conversation.push({
    role: "assistant",
    content: `Step ${i}.`,
    toolCalls: [{ id: `c${i}`, name: "read", arguments: { path: `src/f${i}.ts` } }],
  });
  conversation.push({ role: "tool", toolCallId: `c${i}`, name: "read", content: code.repeat(10) });
}
let promptTokens = 0;
const renderMs = best(5, () => {
  promptTokens = renderer.renderPrompt(conversation, tools, { addGenerationPrompt: true }).tokens.length;
});

console.log(
  JSON.stringify({
    "tokenizer/load_ms": Math.round(loadMs),
    "encode/chars": text.length,
    "encode/tokens": ids.length,
    "encode/cold_ms": +coldEncodeMs.toFixed(1),
    "encode/warm_ms": +encodeMs.toFixed(1),
    "encode/tokens_per_s": Math.round(ids.length / (encodeMs / 1000)),
    "decode/tokens_per_s": Math.round(ids.length / (decodeMs / 1000)),
    "encode/short_calls_per_s": Math.round(1000 / (shortMs / 1000)),
    "render/turns": conversation.length,
    "render/tokens": promptTokens,
    "render/ms": +renderMs.toFixed(1),
  }),
);
