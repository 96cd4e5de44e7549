// Server code: what a policy's probes are made from: its most recent tool calls with the tokens
// that were sampled for them (the prompt and the reply) and the corrections they drew.
import { and, desc, eq, inArray, isNotNull, sql } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import { type Correction, conversation, correction, message, type ToolCall, toolCall, trainingStep } from "../schema";

export type SampledCall = {
  call: ToolCall;
  promptTokens: number[];
  completionTokens: number[];
  corrections: Pick<Correction, "kind" | "createdAt">[];
};

/** The policy's newest `limit` calls that were sampled (prompt and reply stored), newest first. */
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
    .select({ call: toolCall, promptTokens: message.promptTokens, completionTokens: message.completionTokens })
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
    promptTokens: r.promptTokens!,
    completionTokens: r.completionTokens!,
    corrections: drawn.filter((c) => c.toolCallId === r.call.id).map(({ kind, createdAt }) => ({ kind, createdAt })),
  }));
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
