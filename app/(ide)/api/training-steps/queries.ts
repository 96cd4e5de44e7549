/**
 * Server code: the owner-scoped reads the dashboard's routes need beyond lib/db/queries'
 * listTrainingStepsByOwner: the latest N steps, steps from a queue position on (keyset paging
 * for the export and change detection for the stream), and the metric keys a user has logged.
 * Every query filters by owner_id, so no route can see another user's steps.
 */
import { and, asc, desc, eq, gte, sql } from "drizzle-orm";
import type { StepView } from "@/lib/charts/series";
import { type Db, resolveDb } from "@/lib/db/client";
import { type TrainingStep, trainingStep } from "@/lib/db/schema";

export function toStepView(row: TrainingStep): StepView {
  return {
    id: row.id,
    policyId: row.policyId,
    step: row.step,
    status: row.status as StepView["status"],
    error: row.error,
    queuedAt: row.queuedAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    metrics: row.metrics ?? null,
  };
}

/** The owner's newest `limit` steps, returned oldest first. */
export async function listLatestStepsForOwner({ db, ownerId, limit }: { db?: Db; ownerId: string; limit: number }): Promise<TrainingStep[]> {
  const d = await resolveDb(db);
  const rows = await d.select().from(trainingStep).where(eq(trainingStep.ownerId, ownerId)).orderBy(desc(trainingStep.queueSeq)).limit(limit);
  return rows.reverse();
}

/** The owner's steps with queue position ≥ `fromSeq`, oldest first. */
export async function listStepsForOwnerFromSeq({ db, ownerId, fromSeq, limit }: { db?: Db; ownerId: string; fromSeq: number; limit: number }): Promise<TrainingStep[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(trainingStep)
    .where(and(eq(trainingStep.ownerId, ownerId), gte(trainingStep.queueSeq, fromSeq)))
    .orderBy(asc(trainingStep.queueSeq))
    .limit(limit);
}

/** Every metric key any of the owner's steps logged, sorted. */
export async function listMetricKeysForOwner({ db, ownerId }: { db?: Db; ownerId: string }): Promise<string[]> {
  const d = await resolveDb(db);
  const rows = await d
    .selectDistinct({ key: sql<string>`jsonb_object_keys(${trainingStep.metrics})` })
    .from(trainingStep)
    .where(and(eq(trainingStep.ownerId, ownerId), sql`jsonb_typeof(${trainingStep.metrics}) = 'object'`));
  return rows.map((r) => r.key).sort();
}
