/**
 * A user's checkpoints as the agent sees them: listed beside the adapter timeline (which
 * corrections each version learned from) and restored as a new adapter version. These live in
 * lib/agent, not with the checkpoint files in lib/training/checkpoint-actions.ts, because they
 * need the adapter history, and lib/training sits below lib/agent.
 */
import type { Db } from "@/lib/db/client";
import { getCheckpointForOwner, listCheckpointsByPolicy } from "@/lib/db/queries/checkpoints";
import { listPoliciesByOwner } from "@/lib/db/queries/policies";
import type { Checkpoint, CheckpointOrigin } from "@/lib/db/schema";
import { isLocalPath, type LiveTrainers } from "@/lib/training/checkpoint-actions";
import { getTimeline, restoreCheckpointAsVersion } from "./adapter-history";

export type CheckpointListing = {
  id: string;
  policyId: string;
  policyName: string;
  /** The adapter version whose weights these are: its place on the step axis. */
  version: number;
  origin: CheckpointOrigin;
  /** The corrections the version's training step learned from (none for a manual save of another). */
  corrections: { id: string; kind: string; text: string }[];
  /** Optimizer steps the weights had taken. */
  step: number;
  name: string;
  kind: string;
  createdAt: string;
  current: boolean;
  exportable: boolean;
};

export type PolicyListing = { id: string; name: string; step: number; baseModel: string; backend: string };

export async function listCheckpointsForOwner({
  db,
  ownerId,
}: {
  db: Db;
  ownerId: string;
}): Promise<{ policies: PolicyListing[]; checkpoints: CheckpointListing[] }> {
  const policies = await listPoliciesByOwner({ db, ownerId });
  const checkpoints: CheckpointListing[] = [];
  for (const p of policies) {
    const behind = await correctionsByVersion({ db, ownerId, policyId: p.id });
    for (const c of await listCheckpointsByPolicy({ db, ownerId, policyId: p.id })) {
      checkpoints.push({
        id: c.id,
        policyId: p.id,
        policyName: p.name,
        version: c.version,
        origin: c.origin,
        corrections: behind.get(c.version) ?? [],
        step: c.step,
        name: c.name,
        kind: c.kind,
        createdAt: c.createdAt.toISOString(),
        current: p.currentCheckpointId === c.id,
        exportable: c.kind !== "sampler" && isLocalPath(c.path),
      });
    }
  }
  return {
    policies: policies.map((p) => ({
      id: p.id,
      name: p.name,
      step: p.step,
      baseModel: p.baseModel,
      backend: p.backend,
    })),
    checkpoints,
  };
}

export type RestoreResult =
  | { status: "restored"; checkpoint: Checkpoint; version: number }
  | { status: "not_found" }
  | { status: "busy" }
  | { status: "not_a_state" };

/**
 * Makes the checkpoint's weights a new adapter version, the policy's current one, unless a
 * step of that policy is queued or running: restoring under it would be overwritten when it
 * finishes. The in-memory clients are dropped so the next use loads the restored state.
 */
export async function restoreCheckpoint({
  db,
  ownerId,
  checkpointId,
  live,
}: {
  db: Db;
  ownerId: string;
  checkpointId: string;
  /** This process's training clients; undefined where none trains here. */
  live: LiveTrainers | undefined;
}): Promise<RestoreResult> {
  const checkpoint = await getCheckpointForOwner({ db, id: checkpointId, ownerId });
  if (!checkpoint) return { status: "not_found" };
  if (checkpoint.kind !== "state") return { status: "not_a_state" };
  const restored = await restoreCheckpointAsVersion({ db, ownerId, checkpoint, live });
  switch (restored.status) {
    case "done":
      return { status: "restored", checkpoint, version: restored.version };
    case "busy":
    case "not_found":
      return { status: restored.status };
    case "not_kept":
    case "not_in_current":
      return { status: "not_a_state" };
    default: {
      const never: never = restored;
      throw new Error(`unexpected restore result ${JSON.stringify(never)}`);
    }
  }
}

/** The corrections behind each trained version of the policy, by version number. */
async function correctionsByVersion({
  db,
  ownerId,
  policyId,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
}): Promise<Map<number, CheckpointListing["corrections"]>> {
  const timeline = await getTimeline({ db, ownerId, policyId });
  return new Map((timeline?.entries ?? []).map((e) => [e.version, e.corrections]));
}
