// Server code: a policy's adapter versions (the timeline correction → step → version). A version's
// number is taken from policy.version in the same statement that advances it (UPDATE … RETURNING),
// so two writers can never take the same number and a number is never reused.
import { and, asc, eq, gte, inArray, sql } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import {
  type AdapterVersion,
  type AdapterVersionEvent,
  adapterVersion,
  checkpoint,
  correction,
  policy,
} from "../schema";

export type NewVersion = {
  ownerId: string;
  policyId: string;
  event: AdapterVersionEvent;
  sourceVersion: number;
  trainingStepId?: string | null;
  undoneVersion?: number | null;
  optimizerStep: number;
};

/** Advances the policy's version counter and records the version it names; run inside the caller's transaction. */
export async function recordAdapterVersion({ db, version }: { db?: Db; version: NewVersion }): Promise<AdapterVersion> {
  const d = await resolveDb(db);
  const [bumped] = await d
    .update(policy)
    .set({ version: sql`${policy.version} + 1` })
    .where(and(eq(policy.id, version.policyId), eq(policy.ownerId, version.ownerId)))
    .returning({ version: policy.version });
  if (!bumped) throw new Error(`policy ${version.policyId} not found`);
  const [row] = await d
    .insert(adapterVersion)
    .values({ ...version, number: bumped.version })
    .returning();
  return row!;
}

/** Points a version at the checkpoint that keeps its weights. */
export async function setVersionCheckpoint({
  db,
  id,
  checkpointId,
}: {
  db?: Db;
  id: string;
  checkpointId: string | null;
}): Promise<void> {
  const d = await resolveDb(db);
  await d.update(adapterVersion).set({ checkpointId }).where(eq(adapterVersion.id, id));
}

/** The policy's versions, oldest first. */
export async function listVersionsByPolicy({
  db,
  ownerId,
  policyId,
  since,
}: {
  db?: Db;
  ownerId: string;
  policyId: string;
  since?: Date;
}): Promise<AdapterVersion[]> {
  const d = await resolveDb(db);
  const where = and(
    eq(adapterVersion.policyId, policyId),
    eq(adapterVersion.ownerId, ownerId),
    since ? gte(adapterVersion.createdAt, since) : undefined,
  );
  return d.select().from(adapterVersion).where(where).orderBy(asc(adapterVersion.number));
}

export async function getVersionByNumber({
  db,
  ownerId,
  policyId,
  number,
}: {
  db?: Db;
  ownerId: string;
  policyId: string;
  number: number;
}): Promise<AdapterVersion | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .select()
    .from(adapterVersion)
    .where(
      and(
        eq(adapterVersion.policyId, policyId),
        eq(adapterVersion.ownerId, ownerId),
        eq(adapterVersion.number, number),
      ),
    );
  return row ?? null;
}

/** What the timeline says about each step: the corrections it learned from, by training step id. */
export async function listCorrectionTextsBySteps({
  db,
  ownerId,
  trainingStepIds,
}: {
  db?: Db;
  ownerId: string;
  trainingStepIds: string[];
}): Promise<Map<string, { id: string; kind: string; text: string }[]>> {
  const out = new Map<string, { id: string; kind: string; text: string }[]>();
  if (trainingStepIds.length === 0) return out;
  const d = await resolveDb(db);
  const rows = await d
    .select({
      id: correction.id,
      kind: correction.kind,
      text: correction.text,
      trainingStepId: correction.trainingStepId,
    })
    .from(correction)
    .where(and(eq(correction.ownerId, ownerId), inArray(correction.trainingStepId, trainingStepIds)))
    .orderBy(asc(correction.createdAt), asc(correction.id));
  for (const r of rows) {
    const list = out.get(r.trainingStepId!) ?? [];
    list.push({ id: r.id, kind: r.kind, text: r.text });
    out.set(r.trainingStepId!, list);
  }
  return out;
}

/** The policy's checkpoints that a training step saved (the ones retention may let go). */
export async function listStepCheckpoints({ db, ownerId, policyId }: { db?: Db; ownerId: string; policyId: string }) {
  const d = await resolveDb(db);
  return d
    .select()
    .from(checkpoint)
    .where(and(eq(checkpoint.policyId, policyId), eq(checkpoint.ownerId, ownerId), eq(checkpoint.origin, "step")));
}
