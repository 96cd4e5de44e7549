/**
 * The ChatML layout the Qwen families share (tinker-api.md §8): each message is
 * `<|im_start|>role\n` + content + `<|im_end|>`, messages joined by `\n`; tool results are sent
 * as a user turn of `<tool_response>` blocks; the generation prompt is the assistant header.
 * A `ChatMlFormat` fills in what differs per family: the tools block, how an assistant turn with
 * tool calls is written, and any text fixed after the assistant header.
 */
import { TokenBuilder } from "./token-builder";
import type { Tokenizer } from "./tokenizer";
import type { AssistantMessage, Message, RenderOptions, RenderedPrompt, ToolSpec } from "./types";

export const IM_START = "<|im_start|>";
export const IM_END = "<|im_end|>";
export const END_OF_TEXT = "<|endoftext|>";
export const TOOL_RESPONSE_OPEN = "<tool_response>";
export const TOOL_RESPONSE_CLOSE = "</tool_response>";
export const THINK_OPEN = "<think>";
export const THINK_CLOSE = "</think>";

export interface ChatMlFormat {
  /** Renders the system turn's body when tools are declared (system prompt may be null). */
  renderToolsSystem(b: TokenBuilder, systemPrompt: string | null, tools: ToolSpec[]): void;
  /** Text (with special tokens) fixed right after `<|im_start|>assistant\n`, before content. */
  assistantPrefix: string;
  /** Renders an assistant turn's content and tool calls (weight 1), without `<|im_end|>`. */
  renderAssistant(b: TokenBuilder, message: AssistantMessage): void;
  /** Normalises system, user and tool text before it is written (Qwen3.5 trims it). */
  normaliseContent(text: string): string;
}

/** Special-token strings a renderer-written template may contain. */
export const TEMPLATE_SPECIALS = [
  IM_START,
  IM_END,
  END_OF_TEXT,
  "<tool_call>",
  "</tool_call>",
  TOOL_RESPONSE_OPEN,
  TOOL_RESPONSE_CLOSE,
  THINK_OPEN,
  THINK_CLOSE,
] as const;

export function renderChatMl(
  tokenizer: Tokenizer,
  format: ChatMlFormat,
  messages: Message[],
  tools: ToolSpec[],
  options: RenderOptions,
): RenderedPrompt {
  const b = new TokenBuilder(tokenizer);
  let first = true;
  const header = (role: "system" | "user" | "assistant"): void => {
    if (!first) b.text("\n", 0);
    first = false;
    b.special(IM_START, 0).text(`${role}\n`, 0);
    if (role === "assistant") b.template(format.assistantPrefix, 0, TEMPLATE_SPECIALS);
  };

  // 1. With tools, the first turn is always a system turn holding the tools block (merged with
  //    the caller's system prompt, if the conversation starts with one).
  let rest = messages;
  if (tools.length > 0) {
    const systemPrompt = rest[0]?.role === "system" ? format.normaliseContent(rest[0].content) : null;
    if (systemPrompt !== null) rest = rest.slice(1);
    header("system");
    format.renderToolsSystem(b, systemPrompt, tools);
    b.special(IM_END, 0);
  }

  // 2. Messages in order; consecutive tool results share one user turn, as in Hugging Face's
  //    Qwen templates (the cookbook's renderer writes one turn per result instead).
  for (let i = 0; i < rest.length; i++) {
    const message = rest[i];
    switch (message.role) {
      case "system":
      case "user":
        header(message.role);
        b.text(format.normaliseContent(message.content), 0).special(IM_END, 0);
        break;
      case "assistant":
        header("assistant");
        format.renderAssistant(b, message);
        b.special(IM_END, 1);
        break;
      case "tool": {
        header("user");
        for (let j = i; j < rest.length; j++) {
          const result = rest[j];
          if (result.role !== "tool") break;
          if (j > i) b.text("\n", 0);
          b.special(TOOL_RESPONSE_OPEN, 0)
            .text(`\n${format.normaliseContent(result.content)}\n`, 0)
            .special(TOOL_RESPONSE_CLOSE, 0);
          i = j;
        }
        b.special(IM_END, 0);
        break;
      }
      default: {
        const never: never = message;
        throw new Error(`unknown message role ${JSON.stringify(never)}`);
      }
    }
  }

  // 3. The generation prompt: the header the model's reply continues.
  if (options.addGenerationPrompt) header("assistant");
  return b.build();
}
