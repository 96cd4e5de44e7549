/**
 * The Qwen3 instruct chat format (Qwen3-*-Instruct-2507, hybrid Qwen3-8B/32B…, and the embedded
 * model), exactly as tinker-api.md §8: a tools block of JSON signatures in the system turn, tool
 * calls as `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>`, tool results as
 * `<tool_response>` blocks in a user turn, and `<|im_end|>` ending each assistant turn.
 * Choices where the spec is open:
 * - consecutive tool results share one user turn (Hugging Face's template, not the cookbook's);
 * - several calls in one reply are all returned; the agent decides what to do with them;
 * - a `</tool_call>` inside a JSON string does not end the call (see `scanToolCalls`);
 * - prose after the last call is kept in `content`, joined by "\n".
 * Rendering a sampled reply back into history reproduces its tokens whenever the model wrote
 * canonical tokens and Python-style JSON (which it was trained to), so each prompt extends the
 * previous prompt plus completion (the prefix property SDPO relies on).
 */
import type { StopReason } from "@/lib/training/types";
import {
  END_OF_TEXT,
  IM_END,
  TEMPLATE_SPECIALS,
  THINK_CLOSE,
  THINK_OPEN,
  renderChatMl,
  type ChatMlFormat,
} from "./chatml";
import {
  TOOL_CALL_CLOSE,
  TOOL_CALL_OPEN,
  decodeCompletion,
  isPlainObject,
  scanToolCalls,
  withIds,
  type BodyParse,
} from "./completion";
import { pyJson } from "./py-json";
import type { Tokenizer } from "./tokenizer";
import type { AssistantMessage, ParseOptions, ParsedCompletion, Renderer, ToolSpec } from "./types";

/** The fixed tool instructions of Qwen3's chat template, around one JSON line per tool. */
const TOOLS_PREAMBLE =
  "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
  "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n";
const TOOLS_POSTAMBLE =
  "\n</tools>\n\nFor each function call, return a json object with function name and arguments " +
  'within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>';

/** One line per tool, as the template's `tool | tojson` writes the OpenAI-style wrapper. */
export function qwen3ToolLine(tool: ToolSpec): string {
  return pyJson({
    type: "function",
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  });
}

const qwen3Format: ChatMlFormat = {
  renderToolsSystem(b, systemPrompt, tools) {
    if (systemPrompt !== null) b.text(`${systemPrompt}\n\n`, 0);
    b.template(TOOLS_PREAMBLE, 0, TEMPLATE_SPECIALS)
      .text(tools.map(qwen3ToolLine).join("\n"), 0)
      .template(TOOLS_POSTAMBLE, 0, TEMPLATE_SPECIALS);
  },
  // 2507-Instruct models never think, so no empty think block is written.
  assistantPrefix: "",
  renderAssistant(b, message) {
    // A hybrid model's `<think>…</think>` stays in content; those two are single ids as sampled.
    b.template(message.content, 1, [THINK_OPEN, THINK_CLOSE]);
    (message.toolCalls ?? []).forEach((call, i) => {
      if (i > 0 || message.content.length > 0) b.text("\n", 1);
      b.special(TOOL_CALL_OPEN, 1)
        .text(`\n${pyJson({ name: call.name, arguments: call.arguments })}\n`, 1)
        .special(TOOL_CALL_CLOSE, 1);
    });
  },
  normaliseContent: (text) => text,
};

/** Parses the JSON body of one `<tool_call>` block. */
export function parseQwen3ToolCallBody(body: string): BodyParse {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { ok: false, reason: "invalid_json", detail: `not valid JSON (${(error as Error).message})` };
  }
  if (!isPlainObject(value)) return { ok: false, reason: "invalid_tool_call", detail: "the JSON is not an object" };
  const { name } = value;
  let args = value.arguments ?? {};
  if (typeof name !== "string" || name.length === 0) {
    return { ok: false, reason: "invalid_tool_call", detail: 'no "name" string' };
  }
  // Some models send arguments as a JSON-encoded string; accept it when it holds an object.
  if (typeof args === "string") {
    try {
      args = JSON.parse(args);
    } catch {
      return { ok: false, reason: "invalid_json", detail: '"arguments" is a string that is not JSON' };
    }
  }
  if (!isPlainObject(args)) return { ok: false, reason: "invalid_tool_call", detail: '"arguments" is not an object' };
  return { ok: true, name, arguments: args };
}

export function createQwen3Renderer(tokenizer: Tokenizer): Renderer {
  const stopTokens = [tokenizer.idOf(IM_END), tokenizer.idOf(END_OF_TEXT)];
  return {
    name: "qwen3",
    tokenizer,
    stopTokens,
    renderPrompt: (messages, tools, options) => renderChatMl(tokenizer, qwen3Format, messages, tools, options),
    parseCompletion(tokens: number[], stopReason: StopReason, options: ParseOptions = {}): ParsedCompletion {
      const decoded = decodeCompletion(tokenizer, tokens, stopReason, stopTokens);
      if ("kind" in decoded) return decoded;
      const scan = scanToolCalls(decoded.text, parseQwen3ToolCallBody);
      if ("kind" in scan) return scan;
      const message: AssistantMessage = { role: "assistant", content: decoded.text };
      if (scan.calls.length > 0) {
        // Text before the first call loses its "\n" separator; prose between or after calls
        // (which the format has no place for) is kept, joined by newlines.
        const lead = scan.prose[0].endsWith("\n") ? scan.prose[0].slice(0, -1) : scan.prose[0];
        const extra = scan.prose.slice(1).map((p) => p.trim());
        message.content = [lead, ...extra].filter((p) => p.length > 0).join("\n");
        message.toolCalls = withIds(scan.calls, options.newToolCallId);
      }
      return { kind: "message", message, text: decoded.text };
    },
  };
}
