/**
 * A user's adapter history: the timeline of versions (correction → step → version), and the three
 * ways back: undo a trained version (return to the version before it, optionally replaying the
 * later corrections without it), restore any version whose weights are kept, or reset to the base
 * model. Each way back is itself a new version that takes older weights, so numbers only grow:
 *   check (no step queued or running) → new version + policy's current checkpoint, one
 *   transaction → drop the in-memory clients (the next use loads the weights) → queue replays.
 * The current weights are the newest version's; which earlier trained versions they contain is
 * its lineage, followed back through each version's source.
 */
import type { Db } from "@/lib/db/client";
import {
  getVersionByNumber,
  listCorrectionTextsBySteps,
  listVersionsByPolicy,
  recordAdapterVersion,
  setVersionCheckpoint,
} from "@/lib/db/queries/adapter-versions";
import { getCheckpointForOwner, listCheckpointsByPolicy } from "@/lib/db/queries/checkpoints";
import { getPolicyForOwner, setPolicyCheckpoint } from "@/lib/db/queries/policies";
import { enqueueTrainingStep, hasPendingTrainingStep, listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import type { AdapterVersion, AdapterVersionEvent, Checkpoint } from "@/lib/db/schema";
import type { LiveTrainers } from "@/lib/training/checkpoint-actions";
import { liveTrainersFromRuntime } from "./live-trainers";
import { pruneVersionWeights, type Retention } from "./adapter-retention";
import type { AgentCore } from "./core";

/** One row of the timeline, as the panel, the dashboard and the review show it. */
export type TimelineEntry = {
  version: number;
  event: AdapterVersionEvent;
  /** trained: the version it trained from; undo/restore: whose weights it took; reset: 0. */
  sourceVersion: number;
  /** For an undo: the trained version it took back. */
  undoneVersion: number | null;
  createdAt: string;
  /** The corrections a trained version learned from (for a replay, the replayed ones). */
  corrections: { id: string; kind: string; text: string }[];
  trainingStepId: string | null;
  /** Whether this version's training is part of the current weights. */
  inCurrent: boolean;
  current: boolean;
  /** Whether its weights are kept, so it can be restored (or, for the one before, undone to). */
  kept: boolean;
  replay: boolean;
};

export type Timeline = { policyId: string; currentVersion: number; entries: TimelineEntry[] };

/** The trained versions whose learning the newest version's weights hold, oldest first. */
export function lineage(versions: Pick<AdapterVersion, "number" | "event" | "sourceVersion">[]): number[] {
  const byNumber = new Map(versions.map((v) => [v.number, v]));
  const newest = versions.reduce((n, v) => Math.max(n, v.number), 0);
  const trained: number[] = [];
  // Sources are always older, so this walk ends (at 0, the base model, or a reset).
  for (let v = byNumber.get(newest); v; v = v.event === "reset" ? undefined : byNumber.get(v.sourceVersion)) {
    if (v.event === "trained") trained.push(v.number);
  }
  return trained.reverse();
}

export async function getTimeline({
  db,
  ownerId,
  policyId,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
}): Promise<Timeline | null> {
  const policy = await getPolicyForOwner({ db, id: policyId, ownerId });
  if (!policy) return null;
  const versions = await listVersionsByPolicy({ db, ownerId, policyId });
  const steps = new Map((await listTrainingStepsByOwner({ db, ownerId, policyId })).map((s) => [s.id, s]));
  const learnedFrom = (stepId: string | null) => (stepId ? (steps.get(stepId)?.replayOf ?? stepId) : null);
  const corrections = await listCorrectionTextsBySteps({
    db,
    ownerId,
    trainingStepIds: versions.map((v) => learnedFrom(v.trainingStepId)).filter((id): id is string => id !== null),
  });
  const held = new Set(lineage(versions));
  return {
    policyId,
    currentVersion: policy.version,
    entries: versions.map((v) => ({
      version: v.number,
      event: v.event,
      sourceVersion: v.sourceVersion,
      undoneVersion: v.undoneVersion,
      createdAt: v.createdAt.toISOString(),
      corrections: corrections.get(learnedFrom(v.trainingStepId) ?? "") ?? [],
      trainingStepId: v.trainingStepId,
      inCurrent: held.has(v.number),
      current: v.number === policy.version,
      kept: v.checkpointId !== null || v.event === "reset",
      replay: Boolean(v.trainingStepId && steps.get(v.trainingStepId)?.replayOf),
    })),
  };
}

/**
 * The trained versions in the current weights that were made since `since` (a turn's start):
 * what a review offers to undo. Newest first, each with the corrections behind it.
 */
export async function versionsSince({
  db,
  ownerId,
  policyId,
  since,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
  since: Date;
}): Promise<TimelineEntry[]> {
  const timeline = await getTimeline({ db, ownerId, policyId });
  if (!timeline) return [];
  return timeline.entries
    .filter((e) => e.event === "trained" && e.inCurrent && Date.parse(e.createdAt) >= since.getTime())
    .reverse();
}

export type HistoryResult =
  | { status: "done"; version: number; replayed: number }
  | { status: "not_found" }
  /** A step of the policy is queued or running: its result would land on top of the change. */
  | { status: "busy" }
  /** The weights asked for were let go by retention (or were never a saved state). */
  | { status: "not_kept" }
  /** Undo of a version whose training the current weights no longer hold (already undone or reset). */
  | { status: "not_in_current" };

type WhereTo = {
  event: Exclude<AdapterVersionEvent, "trained">;
  sourceVersion: number;
  undoneVersion?: number;
  checkpoint: Checkpoint | null;
  optimizerStep: number;
};

/** Makes `to` the policy's newest version and current weights; then the clients are reopened. */
async function moveTo({
  db,
  ownerId,
  policyId,
  to,
  live,
  retention,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
  to: WhereTo;
  live?: LiveTrainers;
  retention?: Retention;
}): Promise<{ status: "busy" } | { status: "moved"; version: AdapterVersion }> {
  const moved = await db.transaction(async (tx) => {
    if (await hasPendingTrainingStep({ db: tx, policyId })) return null;
    const version = await recordAdapterVersion({
      db: tx,
      version: {
        ownerId,
        policyId,
        event: to.event,
        sourceVersion: to.sourceVersion,
        undoneVersion: to.undoneVersion ?? null,
        optimizerStep: to.optimizerStep,
      },
    });
    const checkpointId = to.checkpoint?.id ?? null;
    if (checkpointId) await setVersionCheckpoint({ db: tx, id: version.id, checkpointId });
    await setPolicyCheckpoint({ db: tx, ownerId, policyId, checkpointId, step: to.optimizerStep });
    return { ...version, checkpointId };
  });
  if (!moved) return { status: "busy" };
  live?.forget(policyId);
  if (retention)
    await pruneVersionWeights({ db, ownerId, policyId, currentCheckpointId: moved.checkpointId, retention });
  return { status: "moved", version: moved };
}

/**
 * The weights of version `number`: its checkpoint; for a reset, none (the base model); for 0,
 * where the policy started: the newest state saved before its first version (a starting
 * checkpoint, or one saved before versions were numbered), else none (--checkpoint or the base).
 */
async function weightsOf({
  db,
  ownerId,
  policyId,
  number,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
  number: number;
}): Promise<{ checkpoint: Checkpoint | null; optimizerStep: number } | "not_found" | "not_kept"> {
  if (number === 0) {
    const start = (await listCheckpointsByPolicy({ db, ownerId, policyId }))
      .filter((c) => c.kind === "state" && c.version === 0)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    return { checkpoint: start ?? null, optimizerStep: start?.step ?? 0 };
  }
  const version = await getVersionByNumber({ db, ownerId, policyId, number });
  if (!version) return "not_found";
  if (version.event === "reset") return { checkpoint: null, optimizerStep: 0 };
  const checkpoint = version.checkpointId
    ? await getCheckpointForOwner({ db, id: version.checkpointId, ownerId })
    : null;
  if (checkpoint?.kind !== "state") return "not_kept";
  return { checkpoint, optimizerStep: version.optimizerStep };
}

/** Restores version `version`'s weights exactly, as a new version. */
export async function restoreVersion({
  db,
  ownerId,
  policyId,
  version,
  live,
  retention,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
  version: number;
  live?: LiveTrainers;
  retention?: Retention;
}): Promise<HistoryResult> {
  if (!(await getPolicyForOwner({ db, id: policyId, ownerId }))) return { status: "not_found" };
  const weights = await weightsOf({ db, ownerId, policyId, number: version });
  if (weights === "not_found" || weights === "not_kept") return { status: weights };
  const moved = await moveTo({
    db,
    ownerId,
    policyId,
    to: { event: "restore", sourceVersion: version, ...weights },
    live,
    retention,
  });
  return moved.status === "busy" ? moved : { status: "done", version: moved.version.number, replayed: 0 };
}

/** Restores a saved checkpoint (a manual save, or any state row of the policy) as a new version. */
export async function restoreCheckpointAsVersion({
  db,
  ownerId,
  checkpoint,
  live,
  retention,
}: {
  db: Db;
  ownerId: string;
  checkpoint: Checkpoint;
  live?: LiveTrainers;
  retention?: Retention;
}): Promise<HistoryResult> {
  const moved = await moveTo({
    db,
    ownerId,
    policyId: checkpoint.policyId,
    to: { event: "restore", sourceVersion: checkpoint.version, checkpoint, optimizerStep: checkpoint.step },
    live,
    retention,
  });
  return moved.status === "busy" ? moved : { status: "done", version: moved.version.number, replayed: 0 };
}

/** Back to the base model: a fresh adapter, as a new version. */
export async function resetToBase({
  db,
  ownerId,
  policyId,
  live,
  retention,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
  live?: LiveTrainers;
  retention?: Retention;
}): Promise<HistoryResult> {
  if (!(await getPolicyForOwner({ db, id: policyId, ownerId }))) return { status: "not_found" };
  const moved = await moveTo({
    db,
    ownerId,
    policyId,
    to: { event: "reset", sourceVersion: 0, checkpoint: null, optimizerStep: 0 },
    live,
    retention,
  });
  return moved.status === "busy" ? moved : { status: "done", version: moved.version.number, replayed: 0 };
}

/**
 * Undoes trained version `version`: back to the version it trained from, as a new version. With
 * `replay`, each later trained version in the current weights is queued again as a step on the
 * same corrections (never the undone one's), in order; `live.train` starts the queue.
 */
export async function undoVersion({
  db,
  ownerId,
  policyId,
  version,
  replay = false,
  live,
  retention,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
  version: number;
  replay?: boolean;
  live?: LiveTrainers;
  retention?: Retention;
}): Promise<HistoryResult> {
  if (!(await getPolicyForOwner({ db, id: policyId, ownerId }))) return { status: "not_found" };
  const versions = await listVersionsByPolicy({ db, ownerId, policyId });
  const undone = versions.find((v) => v.number === version);
  if (undone?.event !== "trained") return { status: "not_found" };
  const held = lineage(versions);
  if (!held.includes(version)) return { status: "not_in_current" };
  const weights = await weightsOf({ db, ownerId, policyId, number: undone.sourceVersion });
  if (weights === "not_found" || weights === "not_kept") return { status: weights };
  const moved = await moveTo({
    db,
    ownerId,
    policyId,
    to: { event: "undo", sourceVersion: undone.sourceVersion, undoneVersion: version, ...weights },
    live,
    retention,
  });
  if (moved.status === "busy") return moved;
  if (!replay) return { status: "done", version: moved.version.number, replayed: 0 };
  // Replays learn from the original step's corrections; a replay of a replay, from the first.
  const steps = new Map((await listTrainingStepsByOwner({ db, ownerId, policyId })).map((s) => [s.id, s]));
  const later = held.filter((n) => n > version).map((n) => versions.find((v) => v.number === n)!);
  let replayed = 0;
  for (const v of later) {
    const step = v.trainingStepId ? steps.get(v.trainingStepId) : undefined;
    if (!step) continue;
    await enqueueTrainingStep({ db, ownerId, policyId, lossFn: step.lossFn, replayOf: step.replayOf ?? step.id });
    replayed++;
  }
  if (replayed > 0) live?.train?.(policyId, ownerId);
  return { status: "done", version: moved.version.number, replayed };
}

/** The LiveTrainers of an agent in this process: forget its clients, start its training queue. */
export function liveTrainersOf(core: Pick<AgentCore, "runtime" | "config" | "kickTraining">): LiveTrainers {
  return liveTrainersFromRuntime(
    core.runtime,
    (ownerId) => core.config(ownerId),
    (policyId, ownerId) => core.kickTraining(policyId, ownerId),
  );
}
