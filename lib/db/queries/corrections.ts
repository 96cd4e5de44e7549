// Server code: corrections (a denial's reason, an edit's demonstration, a tool failure's feedback).
// Each is what one SDPO step learns from; `trainingStepId` links it to the step that used it.
import { and, asc, eq } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import type { CorrectionKind } from "../enums";
import { type Correction, correction } from "../schema";

export type { CorrectionKind };

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
