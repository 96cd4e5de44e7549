/**
 * Where a policy's saved states are listed, so a restart resumes the newest one: a small
 * CheckpointStore interface with two implementations, a JSONL log in a directory (the original's
 * `checkpoints.jsonl`, but the directory is created) and the database (checkpoint rows; saving a
 * state makes it the policy's current checkpoint). The weights themselves live where the backend
 * put them; a record holds the path the backend returned.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { Db } from "@/lib/db/client";
import { createCheckpoint, getCheckpointForOwner, listCheckpointsByPolicy } from "@/lib/db/queries/checkpoints";
import { getPolicyForOwner } from "@/lib/db/queries/policies";

export interface CheckpointRecord {
  name: string;
  /** Optimizer steps the state had taken. */
  step: number;
  /** What TrainingClient.loadState accepts (a directory or a tinker:// path). */
  statePath: string;
  createdAt: string;
}

export interface CheckpointStore {
  record(entry: Omit<CheckpointRecord, "createdAt">): Promise<CheckpointRecord>;
  /** The state a restart resumes from, or null when none was saved. */
  latest(): Promise<CheckpointRecord | null>;
  /** The record of a given state path, if this store saved it (to learn its step count). */
  find(statePath: string): Promise<CheckpointRecord | null>;
}

/** `<dir>/checkpoints.jsonl`, one record per line, appended; the last line is the latest. */
export function fileCheckpointStore(dir: string): CheckpointStore {
  const log = path.join(dir, "checkpoints.jsonl");
  const readAll = async (): Promise<CheckpointRecord[]> => {
    let text: string;
    try {
      text = await fs.readFile(log, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => JSON.parse(line) as CheckpointRecord);
  };
  return {
    async record(entry) {
      const rec: CheckpointRecord = { ...entry, createdAt: new Date().toISOString() };
      await fs.mkdir(dir, { recursive: true });
      await fs.appendFile(log, `${JSON.stringify(rec)}\n`);
      return rec;
    },
    async latest() {
      const all = await readAll();
      return all.at(-1) ?? null;
    },
    async find(statePath) {
      return (await readAll()).findLast((r) => r.statePath === statePath) ?? null;
    },
  };
}

/** Checkpoint rows of one policy; the latest is the policy's current checkpoint. */
export function dbCheckpointStore({
  db,
  ownerId,
  policyId,
}: {
  db: Db;
  ownerId: string;
  policyId: string;
}): CheckpointStore {
  const toRecord = (row: { name: string; step: number; path: string; createdAt: Date }): CheckpointRecord => ({
    name: row.name,
    step: row.step,
    statePath: row.path,
    createdAt: row.createdAt.toISOString(),
  });
  return {
    async record(entry) {
      const row = await createCheckpoint({
        db,
        ownerId,
        policyId,
        step: entry.step,
        name: entry.name,
        path: entry.statePath,
        kind: "state",
      });
      return toRecord(row);
    },
    async latest() {
      const policy = await getPolicyForOwner({ db, id: policyId, ownerId });
      if (!policy?.currentCheckpointId) return null;
      const row = await getCheckpointForOwner({ db, id: policy.currentCheckpointId, ownerId });
      return row ? toRecord(row) : null;
    },
    async find(statePath) {
      const rows = await listCheckpointsByPolicy({ db, ownerId, policyId });
      const row = rows.find((r) => r.kind === "state" && r.path === statePath);
      return row ? toRecord(row) : null;
    },
  };
}
