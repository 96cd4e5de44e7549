// Server code: saved weights of a policy. Saving a "state" checkpoint (weights + optimizer) also
// makes it the policy's current one, in the same transaction, so a restart resumes from it.
import { and, desc, eq } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import type { CheckpointKind, CheckpointOrigin } from "../enums";
import { type Checkpoint, checkpoint, policy } from "../schema";

export type { CheckpointKind };

export async function createCheckpoint({
  db,
  ownerId,
  policyId,
  step,
  name,
  path,
  kind,
  version,
  origin = "manual",
}: {
  db?: Db;
  ownerId: string;
  policyId: string;
  step: number;
  name: string;
  path: string;
  kind: CheckpointKind;
  /** The adapter version whose weights these are (default: the policy's current one). */
  version?: number;
  origin?: CheckpointOrigin;
}): Promise<Checkpoint> {
  const d = await resolveDb(db);
  return d.transaction(async (tx) => {
    const current =
      version ??
      (
        await tx
          .select({ version: policy.version })
          .from(policy)
          .where(and(eq(policy.id, policyId), eq(policy.ownerId, ownerId)))
      )[0]?.version ??
      0;
    const [row] = await tx
      .insert(checkpoint)
      .values({ ownerId, policyId, step, name, path, kind, version: current, origin })
      .returning();
    if (kind === "state") {
      await tx
        .update(policy)
        .set({ currentCheckpointId: row!.id })
        .where(and(eq(policy.id, policyId), eq(policy.ownerId, ownerId)));
    }
    return row!;
  });
}

export async function getCheckpointForOwner({
  db,
  id,
  ownerId,
}: {
  db?: Db;
  id: string;
  ownerId: string;
}): Promise<Checkpoint | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .select()
    .from(checkpoint)
    .where(and(eq(checkpoint.id, id), eq(checkpoint.ownerId, ownerId)));
  return row ?? null;
}

/** The policy's checkpoints, newest step first. */
export async function listCheckpointsByPolicy({
  db,
  ownerId,
  policyId,
}: {
  db?: Db;
  ownerId: string;
  policyId: string;
}): Promise<Checkpoint[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(checkpoint)
    .where(and(eq(checkpoint.policyId, policyId), eq(checkpoint.ownerId, ownerId)))
    .orderBy(desc(checkpoint.step), desc(checkpoint.createdAt));
}

/** Deletes the owner's checkpoint row (retention, after its files are gone). */
export async function deleteCheckpointForOwner({
  db,
  id,
  ownerId,
}: {
  db?: Db;
  id: string;
  ownerId: string;
}): Promise<void> {
  const d = await resolveDb(db);
  await d.delete(checkpoint).where(and(eq(checkpoint.id, id), eq(checkpoint.ownerId, ownerId)));
}
