// Server code: leases (lib/db/schema.ts's `lease`). Taking one is a single upsert that succeeds
// only when nobody holds it, its holder is the caller, or it has expired, so two instances never
// both hold one. Every time comparison is the database's now(): instances need not agree on the time.
import { and, eq, gt, inArray, lt, lte, or, sql } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import type { LeaseKind } from "../enums";
import { type Conversation, conversation, type Lease, lease, trainingStep } from "../schema";

export type LeaseResource = { kind: LeaseKind; id: string };

const expiresIn = (ttlMs: number) => sql`now() + make_interval(secs => ${ttlMs / 1000})`;

/** Takes or renews the lease for `holder`; null when another holder's lease has not expired. */
export async function acquireLease({
  db,
  resource,
  holder,
  ttlMs,
}: {
  db?: Db;
  resource: LeaseResource;
  holder: string;
  ttlMs: number;
}): Promise<Lease | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .insert(lease)
    .values({
      kind: resource.kind,
      resourceId: resource.id,
      holder,
      acquiredAt: sql`now()`,
      renewedAt: sql`now()`,
      expiresAt: expiresIn(ttlMs),
    })
    .onConflictDoUpdate({
      target: [lease.kind, lease.resourceId],
      set: {
        holder,
        acquiredAt: sql`case when ${lease.holder} = ${holder} then ${lease.acquiredAt} else now() end`,
        renewedAt: sql`now()`,
        expiresAt: expiresIn(ttlMs),
      },
      setWhere: or(eq(lease.holder, holder), lte(lease.expiresAt, sql`now()`)),
    })
    .returning();
  return row ?? null;
}

/**
 * Extends every lease `holder` still has. Returns those renewed: a lease missing from them was
 * taken over by another instance (this one let it expire) and is no longer the caller's.
 */
export async function renewLeases({
  db,
  holder,
  ttlMs,
}: {
  db?: Db;
  holder: string;
  ttlMs: number;
}): Promise<LeaseResource[]> {
  const d = await resolveDb(db);
  const rows = await d
    .update(lease)
    .set({ renewedAt: sql`now()`, expiresAt: expiresIn(ttlMs) })
    .where(eq(lease.holder, holder))
    .returning({ kind: lease.kind, id: lease.resourceId });
  return rows;
}

/** Gives the lease up, if `holder` still has it. */
export async function releaseLease({
  db,
  resource,
  holder,
}: {
  db?: Db;
  resource: LeaseResource;
  holder: string;
}): Promise<void> {
  const d = await resolveDb(db);
  await d
    .delete(lease)
    .where(and(eq(lease.kind, resource.kind), eq(lease.resourceId, resource.id), eq(lease.holder, holder)));
}

/** Every lease `holder` has (graceful shutdown gives them all up at once). */
export async function releaseLeasesOf({ db, holder }: { db?: Db; holder: string }): Promise<void> {
  const d = await resolveDb(db);
  await d.delete(lease).where(eq(lease.holder, holder));
}

/** Forgets every lease: for a database only this process can have open (PGlite), whose earlier holders are gone. */
export async function clearLeases({ db }: { db?: Db } = {}): Promise<void> {
  const d = await resolveDb(db);
  await d.delete(lease);
}

/** The lease as it stands, expired or not; null when nobody holds it. */
export async function getLease({ db, resource }: { db?: Db; resource: LeaseResource }): Promise<Lease | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .select()
    .from(lease)
    .where(and(eq(lease.kind, resource.kind), eq(lease.resourceId, resource.id)));
  return row ?? null;
}

/** Leases that have not expired. */
export async function listLiveLeases({ db }: { db?: Db } = {}): Promise<Lease[]> {
  const d = await resolveDb(db);
  return d.select().from(lease).where(gt(lease.expiresAt, sql`now()`));
}

const unleased = (kind: LeaseKind, id: typeof conversation.id | typeof trainingStep.policyId) =>
  sql`not exists (select 1 from ${lease} where ${lease.kind} = ${kind} and ${lease.resourceId} = ${id} and ${lease.expiresAt} > now())`;

const quietFor = (ms: number) => sql`now() - make_interval(secs => ${ms / 1000})`;

/**
 * Conversations in the middle of a turn (sampling, executing, training) that no live instance
 * runs and nobody has touched for `quietForMs`: one whose state was just written is about to be
 * taken by the instance that wrote it, which must not lose the race to a sweep.
 */
export async function listUnleasedActiveConversations({
  db,
  quietForMs,
}: {
  db?: Db;
  quietForMs: number;
}): Promise<Conversation[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(conversation)
    .where(
      and(
        inArray(conversation.state, ["sampling", "executing", "training"]),
        lt(conversation.updatedAt, quietFor(quietForMs)),
        unleased("conversation", conversation.id),
      ),
    );
}

/**
 * Policies whose training queue no live instance runs and that have a step running (its trainer
 * is gone) or one queued for at least `quietForMs` (its queuer would have started it by then).
 */
export async function listUnleasedTrainingPolicies({
  db,
  quietForMs,
}: {
  db?: Db;
  quietForMs: number;
}): Promise<Array<{ policyId: string; ownerId: string }>> {
  const d = await resolveDb(db);
  return d
    .selectDistinct({ policyId: trainingStep.policyId, ownerId: trainingStep.ownerId })
    .from(trainingStep)
    .where(
      and(
        or(
          eq(trainingStep.status, "running"),
          and(eq(trainingStep.status, "queued"), lt(trainingStep.queuedAt, quietFor(quietForMs))),
        ),
        unleased("policy", trainingStep.policyId),
      ),
    );
}
