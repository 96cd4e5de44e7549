/**
 * Turns a queued training step back into an SDPO batch, from the database alone: its corrections →
 * the tool calls they judge → the assistant messages that proposed them (or, for a corrected
 * answer, the answer its correction message names), whose stored prompt
 * tokens, completion tokens and sampling log-probs are exactly what was sampled. The student's
 * prompt messages are rebuilt from the stored layout (and checked against the stored tokens); the
 * teacher's prompt is those messages plus the correction (lib/sdpo's teacher context).
 */
import type { Renderer, ToolSpec } from "@/lib/chat/types";
import type { Db } from "@/lib/db/client";
import { type CorrectionKind, listCorrectionsByTrainingStep } from "@/lib/db/queries/corrections";
import { listMessagesByConversation } from "@/lib/db/queries/messages";
import { getToolCallForOwner } from "@/lib/db/queries/tool-calls";
import type { Correction, Message as MessageRow, ToolCall, TrainingStep } from "@/lib/db/schema";
import {
  denialExample,
  fitToWindow,
  type DenialExample,
  type RewardExample,
  type SDPOConfig,
  type StepBatch,
} from "@/lib/sdpo";
import { recentApprovedCalls } from "./rehearsal-calls";
import { messagesForLayout } from "./context";

/** What a training signal records: a correction's kind, or an approval (RL reward +1). */
export type TrainingSignalKind = CorrectionKind;

/**
 * What the user message carrying a corrected answer stores (message.meta): the correction row and
 * the answer it judges, which is the completion the step trains on (an answer has no tool call).
 */
export type AnswerCorrectionMeta = { kind: "correction"; correctionId: string; answerMessageId: string };

/** The assistant message a correction judges: its call's message, or the corrected answer. */
function judgedMessageId(correction: Correction, rows: MessageRow[], call: ToolCall | null): string | null {
  if (call) return call.messageId;
  const carrier = rows.find((m) => m.meta?.correctionId === correction.id);
  return carrier?.meta?.answerMessageId ?? null;
}

function sameTokens(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

export async function buildStepBatch({
  db,
  row,
  renderer,
  tools,
  sdpo,
  contextWindow,
}: {
  db: Db;
  row: TrainingStep;
  renderer: Renderer;
  tools: ToolSpec[];
  sdpo: SDPOConfig;
  /** The model's context: each denial is cut to fit it behind the teacher's longer prompt. */
  contextWindow: number;
}): Promise<StepBatch> {
  // A replay (after an undo) learns from the corrections of the step it replays.
  const corrections = await listCorrectionsByTrainingStep({ db, trainingStepId: row.replayOf ?? row.id });
  const rowsByConversation = new Map<string, MessageRow[]>();
  const denials: DenialExample[] = [];
  const rewards: RewardExample[] = [];
  const rewarded = new Set<string>();
  for (const correction of corrections) {
    const call = correction.toolCallId
      ? await getToolCallForOwner({ db, id: correction.toolCallId, ownerId: row.ownerId })
      : null;
    if (correction.toolCallId && !call) continue;
    let rows = rowsByConversation.get(correction.conversationId);
    if (!rows) {
      rows = await listMessagesByConversation({ db, ownerId: row.ownerId, conversationId: correction.conversationId });
      rowsByConversation.set(correction.conversationId, rows);
    }
    const messageId = judgedMessageId(correction, rows, call);
    const sampled = rows.find((m) => m.id === messageId);
    if (!sampled?.promptTokens || !sampled.completionTokens || !sampled.completionLogprobs) continue;
    const meta = sampled.meta ?? {};
    const completion = {
      promptTokens: sampled.promptTokens,
      completionTokens: sampled.completionTokens,
      samplingLogprobs: sampled.completionLogprobs,
    };
    const kind = correction.kind;
    if (kind === "approval") {
      rewards.push({ ...completion, reward: 1 });
      continue;
    }
    if (!meta.context) throw new Error(`message ${sampled.id} has no stored prompt layout`);
    // 1. The student's prompt, rebuilt and checked token for token.
    const promptMessages = messagesForLayout(rows, meta.context);
    const rebuilt = renderer.renderPrompt(promptMessages, tools, { addGenerationPrompt: true }).tokens;
    if (!sameTokens(rebuilt, sampled.promptTokens)) {
      throw new Error(`the prompt of message ${sampled.id} no longer renders to the tokens it was sampled from`);
    }
    // 2. The teacher's: the same messages plus the correction (and demonstration, tool output).
    // With RL, a completion earns −1 once however many corrections it drew.
    const reward = sdpo.enableRl && !rewarded.has(sampled.id) ? -1 : undefined;
    if (reward !== undefined) rewarded.add(sampled.id);
    const denial = fitToWindow(
      denialExample({
        completion,
        promptMessages,
        task: meta.task ?? "",
        correction: {
          feedback: correction.text,
          solution: correction.solution ?? undefined,
          environmentFeedback: correction.environmentFeedback ?? undefined,
        },
        renderer,
        tools,
        config: sdpo,
        reward,
      }),
      contextWindow,
    );
    if (denial) denials.push(denial);
  }
  // A correction's step also keeps the user's newest approved calls (settings rehearsalCalls).
  const rehearsals =
    denials.length > 0
      ? await recentApprovedCalls({ db, ownerId: row.ownerId, policyId: row.policyId, count: sdpo.rehearsalCalls })
      : [];
  return { denials, rewards, rehearsals };
}
