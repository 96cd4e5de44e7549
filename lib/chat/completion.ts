/**
 * Shared steps of turning sampled tokens into an assistant message: cut at the end-of-turn token,
 * decode, then find every `<tool_call>…</tool_call>` block and hand its body to the format's own
 * parser (JSON for Qwen3, XML for Qwen3.5); a `</tool_call>` outside a block is a call missing its
 * opening tag, not prose. Any failure becomes a typed parse error that keeps the
 * decoded text, so the agent can show it and ask the model to try again.
 */
import { randomUUID } from "node:crypto";
import type { StopReason } from "@/lib/training/types";
import type { ParseErrorReason, ParsedCompletion, ToolCall } from "./types";
import type { Tokenizer } from "./tokenizer";
import { TOOL_CALL_CLOSE, TOOL_CALL_OPEN } from "./tool-call-tags";

export { TOOL_CALL_CLOSE, TOOL_CALL_OPEN };

export type BodyParse =
  | { ok: true; name: string; arguments: Record<string, unknown> }
  | { ok: false; reason: ParseErrorReason; detail: string };

export type ParseError = Extract<ParsedCompletion, { kind: "parse_error" }>;

/**
 * Decodes a completion up to its first end-of-turn token. Without one, a "length" stop means the
 * turn was cut off; a "stop" stop means the sampler dropped the stop token, and the text is whole.
 */
export function decodeCompletion(
  tokenizer: Tokenizer,
  tokens: number[],
  stopReason: StopReason,
  endTokens: readonly number[],
): { ok: true; text: string } | ParseError {
  const end = tokens.findIndex((t) => endTokens.includes(t));
  const text = tokenizer.decode(end === -1 ? tokens : tokens.slice(0, end));
  if (end !== -1) return { ok: true, text };
  switch (stopReason) {
    case "length":
      return {
        kind: "parse_error",
        reason: "truncated",
        detail: `the reply hit the token limit after ${tokens.length} tokens without ending its turn`,
        text,
      };
    case "stop":
      return { ok: true, text };
    default: {
      const never: never = stopReason;
      throw new Error(`unknown stop reason ${String(never)}`);
    }
  }
}

/**
 * Splits text into the prose around tool-call blocks and the parsed calls, in order. A block ends
 * at the first `</tool_call>` after which its body parses; so a closing tag inside a JSON string
 * or a parameter value does not cut the call short (the shortest body that parses wins, and if
 * none does, the error is the one for the shortest body).
 */
export function scanToolCalls(
  text: string,
  parseBody: (body: string) => BodyParse,
): { ok: true; prose: string[]; calls: Array<{ name: string; arguments: Record<string, unknown> }> } | ParseError {
  const prose: string[] = [];
  const calls: Array<{ name: string; arguments: Record<string, unknown> }> = [];
  let pos = 0;
  for (;;) {
    const open = text.indexOf(TOOL_CALL_OPEN, pos);
    const between = text.slice(pos, open === -1 ? undefined : open);
    // A closing tag in prose is a call whose opening tag the model left out: never an answer.
    if (between.includes(TOOL_CALL_CLOSE)) {
      return {
        kind: "parse_error",
        reason: "unopened_tool_call",
        detail: `a ${TOOL_CALL_CLOSE} closes a tool call that never opened with ${TOOL_CALL_OPEN}`,
        text,
      };
    }
    prose.push(between);
    if (open === -1) return { ok: true, prose, calls };
    const bodyStart = open + TOOL_CALL_OPEN.length;
    let close = text.indexOf(TOOL_CALL_CLOSE, bodyStart);
    if (close === -1) {
      return {
        kind: "parse_error",
        reason: "unclosed_tool_call",
        detail: `tool call ${calls.length + 1} opens with ${TOOL_CALL_OPEN} but never closes`,
        text,
      };
    }
    let firstFailure: BodyParse | null = null;
    let parsed: BodyParse | null = null;
    while (close !== -1) {
      const attempt = parseBody(text.slice(bodyStart, close));
      if (attempt.ok) {
        parsed = attempt;
        break;
      }
      firstFailure ??= attempt;
      close = text.indexOf(TOOL_CALL_CLOSE, close + TOOL_CALL_CLOSE.length);
    }
    if (parsed === null || !parsed.ok) {
      const failure = firstFailure as Extract<BodyParse, { ok: false }>;
      return {
        kind: "parse_error",
        reason: failure.reason,
        detail: `tool call ${calls.length + 1}: ${failure.detail}`,
        text,
      };
    }
    calls.push({ name: parsed.name, arguments: parsed.arguments });
    pos = close + TOOL_CALL_CLOSE.length;
  }
}

/** Gives each parsed call an id (random unless the caller supplies them). */
export function withIds(
  calls: Array<{ name: string; arguments: Record<string, unknown> }>,
  newId: ((index: number) => string) | undefined,
): ToolCall[] {
  return calls.map((call, i) => ({
    id: newId ? newId(i) : `call_${randomUUID().replace(/-/g, "").slice(0, 12)}`,
    ...call,
  }));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
