/**
 * Training from the agent's side: whether a correction trains at all (training on, SDPO or RL on,
 * a sampled completion to learn from), the policy's queue run (claim → train → done | failed, each
 * announced to the step's conversation), and what a finished step means for its conversation:
 * once none of its steps is queued or running, it samples again, with the updated weights.
 */
import type { Config } from "@/lib/config";
import { getConversationForOwner } from "@/lib/db/queries/conversations";
import { getPolicyForOwner } from "@/lib/db/queries/policies";
import { listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import type { Conversation, Message as MessageRow, TrainingStep } from "@/lib/db/schema";
import { lossFnFor, sdpoConfigFromSettings } from "@/lib/sdpo";
import type { LossFnName } from "@/lib/training/types";
import type { AgentCore } from "./core";
import type { AgentEventPayloads } from "./events";
import { scheduleStepProbes } from "./probe-run";
import { buildStepBatch } from "./training-batch";

/** The loss a correction's step will use, or null when this correction trains nothing. */
export function trainingLossFor(
  config: Config,
  sampled: Pick<MessageRow, "completionTokens"> | null,
  kind: "correction" | "approval",
): LossFnName | null {
  if (!config.training || !sampled?.completionTokens?.length) return null;
  if (kind === "approval") return config.enableRl ? "importance_sampling" : null;
  if (config.sdpo) return lossFnFor(config.lossMode);
  return config.enableRl ? "importance_sampling" : null;
}

/** Does the conversation have a training step queued or running? */
export async function hasPendingSteps(
  core: AgentCore,
  conv: Pick<Conversation, "id" | "ownerId" | "policyId">,
): Promise<boolean> {
  if (!conv.policyId) return false;
  const steps = await listTrainingStepsByOwner({ db: core.db, ownerId: conv.ownerId, policyId: conv.policyId });
  return steps.some((s) => s.conversationId === conv.id && (s.status === "queued" || s.status === "running"));
}

export function stepEventPayload(
  row: TrainingStep,
  extra: Pick<AgentEventPayloads["training_step"], "metrics" | "requeuedFrom"> = {},
): AgentEventPayloads["training_step"] {
  return { trainingStepId: row.id, status: row.status, step: row.step, lossFn: row.lossFn, error: row.error, ...extra };
}

/** The metrics a chat line shows after a step (the original's `trained #step L= kl= t=`). */
function headline(metrics: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of ["sdpo_step", "loss", "sdpo_kl", "sdpo_tokens", "time/total"])
    if (metrics[key] !== undefined) out[key] = metrics[key]!;
  return out;
}

/** The policy's queue, drained one step at a time (the caller serialises runs per policy). */
export async function trainPolicy(core: AgentCore, policyId: string, ownerId: string): Promise<void> {
  const db = core.db;
  for (;;) {
    const policy = await getPolicyForOwner({ db, id: policyId, ownerId });
    if (!policy) return;
    const config = await core.config(ownerId);
    const renderer = await core.renderer(policy.baseModel);
    const contextWindow = await core.contextWindow(policy.baseModel);
    const conversationOf = async (row: TrainingStep) =>
      row.conversationId ? getConversationForOwner({ db, id: row.conversationId, ownerId }) : null;
    const result = await core.runtime.runNext({
      policy,
      config,
      build: (row) =>
        buildStepBatch({
          db,
          row,
          renderer,
          tools: core.deps.tools,
          sdpo: sdpoConfigFromSettings(config),
          contextWindow,
        }),
      onClaimed: async (row) => {
        const conv = await conversationOf(row);
        if (conv) await core.publish(conv, "training_step", stepEventPayload(row));
      },
    });
    if (!result) return;
    const conv = await conversationOf(result.row);
    if (!conv) continue;
    await core.publish(
      conv,
      "training_step",
      stepEventPayload(result.row, result.status === "done" ? { metrics: headline(result.metrics) } : {}),
    );
    if (result.status === "failed")
      await core.publish(conv, "error", {
        kind: "training_failed",
        trainingStepId: result.row.id,
        message: `Training step failed: ${result.error}`,
      });
    await afterStep(core, conv);
    // Scored in the background once the retry is proposed, so the probes never delay it.
    if (result.status === "done") scheduleStepProbes(core, result.row, conv);
  }
}

/** A conversation whose steps are all finished samples again. */
export async function afterStep(core: AgentCore, conv: Conversation): Promise<void> {
  if (conv.state !== "training" || (await hasPendingSteps(core, conv))) return;
  const moved = await core.setState(conv, "sampling", ["training"]).catch(() => null);
  if (!moved) return;
  await core.publish(conv, "state", { state: "sampling" });
  core.kick(conv.id, conv.ownerId);
}
