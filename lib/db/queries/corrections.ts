// Server code: corrections (a denial's reason, an edit's demonstration, a tool failure's feedback).
// Each is what one SDPO step learns from; `trainingStepId` links it to the step that used it.
import { and, asc, eq } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import { type Correction, correction } from "../schema";

/**
 * A denied call, an edited one, a failed one, a corrected final answer (no tool call: its
 * correction message names the answer); "approval" records the RL signal of an approved call (no
 * text to learn from beyond the reward).
 */
export type CorrectionKind = "denial" | "edit" | "tool_failure" | "answer" | "approval";

export async function createCorrection({
  db,
  ownerId,
  conversationId,
  toolCallId,
  kind,
  text,
  solution,
  environmentFeedback,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
  toolCallId?: string | null;
  kind: CorrectionKind;
  text: string;
  solution?: string | null;
  environmentFeedback?: string | null;
}): Promise<Correction> {
  const d = await resolveDb(db);
  const [row] = await d
    .insert(correction)
    .values({ ownerId, conversationId, toolCallId, kind, text, solution, environmentFeedback })
    .returning();
  return row!;
}

export async function getCorrectionForOwner({
  db,
  id,
  ownerId,
}: {
  db?: Db;
  id: string;
  ownerId: string;
}): Promise<Correction | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .select()
    .from(correction)
    .where(and(eq(correction.id, id), eq(correction.ownerId, ownerId)));
  return row ?? null;
}

export async function listCorrectionsByConversation({
  db,
  ownerId,
  conversationId,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
}): Promise<Correction[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(correction)
    .where(and(eq(correction.conversationId, conversationId), eq(correction.ownerId, ownerId)))
    .orderBy(asc(correction.createdAt), asc(correction.id));
}

/** The corrections a training step learns from (the trainer reads these after claiming it). */
export async function listCorrectionsByTrainingStep({
  db,
  trainingStepId,
}: {
  db?: Db;
  trainingStepId: string;
}): Promise<Correction[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(correction)
    .where(eq(correction.trainingStepId, trainingStepId))
    .orderBy(asc(correction.createdAt), asc(correction.id));
}
