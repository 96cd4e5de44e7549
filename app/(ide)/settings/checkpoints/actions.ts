"use server";
/**
 * The checkpoint buttons of the settings page: save the policy's state now, restore a
 * checkpoint. Each re-checks the signed-in user and passes only their id down; the functions in
 * lib/training/checkpoint-actions.ts look rows up by owner, so another user's ids are not_found.
 */
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { getSessionUser } from "@/lib/auth/server";
import { getDb } from "@/lib/db/client";
import { log } from "@/lib/log";
import { getAgent } from "@/lib/session/agent-instance";
import { type LiveTrainers, liveTrainers, liveTrainersFromRuntime, restoreCheckpoint, saveCheckpointNow } from "@/lib/training/checkpoint-actions";

export type CheckpointActionResult =
  | { status: "saved" | "restored" }
  | { status: "unauthorized" | "invalid_data" | "not_found" | "nothing_to_save" | "busy" | "not_a_state" }
  | { status: "unsupported" | "failed"; error: string };

const idSchema = z.object({ id: z.string().min(1).max(100) });

/** The training clients of this process's Agent (one per policy), so a save captures its live weights. */
async function live(): Promise<LiveTrainers | undefined> {
  const registered = liveTrainers();
  if (registered) return registered;
  try {
    const agent = await getAgent();
    return liveTrainersFromRuntime(agent.core.runtime, (ownerId) => agent.core.config(ownerId));
  } catch (error) {
    log.warn("checkpoint.no_agent", { error });
    return undefined;
  }
}

export async function saveCheckpointNowAction(input: unknown): Promise<CheckpointActionResult> {
  const parsed = idSchema.safeParse(input);
  if (!parsed.success) return { status: "invalid_data" };
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  try {
    const result = await saveCheckpointNow({ db: await getDb(), ownerId: user.id, policyId: parsed.data.id, live: await live() });
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
    const result = await restoreCheckpoint({ db: await getDb(), ownerId: user.id, checkpointId: parsed.data.id, live: await live() });
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
