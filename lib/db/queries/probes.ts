// Server code: what a policy's probes are made from: its most recent tool calls and the corrections
// they drew, then the tokens sampled for the few chosen (the prompt and the reply).
import { and, desc, eq, inArray, isNotNull, sql } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import { type Correction, conversation, correction, message, type ToolCall, toolCall, trainingStep } from "../schema";

export type SampledCall = {
  call: ToolCall;
  /** How many tokens the reply was (its tokens are read only for the calls chosen: listSampledTokens). */
  replyLength: number;
  corrections: Pick<Correction, "kind" | "createdAt">[];
};

/** The tokens a call was sampled with: its message's prompt and reply. */
export type SampledTokens = { promptTokens: number[]; completionTokens: number[] };

/**
 * The policy's newest `limit` calls that were sampled (prompt and reply stored), newest first,
 * without their tokens: a step reads a few hundred calls to choose a handful.
 */
export async function listRecentSampledCalls({
  db,
  ownerId,
  policyId,
  limit,
}: {
  db?: Db;
  ownerId: string;
  policyId: string;
  limit: number;
}): Promise<SampledCall[]> {
  const d = await resolveDb(db);
  const rows = await d
    .select({
      call: toolCall,
      replyLength: sql<number>`jsonb_array_length(${message.completionTokens})`.mapWith(Number),
    })
    .from(toolCall)
    .innerJoin(message, eq(message.id, toolCall.messageId))
    .innerJoin(conversation, eq(conversation.id, toolCall.conversationId))
    .where(
      and(
        eq(toolCall.ownerId, ownerId),
        eq(conversation.policyId, policyId),
        isNotNull(message.promptTokens),
        isNotNull(message.completionTokens),
      ),
    )
    .orderBy(desc(toolCall.createdAt), desc(toolCall.id))
    .limit(limit);
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.call.id);
  const drawn = await d
    .select({ toolCallId: correction.toolCallId, kind: correction.kind, createdAt: correction.createdAt })
    .from(correction)
    .where(and(eq(correction.ownerId, ownerId), inArray(correction.toolCallId, ids)));
  return rows.map((r) => ({
    call: r.call,
    replyLength: r.replyLength,
    corrections: drawn.filter((c) => c.toolCallId === r.call.id).map(({ kind, createdAt }) => ({ kind, createdAt })),
  }));
}

/** The sampled tokens of the owner's messages `messageIds`, by message id. */
export async function listSampledTokens({
  db,
  ownerId,
  messageIds,
}: {
  db?: Db;
  ownerId: string;
  messageIds: string[];
}): Promise<Map<string, SampledTokens>> {
  if (messageIds.length === 0) return new Map();
  const d = await resolveDb(db);
  const rows = await d
    .select({ id: message.id, promptTokens: message.promptTokens, completionTokens: message.completionTokens })
    .from(message)
    .where(and(eq(message.ownerId, ownerId), inArray(message.id, messageIds)));
  const out = new Map<string, SampledTokens>();
  for (const r of rows)
    if (r.promptTokens && r.completionTokens)
      out.set(r.id, { promptTokens: r.promptTokens, completionTokens: r.completionTokens });
  return out;
}

/** Adds `metrics` to a finished step's record (probe scores arrive after the step). */
export async function recordStepProbeMetrics({
  db,
  ownerId,
  trainingStepId,
  metrics,
}: {
  db?: Db;
  ownerId: string;
  trainingStepId: string;
  metrics: Record<string, number>;
}): Promise<void> {
  const d = await resolveDb(db);
  await d
    .update(trainingStep)
    .set({ metrics: sql`coalesce(${trainingStep.metrics}, '{}'::jsonb) || ${JSON.stringify(metrics)}::jsonb` })
    .where(and(eq(trainingStep.id, trainingStepId), eq(trainingStep.ownerId, ownerId)));
}
