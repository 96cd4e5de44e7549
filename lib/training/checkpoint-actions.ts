/**
 * What the settings page does with a user's checkpoint files: save the policy's state now and
 * export one as a PEFT adapter. Every function takes the owner's id and reads rows through
 * owner-scoped queries, so another user's checkpoint is simply not found. Listing checkpoints
 * beside the adapter timeline and restoring one are the agent's (lib/agent/checkpoints.ts): they
 * need its adapter history, and this module sits below lib/agent.
 *
 * The policy's weights live either in a training client held in memory by this process (reached
 * through the LiveTrainers the caller passes) or, after every trained step, in the state
 * directory the trainer saved. So:
 *   save     live trainer → saveState(name); if none can be opened, a copy of the current
 *            state directory (the trainer saves one after every step, so it is the latest)
 *   export   a state directory → adapter_config.json + adapter_model.safetensors, the exact
 *            files Engine.exportPeft writes (the Adam moments are left out)
 * Tinker checkpoints (tinker:// paths) can be listed and restored but not copied or exported.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Db } from "@/lib/db/client";
import { createCheckpoint, getCheckpointForOwner } from "@/lib/db/queries/checkpoints";
import { getPolicyForOwner } from "@/lib/db/queries/policies";
import type { Checkpoint, Policy } from "@/lib/db/schema";
import { exportPeft, readLoraStateConfig } from "@/lib/engine/state";
import { readSafetensors } from "@/lib/engine/safetensors";
import type { LoraAdapter, LoraTensor } from "@/lib/engine/lora";
import { log } from "@/lib/log";

/** The policies' training clients a process holds; registered by whoever runs the trainer. */
export interface LiveTrainers {
  /**
   * Saves the policy's in-memory state under `name` (after any step in progress here) and
   * returns the path loadState accepts, with the step it holds; null when no client is open.
   */
  saveState(policy: Policy, name: string): Promise<{ path: string; step: number } | null>;
  /** Drops the policy's in-memory clients so the next use reopens from its current checkpoint. */
  forget(policyId: string): void;
  /** Starts the policy's training queue here (steps queued by a replay). */
  train?(policyId: string, ownerId: string): void;
}

/** A state directory on this machine (not a tinker:// path). */
export function isLocalPath(p: string): boolean {
  return path.isAbsolute(p) && !p.includes("://");
}

export type SaveResult =
  | { status: "saved"; checkpoint: Checkpoint }
  | { status: "not_found" }
  | { status: "nothing_to_save" }
  | { status: "unsupported"; reason: string };

/** A checkpoint name that sorts by time and passes every backend's name check. */
export function manualCheckpointName(now = new Date()): string {
  return `manual-${now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}`;
}

export async function saveCheckpointNow({
  db,
  ownerId,
  policyId,
  live,
  now = new Date(),
}: {
  db: Db;
  ownerId: string;
  policyId: string;
  /** This process's training clients; undefined where none trains here. */
  live: LiveTrainers | undefined;
  now?: Date;
}): Promise<SaveResult> {
  const policy = await getPolicyForOwner({ db, id: policyId, ownerId });
  if (!policy) return { status: "not_found" };
  const name = manualCheckpointName(now);
  let saved: { path: string; step: number } | null = null;
  let liveError: unknown = null;
  try {
    saved = (await live?.saveState(policy, name)) ?? null;
  } catch (error) {
    // The client could not be opened here (say the base model is not installed on this server):
    // the state directory on disk still holds the latest weights, so copying it is as good.
    liveError = error;
    log.warn("checkpoint.live_save_failed", { policyId, error });
  }
  if (saved) {
    const checkpoint = await createCheckpoint({
      db,
      ownerId,
      policyId,
      step: saved.step,
      name,
      path: saved.path,
      kind: "state",
    });
    return { status: "saved", checkpoint };
  }
  // No client open here: the newest weights are the current state directory (saved after every step).
  const current = policy.currentCheckpointId
    ? await getCheckpointForOwner({ db, id: policy.currentCheckpointId, ownerId })
    : null;
  if (!current) {
    if (liveError) throw liveError;
    return { status: "nothing_to_save" };
  }
  if (!isLocalPath(current.path))
    return {
      status: "unsupported",
      reason: "this backend's checkpoints can only be saved while its training client is open",
    };
  const target = path.join(path.dirname(current.path), name);
  await fs.cp(current.path, target, { recursive: true, errorOnExist: true, force: false });
  const checkpoint = await createCheckpoint({
    db,
    ownerId,
    policyId,
    step: current.step,
    name,
    path: target,
    kind: "state",
  });
  return { status: "saved", checkpoint };
}

/**
 * Writes the PEFT adapter of a saved training state (lora_state.safetensors + lora_state.json)
 * into `outDir` through the engine's own exportPeft, so the files are those a live export makes.
 */
export function peftFromState(stateDir: string, outDir: string, baseModel: string | null): void {
  const config = readLoraStateConfig(stateDir);
  const tensors: LoraTensor[] = [];
  for (const [name, t] of readSafetensors(path.join(stateDir, "lora_state.safetensors"))) {
    if (name.endsWith(".exp_avg") || name.endsWith(".exp_avg_sq")) continue;
    if (t.shape.length !== 2) throw new Error(`${stateDir}: LoRA tensor ${name} is not a matrix`);
    tensors.push({
      name,
      shape: [t.shape[0]!, t.shape[1]!],
      value: Float32Array.from(t.data as ArrayLike<number>),
      grad: null,
      m: null,
      v: null,
    });
  }
  const adapter: LoraAdapter = { config, scaling: config.alpha / config.rank, layers: [], tensors, step: 0 };
  exportPeft(adapter, outDir, baseModel);
}

export type ExportResult =
  | { status: "ok"; archiveName: string; files: { name: string; data: Uint8Array; mtime: Date }[] }
  | { status: "not_found" }
  | { status: "unsupported"; reason: string };

/** The checkpoint as PEFT adapter files, named `<archive>/<file>`, read back from a temporary directory. */
export async function exportCheckpointPeft({
  db,
  ownerId,
  checkpointId,
}: {
  db: Db;
  ownerId: string;
  checkpointId: string;
}): Promise<ExportResult> {
  const checkpoint = await getCheckpointForOwner({ db, id: checkpointId, ownerId });
  if (!checkpoint) return { status: "not_found" };
  if (!isLocalPath(checkpoint.path))
    return { status: "unsupported", reason: "only checkpoints stored on this server can be exported" };
  const policy = await getPolicyForOwner({ db, id: checkpoint.policyId, ownerId });
  const archiveName = `${policy?.name ?? "policy"}-${checkpoint.name}-peft`.replace(/[^A-Za-z0-9._-]/g, "_");
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "peft-export-"));
  try {
    if (checkpoint.kind === "peft") await fs.cp(checkpoint.path, tmp, { recursive: true });
    else peftFromState(checkpoint.path, tmp, policy?.baseModel ?? null);
    const names = (await fs.readdir(tmp)).sort();
    const files = await Promise.all(
      names.map(async (n) => ({
        name: `${archiveName}/${n}`,
        data: new Uint8Array(await fs.readFile(path.join(tmp, n))),
        mtime: checkpoint.createdAt,
      })),
    );
    return { status: "ok", archiveName, files };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
