/**
 * Everything the conversation page shows, read from the database in one call: messages (without
 * their token arrays, which only training reads), tool calls with their decisions and results,
 * corrections, this conversation's training steps, what the conversation is waiting for, and the
 * last event id, so the page can subscribe to live events right after what it rendered.
 */
import { getConversationForOwner } from "@/lib/db/queries/conversations";
import { listCorrectionsByConversation } from "@/lib/db/queries/corrections";
import { getLastEventId, getLastEventOfType } from "@/lib/db/queries/events";
import { listMessageSummariesByConversation, type MessageSummary } from "@/lib/db/queries/messages";
import { listToolCallsByConversation } from "@/lib/db/queries/tool-calls";
import { listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import type { Conversation, Correction, ToolCall, TrainingStep } from "@/lib/db/schema";
import { AppError } from "@/lib/errors";
import { currentEpisode, inContext } from "./context";
import type { AgentCore } from "./core";

/** A message without its token arrays (only training reads them; they stay in the database). */
export type MessageView = MessageSummary;

/** What the conversation waits for from the user, if anything. */
export type Awaiting =
  | { kind: "decision"; toolCall: ToolCall }
  | { kind: "failure_correction"; toolCall: ToolCall; suggestion: string }
  | { kind: "attention"; reason: string }
  /** The agent ended the task with this answer and has nothing pending: a reply continues. */
  | { kind: "answer"; messageId: string }
  /** The agent stopped mid-task without an answer (the step cap): a reply continues. */
  | { kind: "stopped"; reason: string }
  /**
   * The agent's last reply could not be read (neither one well-formed call nor an answer): retry,
   * reply, or correct it like an answer, so a model that has drifted into malformed replies can be
   * taught back out of them.
   */
  | { kind: "unreadable"; messageId: string; reason: string }
  | null;

export type ConversationView = {
  conversation: Conversation;
  messages: MessageView[];
  toolCalls: ToolCall[];
  corrections: Correction[];
  trainingSteps: TrainingStep[];
  awaiting: Awaiting;
  lastEventId: number;
};

/** The episode's last reply when it is an answer (no tool call) that ended the turn. */
function finalAnswer(rows: MessageView[]): MessageView | null {
  const last = currentEpisode(rows).filter(inContext).at(-1);
  return last?.role === "assistant" && (last.toolCalls?.length ?? 0) === 0 ? last : null;
}

/** What the page says of a reply that could not be read (also the text of its error event). */
export function unreadableReason(detail: string): string {
  return `The reply could not be read (${detail}). Retry, or send a message to continue.`;
}

function awaitingOf(
  conv: Conversation,
  rows: MessageView[],
  calls: ToolCall[],
  corrections: Correction[],
  lastError: string | null,
): Awaiting {
  const proposed = calls.find((c) => c.status === "proposed");
  if (conv.state === "proposed" && proposed) return { kind: "decision", toolCall: proposed };
  if (conv.state === "idle") {
    const episode = currentEpisode(rows).filter(inContext);
    const answer = finalAnswer(rows);
    if (answer) return { kind: "answer", messageId: answer.id };
    // Idle with a task and no answer: the step cap ended it (a fresh episode has no task yet).
    return episode.some((r) => r.role === "user")
      ? { kind: "stopped", reason: lastError ?? "The agent stopped before answering." }
      : null;
  }
  if (conv.state !== "failed") return null;
  const last = calls.at(-1);
  if (last?.status === "failed" && !corrections.some((c) => c.toolCallId === last.id && c.kind === "tool_failure")) {
    return { kind: "failure_correction", toolCall: last, suggestion: last.result?.feedback ?? "" };
  }
  const reply = currentEpisode(rows).at(-1);
  // Its own reason, not the last error event's (a guard's flag may have come after it).
  if (reply?.role === "assistant" && reply.meta?.parseError)
    return { kind: "unreadable", messageId: reply.id, reason: unreadableReason(reply.meta.parseError.detail) };
  return { kind: "attention", reason: lastError ?? "The agent stopped; retry or send a message." };
}

export async function getConversationView(
  core: AgentCore,
  ownerId: string,
  conversationId: string,
): Promise<ConversationView> {
  const db = core.db;
  // The last event id first: anything published while the rows are read is after it, so the
  // page's stream (which starts after this id) replays it and the page misses nothing.
  const lastEventId = await getLastEventId({ db, ownerId, conversationId });
  const conversation = await getConversationForOwner({ db, id: conversationId, ownerId });
  if (!conversation) throw new AppError("not_found:conversation");
  const [rows, toolCalls, corrections, steps, lastErrorEvent] = await Promise.all([
    listMessageSummariesByConversation({ db, ownerId, conversationId }),
    listToolCallsByConversation({ db, ownerId, conversationId }),
    listCorrectionsByConversation({ db, ownerId, conversationId }),
    conversation.policyId
      ? listTrainingStepsByOwner({ db, ownerId, policyId: conversation.policyId })
      : Promise.resolve([]),
    getLastEventOfType({ db, ownerId, conversationId, type: "error" }),
  ]);
  const lastError = lastErrorEvent ? String(lastErrorEvent.payload.message ?? "") : null;
  return {
    conversation,
    messages: rows,
    toolCalls,
    corrections,
    trainingSteps: steps.filter((s) => s.conversationId === conversationId),
    awaiting: awaitingOf(conversation, rows, toolCalls, corrections, lastError),
    lastEventId,
  };
}
