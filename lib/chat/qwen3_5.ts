/**
 * The Qwen3.5 chat format with thinking disabled (the cookbook's `qwen3_5_disable_thinking`, which
 * replaced Qwen3-4B-Instruct-2507): ChatML turns as in Qwen3, but tool calls are XML,
 * `<tool_call>\n<function=NAME>\n<parameter=P>\nVALUE\n</parameter>\n</function>\n</tool_call>`,
 * and every assistant turn opens with an empty think block. tinker-api.md §8 states only the call
 * syntax; the rest follows the Qwen3.5 Hugging Face template as the cookbook reproduces it:
 * - the tools block comes first in the system turn, then "\n\n" and the caller's system prompt;
 *   each tool is one `tojson` line of the bare spec ({name, description, parameters}, no wrapper);
 * - system, user and tool text and the assistant's prose are trimmed;
 * - prose and the first call are separated by "\n\n" (nothing when there is no prose), calls by "\n";
 * - string values are written raw, other values as JSON (the template writes Python's `True`
 *   for booleans; JSON `true` is written here so the value parses back);
 * - `<think>\n\n</think>\n\n` follows the assistant header of the generation prompt AND of every
 *   assistant turn in history. The template adds it only after the last user turn; adding it
 *   everywhere keeps each prompt an extension of the previous prompt plus completion.
 */
import type { StopReason } from "@/lib/training/types";
import { END_OF_TEXT, IM_END, TEMPLATE_SPECIALS, renderChatMl, type ChatMlFormat } from "./chatml";
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

const TOOLS_PREAMBLE = "# Tools\n\nYou have access to the following functions:\n\n<tools>\n";
const TOOLS_POSTAMBLE =
  "\n</tools>\n\nIf you choose to call a function ONLY reply in the following format with NO suffix:\n\n" +
  "<tool_call>\n<function=example_function_name>\n<parameter=example_parameter_1>\nvalue_1\n</parameter>\n" +
  "<parameter=example_parameter_2>\nThis is the value for the second parameter\nthat can span\nmultiple lines\n" +
  "</parameter>\n</function>\n</tool_call>\n\n<IMPORTANT>\nReminder:\n" +
  "- Function calls MUST follow the specified format: an inner <function=...></function> block must be " +
  "nested within <tool_call></tool_call> XML tags\n" +
  "- Required parameters MUST be specified\n" +
  "- You may provide optional reasoning for your function call in natural language BEFORE the function " +
  "call, but NOT after\n" +
  "- If there is no function call available, answer the question like normal with your current knowledge " +
  "and do not tell the user about function calls\n</IMPORTANT>";

/** The empty think block that tells Qwen3.5 to answer without reasoning. */
export const EMPTY_THINK = "<think>\n\n</think>\n\n";

export function qwen3_5ToolLine(tool: ToolSpec): string {
  return pyJson({ name: tool.name, description: tool.description, parameters: tool.parameters });
}

/** The text between `<tool_call>` and `</tool_call>` for one call. */
export function qwen3_5CallBody(name: string, args: Record<string, unknown>): string {
  const params = Object.entries(args)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `<parameter=${key}>\n${typeof value === "string" ? value : pyJson(value)}\n</parameter>\n`);
  return `\n<function=${name}>\n${params.join("")}</function>\n`;
}

const qwen3_5Format: ChatMlFormat = {
  renderToolsSystem(b, systemPrompt, tools) {
    b.template(TOOLS_PREAMBLE, 0, TEMPLATE_SPECIALS)
      .text(tools.map(qwen3_5ToolLine).join("\n"), 0)
      .template(TOOLS_POSTAMBLE, 0, TEMPLATE_SPECIALS);
    if (systemPrompt) b.text(`\n\n${systemPrompt}`, 0);
  },
  assistantPrefix: EMPTY_THINK,
  renderAssistant(b, message) {
    const prose = message.content.trim();
    b.text(prose, 1);
    (message.toolCalls ?? []).forEach((call, i) => {
      if (i > 0) b.text("\n", 1);
      else if (prose.length > 0) b.text("\n\n", 1);
      b.special(TOOL_CALL_OPEN, 1).text(qwen3_5CallBody(call.name, call.arguments), 1).special(TOOL_CALL_CLOSE, 1);
    });
  },
  normaliseContent: (text) => text.trim(),
};

const FUNCTION_RE = /^\s*<function=([^>\n]+)>\n?([\s\S]*?)\s*<\/function>\s*$/;
const PARAMETER_RE = /\s*<parameter=([^>\n]+)>\n?([\s\S]*?)\n?<\/parameter>/y;

/** A parameter's value: raw text where the tool's schema says string, else JSON if it parses. */
function typedValue(raw: string, schema: unknown): unknown {
  if (isPlainObject(schema) && schema.type === "string") return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function propertySchema(tools: ToolSpec[] | undefined, fn: string, param: string): unknown {
  const properties = tools?.find((t) => t.name === fn)?.parameters.properties;
  return isPlainObject(properties) ? properties[param] : undefined;
}

/** Parses the XML body of one `<tool_call>` block. */
export function parseQwen3_5ToolCallBody(body: string, tools?: ToolSpec[]): BodyParse {
  const fn = FUNCTION_RE.exec(body);
  if (!fn) return { ok: false, reason: "invalid_tool_call", detail: "expected <function=NAME>…</function>" };
  const name = fn[1].trim();
  const inner = fn[2];
  const args: Record<string, unknown> = {};
  PARAMETER_RE.lastIndex = 0;
  let pos = 0;
  for (let m = PARAMETER_RE.exec(inner); m !== null; m = PARAMETER_RE.exec(inner)) {
    const param = m[1].trim();
    args[param] = typedValue(m[2], propertySchema(tools, name, param));
    pos = PARAMETER_RE.lastIndex;
  }
  if (inner.slice(pos).trim().length > 0) {
    return {
      ok: false,
      reason: "invalid_tool_call",
      detail: `unexpected text in <function=${name}>: ${inner.slice(pos).trim().slice(0, 80)}`,
    };
  }
  return { ok: true, name, arguments: args };
}

export function createQwen3_5Renderer(tokenizer: Tokenizer): Renderer {
  const stopTokens = [tokenizer.idOf(IM_END), tokenizer.idOf(END_OF_TEXT)];
  return {
    name: "qwen3_5",
    tokenizer,
    stopTokens,
    renderPrompt: (messages, tools, options) => renderChatMl(tokenizer, qwen3_5Format, messages, tools, options),
    parseCompletion(tokens: number[], stopReason: StopReason, options: ParseOptions = {}): ParsedCompletion {
      const decoded = decodeCompletion(tokenizer, tokens, stopReason, stopTokens);
      if ("kind" in decoded) return decoded;
      const scan = scanToolCalls(decoded.text, (body) => parseQwen3_5ToolCallBody(body, options.tools));
      if ("kind" in scan) return scan;
      const message: AssistantMessage = {
        role: "assistant",
        content: scan.prose
          .map((p) => p.trim())
          .filter((p) => p.length > 0)
          .join("\n"),
      };
      if (scan.calls.length > 0) message.toolCalls = withIds(scan.calls, options.newToolCallId);
      return { kind: "message", message, text: decoded.text };
    },
  };
}
