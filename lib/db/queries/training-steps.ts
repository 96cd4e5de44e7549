// Server code: the training-step queue. enqueue → claimNextQueued (queued → running) →
// markTrainingStepDone | markTrainingStepFailed. Claiming is one UPDATE … RETURNING over a row
// locked with SKIP LOCKED, so with several app instances on one PostgreSQL each step runs exactly
// once; and a policy's steps run one at a time, oldest first, because its optimizer state is serial.
import { and, asc, desc, eq, gte, inArray, lt, sql } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import type { LossFnName } from "@/lib/training/types";
import { correction, policy, type TrainingStep, trainingStep, user } from "../schema";

export type { TrainingStepStatus } from "../enums";

/** Queues a step and links the corrections it learns from, in one transaction. */
export async function enqueueTrainingStep({
  db,
  ownerId,
  policyId,
  conversationId,
  lossFn,
  correctionIds = [],
  replayOf,
}: {
  db?: Db;
  ownerId: string;
  policyId: string;
  conversationId?: string | null;
  lossFn: LossFnName;
  correctionIds?: string[];
  /** An earlier step whose corrections this one learns from again (a replay after an undo). */
  replayOf?: string;
}): Promise<TrainingStep> {
  const d = await resolveDb(db);
  return d.transaction(async (tx) => {
    const [row] = await tx
      .insert(trainingStep)
      .values({ ownerId, policyId, conversationId, lossFn, replayOf })
      .returning();
    if (correctionIds.length > 0) {
      await tx
        .update(correction)
        .set({ trainingStepId: row!.id })
        .where(and(inArray(correction.id, correctionIds), eq(correction.ownerId, ownerId)));
    }
    return row!;
  });
}

/**
 * Takes the oldest queued step whose policy has nothing running and no older step queued, marks
 * it running and returns it; null when there is none. `policyId` narrows it to one policy.
 */
export async function claimNextQueued({
  db,
  policyId,
}: {
  db?: Db;
  policyId?: string;
} = {}): Promise<TrainingStep | null> {
  const onlyPolicy = policyId ? sql`and t.policy_id = ${policyId}` : sql``;
  const oldestReady = sql`(
    select t.id from ${trainingStep} t
    where t.status = 'queued' ${onlyPolicy}
      and not exists (
        select 1 from ${trainingStep} e
        where e.policy_id = t.policy_id and e.id <> t.id
          and (e.status = 'running'
            or (e.status = 'queued' and e.queue_seq < t.queue_seq)))
    order by t.queue_seq
    limit 1
    for update skip locked)`;
  const d = await resolveDb(db);
  const [row] = await d
    .update(trainingStep)
    .set({ status: "running", startedAt: sql`now()` })
    .where(and(sql`${trainingStep.id} = ${oldestReady}`, eq(trainingStep.status, "queued")))
    .returning();
  return row ?? null;
}

/**
 * Records the result and advances the policy, together. Null unless it was running. `step` is
 * the step's place on the axis (the adapter version it made); `optimizerStep`, when it differs
 * (after an undo), is the count of optimizer steps the new weights have taken.
 */
export async function markTrainingStepDone({
  db,
  id,
  step,
  optimizerStep = step,
  metrics,
}: {
  db?: Db;
  id: string;
  step: number;
  optimizerStep?: number;
  metrics: Record<string, number>;
}): Promise<TrainingStep | null> {
  const d = await resolveDb(db);
  return d.transaction(async (tx) => {
    const [row] = await tx
      .update(trainingStep)
      .set({ status: "done", step, metrics, finishedAt: new Date() })
      .where(and(eq(trainingStep.id, id), eq(trainingStep.status, "running")))
      .returning();
    if (!row) return null;
    await tx.update(policy).set({ step: optimizerStep }).where(eq(policy.id, row.policyId));
    return row;
  });
}

export async function markTrainingStepFailed({
  db,
  id,
  error,
}: {
  db?: Db;
  id: string;
  error: string;
}): Promise<TrainingStep | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .update(trainingStep)
    .set({ status: "failed", error, finishedAt: new Date() })
    .where(and(eq(trainingStep.id, id), inArray(trainingStep.status, ["queued", "running"])))
    .returning();
  return row ?? null;
}

/**
 * Fails every step left running since before `startedBefore`: a process that died mid-step
 * never finishes it, and a running step holds back its policy's queue. The trainer calls this at
 * start-up (with one instance, everything running then is orphaned) or with a generous cut-off.
 */
export async function failStaleTrainingSteps({
  db,
  startedBefore,
  policyId,
  error = "interrupted: the process running this step stopped",
}: {
  db?: Db;
  startedBefore: Date;
  /** Only this policy's steps (the one whose lease the caller holds). */
  policyId?: string;
  error?: string;
}): Promise<TrainingStep[]> {
  const d = await resolveDb(db);
  const stale = and(eq(trainingStep.status, "running"), lt(trainingStep.startedAt, startedBefore));
  return d
    .update(trainingStep)
    .set({ status: "failed", error, finishedAt: new Date() })
    .where(policyId ? and(stale, eq(trainingStep.policyId, policyId)) : stale)
    .returning();
}

