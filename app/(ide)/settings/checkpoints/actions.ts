"use server";
/**
 * The checkpoint buttons of the settings page (save the policy's state now, restore a
 * checkpoint) and the adapter timeline's (undo a version, restore one, reset to the base model).
 * Each re-checks the signed-in user and passes only their id down; the functions in
 * lib/training/checkpoint-actions.ts, lib/agent/checkpoints.ts and lib/agent/adapter-history.ts look rows up by owner, so
 * another user's ids are not_found.
 */
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { getSessionUser } from "@/lib/auth/server";
import type { Db } from "@/lib/db/client";
import { log } from "@/lib/log";
import { type HistoryResult, resetToBase, restoreVersion, undoVersion } from "@/lib/agent/adapter-history";
import { restoreCheckpoint } from "@/lib/agent/checkpoints";
import { getRuntime } from "@/lib/runtime";
import { type LiveTrainers, saveCheckpointNow } from "@/lib/training/checkpoint-actions";

export type CheckpointActionResult =
  | { status: "saved" | "restored" }
  | { status: "unauthorized" | "invalid_data" | "not_found" | "nothing_to_save" | "busy" | "not_a_state" }
  | { status: "unsupported" | "failed"; error: string };

const idSchema = z.object({ id: z.string().min(1).max(100) });

export async function saveCheckpointNowAction(input: unknown): Promise<CheckpointActionResult> {
  const parsed = idSchema.safeParse(input);
  if (!parsed.success) return { status: "invalid_data" };
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  try {
    const { db, liveTrainers } = await getRuntime();
    const result = await saveCheckpointNow({ db, ownerId: user.id, policyId: parsed.data.id, live: liveTrainers });
    switch (result.status) {
      case "saved":
        revalidatePath("/settings");
        return { status: "saved" };
      case "not_found":
      case "nothing_to_save":
        return { status: result.status };
      case "unsupported":
        return { status: "unsupported", error: result.reason };
      default: {
        const never: never = result;
        throw new Error(`unexpected save result ${JSON.stringify(never)}`);
      }
    }
  } catch (error) {
    log.error("checkpoint.save_failed", { error, policyId: parsed.data.id });
    return { status: "failed", error: "saving the checkpoint failed" };
  }
}

export async function restoreCheckpointAction(input: unknown): Promise<CheckpointActionResult> {
  const parsed = idSchema.safeParse(input);
  if (!parsed.success) return { status: "invalid_data" };
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  try {
    const { db, liveTrainers } = await getRuntime();
    const result = await restoreCheckpoint({ db, ownerId: user.id, checkpointId: parsed.data.id, live: liveTrainers });
    switch (result.status) {
      case "restored":
        revalidatePath("/settings");
        return { status: "restored" };
      case "not_found":
      case "busy":
      case "not_a_state":
        return { status: result.status };
      default: {
        const never: never = result;
        throw new Error(`unexpected restore result ${JSON.stringify(never)}`);
      }
    }
  } catch (error) {
    log.error("checkpoint.restore_failed", { error, checkpointId: parsed.data.id });
    return { status: "failed", error: "restoring the checkpoint failed" };
  }
}

export type HistoryActionResult =
  | HistoryResult
  | { status: "unauthorized" | "invalid_data" }
  | { status: "failed"; error: string };

const versionSchema = z.object({ policyId: z.string().min(1).max(100), version: z.number().int().min(0) });
const undoSchema = versionSchema.extend({ replay: z.boolean().default(false) });

/** Runs one history change for the signed-in user, with their retention settings. */
async function historyAction<I>(
  schema: z.ZodType<I>,
  input: unknown,
  run: (args: {
    db: Db;
    ownerId: string;
    input: I;
    live: LiveTrainers;
    retention: { saveEvery: number; keepVersions: number };
  }) => Promise<HistoryResult>,
): Promise<HistoryActionResult> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) return { status: "invalid_data" };
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  try {
    const { db, agent, liveTrainers } = await getRuntime();
    const config = await agent.core.config(user.id);
    const result = await run({ db, ownerId: user.id, input: parsed.data, live: liveTrainers, retention: config });
    if (result.status === "done") revalidatePath("/settings");
    return result;
  } catch (error) {
    log.error("history.change_failed", { error });
    return { status: "failed", error: "changing the adapter's version failed" };
  }
}

export async function undoVersionAction(input: unknown): Promise<HistoryActionResult> {
  return historyAction(undoSchema, input, async ({ db, ownerId, input: i, live, retention }) =>
    undoVersion({
      db,
      ownerId,
      policyId: i.policyId,
      version: i.version,
      replay: i.replay,
      live,
      retention,
    }),
  );
}

export async function restoreVersionAction(input: unknown): Promise<HistoryActionResult> {
  return historyAction(versionSchema, input, async ({ db, ownerId, input: i, live, retention }) =>
    restoreVersion({ db, ownerId, policyId: i.policyId, version: i.version, live, retention }),
  );
}

export async function resetToBaseAction(input: unknown): Promise<HistoryActionResult> {
  return historyAction(
    z.object({ policyId: z.string().min(1).max(100) }),
    input,
    async ({ db, ownerId, input: i, live, retention }) =>
      resetToBase({ db, ownerId, policyId: i.policyId, live, retention }),
  );
}
