/**
 * The chat contract: messages and tool specs go in, prompt tokens (with per-token training weights)
 * come out; sampled tokens come back as an assistant message or as a parse error the agent can show
 * and recover from. Renderers for each model family implement `Renderer`.
 */
import type { StopReason } from "@/lib/training/types";
import type { Tokenizer } from "./tokenizer";

export interface ToolCall {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

export type Message =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | AssistantMessage
  | { role: "tool"; toolCallId: string; name: string; content: string };

export interface AssistantMessage {
  role: "assistant";
  /** Text the model wrote before its tool calls (may be empty). */
  content: string;
  toolCalls?: ToolCall[];
}

export interface ToolSpec {
  name: string;
  description: string;
  /** A JSON schema object; serialised verbatim (key order kept) into the tools block. */
  parameters: Record<string, unknown>;
}

export const PARSE_ERROR_REASONS = [
  /** Sampling hit the token limit before the end-of-turn token. */
  "truncated",
  /** A `<tool_call>` with no matching `</tool_call>`. */
  "unclosed_tool_call",
  /** A `</tool_call>` with no `<tool_call>` before it: a call written without its opening tag. */
  "unopened_tool_call",
  /** The body of a `<tool_call>` block is not valid JSON. */
  "invalid_json",
  /** Well-formed syntax with the wrong shape: no name, arguments not an object, malformed XML. */
  "invalid_tool_call",
] as const;
export type ParseErrorReason = (typeof PARSE_ERROR_REASONS)[number];

/** The decoded text (without the stop token) is always kept so the UI can show what was sampled. */
export type ParsedCompletion =
  | { kind: "message"; message: AssistantMessage; text: string }
  | { kind: "parse_error"; reason: ParseErrorReason; detail: string; text: string };

export interface RenderOptions {
  /** Append the assistant header the model continues from (for sampling). */
  addGenerationPrompt: boolean;
}

export interface RenderedPrompt {
  tokens: number[];
  /**
   * One weight per token: 1 on assistant content and its closing end-of-turn token, 0 on headers,
   * the generation prompt and every non-assistant message (supervised / distillation masks).
   */
  weights: number[];
}

export interface ParseOptions {
  /** Tool specs, used by formats whose arguments are untyped text (Qwen3.5) to keep strings strings. */
  tools?: ToolSpec[];
  /** Id for the i-th tool call of this completion; defaults to a random `call_…` id. */
  newToolCallId?: (index: number) => string;
}

export type RendererName = "qwen3" | "qwen3_5";

export interface Renderer {
  readonly name: RendererName;
  readonly tokenizer: Tokenizer;
  /** Token ids that end an assistant turn; pass them as the sampler's `stop`. */
  readonly stopTokens: number[];
  renderPrompt(messages: Message[], tools: ToolSpec[], options: RenderOptions): RenderedPrompt;
  parseCompletion(tokens: number[], stopReason: StopReason, options?: ParseOptions): ParsedCompletion;
}
