// Server code: policies, a user's adapter (base model, backend, rank) and how far it has trained.
// getOrCreatePolicy is idempotent under races: the (owner, name) unique index decides the winner
// and everyone then reads the same row.
import { and, asc, eq } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import type { PolicyBackend } from "../enums";
import { type Policy, policy } from "../schema";

export type { PolicyBackend };

export async function getOrCreatePolicy({
  db,
  ownerId,
  name = "default",
  baseModel,
  backend,
  loraRank,
}: {
  db?: Db;
  ownerId: string;
  name?: string;
  baseModel: string;
  backend: PolicyBackend;
  loraRank: number;
}): Promise<Policy> {
  const d = await resolveDb(db);
  await d
    .insert(policy)
    .values({ ownerId, name, baseModel, backend, loraRank })
    .onConflictDoNothing({ target: [policy.ownerId, policy.name] });
  const [row] = await d
    .select()
    .from(policy)
    .where(and(eq(policy.ownerId, ownerId), eq(policy.name, name)));
  return row!;
}

export async function getPolicyForOwner({
  db,
  id,
  ownerId,
}: {
  db?: Db;
  id: string;
  ownerId: string;
}): Promise<Policy | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .select()
    .from(policy)
    .where(and(eq(policy.id, id), eq(policy.ownerId, ownerId)));
  return row ?? null;
}

/** A policy by id alone: for the trainer, which acts on a step it claimed, not on a request. */
export async function getPolicyById({ db, id }: { db?: Db; id: string }): Promise<Policy | null> {
  const d = await resolveDb(db);
  const [row] = await d.select().from(policy).where(eq(policy.id, id));
  return row ?? null;
}

export async function listPoliciesByOwner({ db, ownerId }: { db?: Db; ownerId: string }): Promise<Policy[]> {
  const d = await resolveDb(db);
  return d.select().from(policy).where(eq(policy.ownerId, ownerId)).orderBy(asc(policy.createdAt), asc(policy.id));
}

/** Points the owner's policy at a saved state and the step it was saved at (null: the base model). */
export async function setPolicyCheckpoint({
  db,
  ownerId,
  policyId,
  checkpointId,
  step,
}: {
  db?: Db;
  ownerId: string;
  policyId: string;
  checkpointId: string | null;
  step: number;
}): Promise<void> {
  const d = await resolveDb(db);
  await d
    .update(policy)
    .set({ currentCheckpointId: checkpointId, step })
    .where(and(eq(policy.id, policyId), eq(policy.ownerId, ownerId)));
}