export async function getTrainingStepForOwner({
  db,
  id,
  ownerId,
}: {
  db?: Db;
  id: string;
  ownerId: string;
}): Promise<TrainingStep | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .select()
    .from(trainingStep)
    .where(and(eq(trainingStep.id, id), eq(trainingStep.ownerId, ownerId)));
  return row ?? null;
}

/** The owner's steps in the order they were queued (a training curve reads left to right). */
export async function listTrainingStepsByOwner({
  db,
  ownerId,
  policyId,
  limit = 10_000,
}: {
  db?: Db;
  ownerId: string;
  policyId?: string;
  limit?: number;
}): Promise<TrainingStep[]> {
  const where = policyId
    ? and(eq(trainingStep.ownerId, ownerId), eq(trainingStep.policyId, policyId))
    : eq(trainingStep.ownerId, ownerId);
  const d = await resolveDb(db);
  return d.select().from(trainingStep).where(where).orderBy(asc(trainingStep.queueSeq)).limit(limit);
}

/** A user's finished steps as the team view plots them; no ids, errors or conversations. */
export type TeamMemberTraining = {
  email: string;
  steps: Array<{ step: number | null; finishedAt: Date | null; metrics: Record<string, number> }>;
};

/**
 * Every user by email (sorted), each with their finished steps that logged metrics, oldest first:
 * the newest `limit` such steps across the team. A user who has trained nothing is listed with none,
 * so the admin's "one line per user" covers the whole team.
 */
export async function listTeamTraining({
  db,
  limit = 10_000,
}: {
  db?: Db;
  limit?: number;
} = {}): Promise<TeamMemberTraining[]> {
  const d = await resolveDb(db);
  const [users, rows] = await Promise.all([
    d.select({ id: user.id, email: user.email }).from(user).orderBy(asc(user.email)),
    d
      .select({
        ownerId: trainingStep.ownerId,
        step: trainingStep.step,
        finishedAt: trainingStep.finishedAt,
        metrics: trainingStep.metrics,
      })
      .from(trainingStep)
      .where(and(eq(trainingStep.status, "done"), sql`jsonb_typeof(${trainingStep.metrics}) = 'object'`))
      .orderBy(desc(trainingStep.queueSeq))
      .limit(limit),
  ]);
  const byOwner = new Map(users.map((u) => [u.id, { email: u.email, steps: [] as TeamMemberTraining["steps"] }]));
  // Newest first from the query; each user's steps are wanted oldest first.
  for (const r of rows.reverse())
    byOwner.get(r.ownerId)?.steps.push({ step: r.step, finishedAt: r.finishedAt, metrics: r.metrics ?? {} });
  return [...byOwner.values()];
}

/** The owner's newest `limit` steps, returned oldest first (the dashboard's first page). */
export async function listLatestStepsForOwner({
  db,
  ownerId,
  limit,
}: {
  db?: Db;
  ownerId: string;
  limit: number;
}): Promise<TrainingStep[]> {
  const d = await resolveDb(db);
  const rows = await d
    .select()
    .from(trainingStep)
    .where(eq(trainingStep.ownerId, ownerId))
    .orderBy(desc(trainingStep.queueSeq))
    .limit(limit);
  return rows.reverse();
}

/** The owner's steps with queue position ≥ `fromSeq`, oldest first: keyset paging for the export, change detection for the stream. */
export async function listStepsForOwnerFromSeq({
  db,
  ownerId,
  fromSeq,
  limit,
}: {
  db?: Db;
  ownerId: string;
  fromSeq: number;
  limit: number;
}): Promise<TrainingStep[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(trainingStep)
    .where(and(eq(trainingStep.ownerId, ownerId), gte(trainingStep.queueSeq, fromSeq)))
    .orderBy(asc(trainingStep.queueSeq))
    .limit(limit);
}

/** Every metric key any of the owner's steps logged, sorted (the export's columns). */
export async function listMetricKeysForOwner({ db, ownerId }: { db?: Db; ownerId: string }): Promise<string[]> {
  const d = await resolveDb(db);
  const rows = await d
    .selectDistinct({ key: sql<string>`jsonb_object_keys(${trainingStep.metrics})` })
    .from(trainingStep)
    .where(and(eq(trainingStep.ownerId, ownerId), sql`jsonb_typeof(${trainingStep.metrics}) = 'object'`));
  return rows.map((r) => r.key).sort();
}

/** Whether the policy has a step queued or running (its weights are about to change). */
export async function hasPendingTrainingStep({ db, policyId }: { db?: Db; policyId: string }): Promise<boolean> {
  const d = await resolveDb(db);
  const [pending] = await d
    .select({ id: trainingStep.id })
    .from(trainingStep)
    .where(and(eq(trainingStep.policyId, policyId), inArray(trainingStep.status, ["queued", "running"])))
    .limit(1);
  return pending !== undefined;
}
