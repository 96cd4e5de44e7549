/**
 * The prompt the model samples from, built from stored message rows: the current episode (from
 * its system message on), without replies that never entered the conversation (parse errors,
 * several tool calls at once). When it would not fit the model's context window, the oldest turns
 * after the original task are elided whole (an assistant call with its result, never half of it)
 * and a visible marker says how many. Which rows went in is recorded on the sampled message, so a
 * training step rebuilds exactly the prompt that was sampled.
 */
import type { Message as ChatMessage, Renderer, ToolSpec } from "@/lib/chat/types";
import type { MessageMeta, PromptLayout } from "@/lib/db/message-meta";
import type { Message as MessageRow } from "@/lib/db/schema";

/**
 * A message as prompts are built from it: everything but its token arrays, which only training
 * reads. A turn reads the conversation's rows this way (listMessageSummariesByConversation), so
 * twenty conversations sampling at once do not parse every past prompt's tokens on each turn.
 */
export type ContextRow = Omit<MessageRow, "promptTokens" | "completionTokens" | "completionLogprobs">;
import { capChars } from "@/lib/sandbox/output";
import { replyReserve } from "@/lib/config/reply-tokens";

export type { PromptLayout };

export type BuiltPrompt = { messages: ChatMessage[]; tokens: number[]; layout: PromptLayout };

export function elisionMarker(count: number): string {
  return `[${count} earlier message${count === 1 ? " was" : "s were"} left out here to fit the context window.]`;
}

/** Output longer than `maxChars` keeps its head and tail with a marker between (the sandbox's format). */
export function clipToolOutput(text: string, maxChars: number): string {
  return capChars(text, maxChars);
}

/** Tool output limit for a context window: about a quarter of it (4 characters a token), 2k–16k characters. */
export function toolOutputLimit(contextWindow: number): number {
  return Math.max(2_000, Math.min(16_000, Math.floor(contextWindow)));
}

function metaOf(row: Pick<MessageRow, "meta">): MessageMeta {
  return row.meta ?? {};
}

/** Rows of the current episode: from the last system row on (a "/c" starts a new one). */
export function currentEpisode<R extends Pick<MessageRow, "role">>(rows: R[]): R[] {
  let start = 0;
  rows.forEach((row, i) => {
    if (row.role === "system") start = i;
  });
  return rows.slice(start);
}

/** Does this row enter prompts? Parse errors and multi-call replies are shown, never sampled from. */
export function inContext(row: Pick<MessageRow, "meta">): boolean {
  return !metaOf(row).excluded;
}

export function toChatMessage(row: ContextRow): ChatMessage {
  switch (row.role) {
    case "system":
      return { role: "system", content: row.content };
    case "user":
      return { role: "user", content: row.content };
    case "assistant":
      return row.toolCalls && row.toolCalls.length > 0
        ? { role: "assistant", content: row.content, toolCalls: row.toolCalls }
        : { role: "assistant", content: row.content };
    case "tool": {
      const meta = metaOf(row);
      return {
        role: "tool",
        toolCallId: meta.callId ?? row.toolCallId ?? "",
        name: meta.toolName ?? "",
        content: row.content,
      };
    }
    default:
      throw new Error(`message ${row.id} has an unknown role ${row.role}`);
  }
}

/** The chat messages of a stored layout (what a training step scores against). */
export function messagesForLayout(rows: ContextRow[], layout: PromptLayout): ChatMessage[] {
  const bySeq = new Map(rows.map((r) => [r.seq, r]));
  const out: ChatMessage[] = [];
  for (const seq of layout.seqs) {
    const row = bySeq.get(seq);
    if (!row) throw new Error(`the prompt's message #${seq} is missing`);
    out.push(toChatMessage(row));
    if (layout.elided > 0 && seq === layout.markerAfter)
      out.push({ role: "user", content: elisionMarker(layout.elided) });
  }
  return out;
}

