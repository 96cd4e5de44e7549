/**
 * Which adapter versions keep their weights: the newest `keepVersions` (so the recent steps can be
 * undone), every trained version whose number is a multiple of `saveEvery` (--save-every), and the
 * base model (which needs no files). Every other checkpoint a training step saved is let go after
 * each new version: its row is deleted first (its versions then show "weights not kept"), then its
 * files, so a crash in between leaves stray files, never a row pointing at nothing. Checkpoints a
 * user saved by hand are never let go.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { Db } from "@/lib/db/client";
import { listStepCheckpoints, listVersionsByPolicy } from "@/lib/db/queries/adapter-versions";
import { deleteCheckpointForOwner } from "@/lib/db/queries/checkpoints";
import type { AdapterVersion } from "@/lib/db/schema";
import { log } from "@/lib/log";

export type Retention = { saveEvery: number; keepVersions: number };

/** The numbers of the versions whose weights are kept, given every version of the policy. */
export function versionsToKeep(
  versions: Pick<AdapterVersion, "number" | "event">[],
  { saveEvery, keepVersions }: Retention,
): Set<number> {
  const newest = versions.reduce((n, v) => Math.max(n, v.number), 0);
  const keep = new Set<number>();
  for (const v of versions) {
    // At least the newest: it is the current weights, which a restart resumes.
    if (v.number > newest - Math.max(1, keepVersions)) keep.add(v.number);
    else if (saveEvery > 0 && v.event === "trained" && v.number % saveEvery === 0) keep.add(v.number);
  }
  return keep;
}

/** A state directory on this machine; a tinker:// path is only forgotten (its service keeps it). */
function isLocalPath(p: string): boolean {
  return path.isAbsolute(p) && !p.includes("://");
}

/** Lets go of the step checkpoints no kept version (and not the current one) needs; returns their ids. */
export async function pruneVersionWeights({
  db,
  ownerId,
  policyId,
  currentCheckpointId,
  retention,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
  currentCheckpointId: string | null;
  retention: Retention;
}): Promise<string[]> {
  const versions = await listVersionsByPolicy({ db, ownerId, policyId });
  const keep = versionsToKeep(versions, retention);
  const needed = new Set<string>();
  for (const v of versions) if (v.checkpointId && keep.has(v.number)) needed.add(v.checkpointId);
  if (currentCheckpointId) needed.add(currentCheckpointId);
  const dropped: string[] = [];
  for (const c of await listStepCheckpoints({ db, ownerId, policyId })) {
    if (needed.has(c.id)) continue;
    await deleteCheckpointForOwner({ db, id: c.id, ownerId });
    dropped.push(c.id);
    if (isLocalPath(c.path))
      await fs
        .rm(c.path, { recursive: true, force: true })
        .catch((error: unknown) => log.warn("retention.remove_failed", { path: c.path, error }));
  }
  return dropped;
}