/** Groups rows into units that are elided together: an assistant reply with the results after it. */
function units(rows: ContextRow[]): ContextRow[][] {
  const out: ContextRow[][] = [];
  for (const row of rows) {
    if (row.role === "tool" && out.length > 0) out[out.length - 1]!.push(row);
    else out.push([row]);
  }
  return out;
}

/**
 * Prompt tokens a sample may use: the context window less the room kept for the reply (the
 * reply's token limit, but never more than half the window, so a large limit still leaves a prompt).
 */
export function promptBudget(contextWindow: number, maxTokens: number | undefined): number {
  return contextWindow - replyReserve({ maxTokens, contextWindow });
}

/** The rows elision never drops: the system prompt and the episode's task (its first user message). */
function keptCount(episode: ContextRow[]): number {
  const taskIndex = episode.findIndex((r) => r.role === "user");
  return taskIndex === -1 ? Math.min(1, episode.length) : taskIndex + 1;
}

/**
 * The fewest prompt tokens a prompt can have once `text` is the episode's next user message:
 * the rows elision keeps, the elision marker when other turns come between, and the message. When
 * this exceeds the budget, no prompt holds the message, so sending it could only fail.
 */
export function tokensToHoldMessage({
  rows,
  renderer,
  tools,
  text,
}: {
  rows: ContextRow[];
  renderer: Renderer;
  tools: ToolSpec[];
  text: string;
}): number {
  const episode = currentEpisode(rows).filter(inContext);
  const kept = episode.slice(0, keptCount(episode)).map(toChatMessage);
  const between = episode.length - kept.length;
  const messages: ChatMessage[] = [
    ...kept,
    ...(between > 0 ? [{ role: "user" as const, content: elisionMarker(between) }] : []),
    { role: "user", content: text },
  ];
  return renderer.renderPrompt(messages, tools, { addGenerationPrompt: true }).tokens.length;
}

/**
 * The prompt for the next sample: `rows` are the conversation's messages in seq order; `budget` is
 * the most prompt tokens allowed. Throws when even the system prompt and task alone do not fit.
 */
export function buildPrompt({
  rows,
  renderer,
  tools,
  budget,
}: {
  rows: ContextRow[];
  renderer: Renderer;
  tools: ToolSpec[];
  budget: number;
}): BuiltPrompt {
  const episode = currentEpisode(rows).filter(inContext);
  const render = (layout: PromptLayout) => {
    const messages = messagesForLayout(episode, layout);
    return { messages, tokens: renderer.renderPrompt(messages, tools, { addGenerationPrompt: true }).tokens, layout };
  };
  const full = render({ seqs: episode.map((r) => r.seq), elided: 0, markerAfter: null });
  if (full.tokens.length <= budget) return full;

  // 1. Keep the system prompt and the task; the rest is elided oldest unit first.
  const keepCount = keptCount(episode);
  const kept = episode.slice(0, keepCount);
  const rest = units(episode.slice(keepCount));
  const markerAfter = kept.at(-1)?.seq ?? null;
  // 2. Estimate each unit's size once, drop enough of them, then drop more while still too long.
  const sizes = rest.map(
    (u) => renderer.renderPrompt(u.map(toChatMessage), [], { addGenerationPrompt: false }).tokens.length,
  );
  let excess = full.tokens.length - budget;
  let dropped = 0;
  while (dropped < rest.length && excess > 0) excess -= sizes[dropped++]!;
  for (;;) {
    const remaining = rest.slice(dropped).flat();
    const elided = rest.slice(0, dropped).reduce((n, u) => n + u.length, 0);
    const candidate = render({
      seqs: [...kept, ...remaining].map((r) => r.seq),
      elided,
      markerAfter: elided > 0 ? markerAfter : null,
    });
    if (candidate.tokens.length <= budget) return candidate;
    if (dropped >= rest.length) {
      throw new Error(
        `the prompt needs ${candidate.tokens.length} tokens even with every earlier turn left out; the model's budget is ${budget}`,
      );
    }
    dropped++;
  }
}
