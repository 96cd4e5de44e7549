/**
 * Recovery: everything a stopped process left half done is found in the database and either
 * resumed or shown. A proposal keeps waiting for its decision. A tool call that was running is
 * marked interrupted, gets a tool message saying so (the history stays well formed), and its
 * conversation stops to ask the user; it is never re-run silently. A training step left running
 * is failed as interrupted and its corrections queued again (no step had been applied: done and
 * the checkpoint are written together); queued steps then run, each exactly once. Conversations
 * caught sampling, executing an approved call or training carry on.
 *
 * Each conversation and policy is recovered under its lease, so work another live instance
 * holds is left alone: `recoverAll` at start-up, and `recoverOrphans` every few seconds after,
 * which takes over what an instance that died was doing once its leases expire.
 */
import { getConversationForOwner, listConversationsByWorkspace } from "@/lib/db/queries/conversations";
import { listCorrectionsByTrainingStep } from "@/lib/db/queries/corrections";
import { listUnleasedActiveConversations, listUnleasedTrainingPolicies } from "@/lib/db/queries/leases";
import { appendMessage } from "@/lib/db/queries/messages";
import { listPoliciesByOwner } from "@/lib/db/queries/policies";
import { enqueueTrainingStep, failStaleTrainingSteps, listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import { listToolCallsByConversation, updateToolCall } from "@/lib/db/queries/tool-calls";
import { listUsers } from "@/lib/db/queries/users";
import { listWorkspacesByOwner } from "@/lib/db/queries/workspaces";
import type { Conversation } from "@/lib/db/schema";
import type { AgentCore } from "./core";
import { stepEventPayload } from "./training";
import { chatCallId } from "./turn";

export const INTERRUPTED_TOOL_TEXT = "[interrupted: the server stopped while this tool call ran; it was not run again]";

export type RecoveryReport = {
  requeuedSteps: number;
  interruptedToolCalls: number;
  resumedConversations: number;
};

async function allConversations(core: AgentCore): Promise<Conversation[]> {
  const out: Conversation[] = [];
  for (const user of await listUsers({ db: core.db })) {
    for (const ws of await listWorkspacesByOwner({ db: core.db, ownerId: user.id })) {
      out.push(...(await listConversationsByWorkspace({ db: core.db, ownerId: user.id, workspaceId: ws.id })));
    }
  }
  return out;
}

type PolicyRef = { policyId: string; ownerId: string };

/**
 * Recovers every conversation and training queue this instance can take the lease of.
 * `staleBefore`: steps running since before it are orphans (the default, now, is right at
 * start-up: under the policy's lease nobody else is running one).
 */
export async function recoverAll(
  core: AgentCore,
  { staleBefore = new Date() }: { staleBefore?: Date } = {},
): Promise<RecoveryReport> {
  const conversations = await allConversations(core);
  const policies: PolicyRef[] = [];
  for (const user of await listUsers({ db: core.db })) {
    for (const policy of await listPoliciesByOwner({ db: core.db, ownerId: user.id }))
      policies.push({ policyId: policy.id, ownerId: user.id });
  }
  return recover(core, conversations, policies, staleBefore);
}

/** Takes over what no live instance holds: conversations mid-turn and training queues with steps left. */
export async function recoverOrphans(core: AgentCore): Promise<RecoveryReport> {
  const quietForMs = core.leases.ttlMs;
  const conversations = (await listUnleasedActiveConversations({ db: core.db, quietForMs })).filter(
    (c) => !core.leases.busy({ kind: "conversation", id: c.id }),
  );
  const policies = (await listUnleasedTrainingPolicies({ db: core.db, quietForMs })).filter(
    (p) => !core.leases.busy({ kind: "policy", id: p.policyId }),
  );
  return recover(core, conversations, policies, new Date());
}

async function recover(
  core: AgentCore,
  conversations: Conversation[],
  policies: PolicyRef[],
  staleBefore: Date,
): Promise<RecoveryReport> {
  const db = core.db;
  const report: RecoveryReport = { requeuedSteps: 0, interruptedToolCalls: 0, resumedConversations: 0 };

  // 1. Training steps that were running: failed as interrupted, their corrections queued again.
  for (const { policyId, ownerId } of policies) {
    await core.leases.run({ kind: "policy", id: policyId }, async () => {
      for (const stale of await failStaleTrainingSteps({ db, startedBefore: staleBefore, policyId })) {
        const corrections = await listCorrectionsByTrainingStep({ db, trainingStepId: stale.id });
        const conv = stale.conversationId
          ? await getConversationForOwner({ db, id: stale.conversationId, ownerId })
          : null;
        if (conv) await core.publish(conv, "training_step", stepEventPayload(stale));
        if (corrections.length === 0) continue;
        const again = await enqueueTrainingStep({
          db,
          ownerId: stale.ownerId,
          policyId: stale.policyId,
          conversationId: stale.conversationId,
          lossFn: stale.lossFn,
          correctionIds: corrections.map((c) => c.id),
        });
        report.requeuedSteps++;
        if (conv) await core.publish(conv, "training_step", stepEventPayload(again, { requeuedFrom: stale.id }));
      }
    });
  }

  // 2. Tool calls that were running: interrupted, shown, not re-run; the user decides what next.
  for (const conv of conversations) {
    await core.leases.run({ kind: "conversation", id: conv.id }, async () => {
      report.interruptedToolCalls += await interruptRunningCalls(core, conv);
    });
  }

  // 3. Queued steps run (each once: claiming is exclusive); conversations carry on. Where
  // another instance holds the lease, the kick leaves the work to it.
  for (const { policyId, ownerId } of policies) {
    const steps = await listTrainingStepsByOwner({ db, ownerId, policyId });
    if (steps.some((s) => s.status === "queued")) core.kickTraining(policyId, ownerId);
  }
  for (const conv of conversations) {
    if (conv.state === "sampling" || conv.state === "executing" || conv.state === "training") {
      report.resumedConversations++;
      core.kick(conv.id, conv.ownerId);
    }
  }
  return report;
}

/** The conversation's calls left executing, each marked interrupted with a tool message; how many. */
async function interruptRunningCalls(core: AgentCore, conv: Conversation): Promise<number> {
  const db = core.db;
  let interrupted = 0;
  const calls = await listToolCallsByConversation({ db, ownerId: conv.ownerId, conversationId: conv.id });
  for (const call of calls.filter((c) => c.status === "executing")) {
    const callId = (await chatCallId(core, conv, call.messageId)) ?? call.id;
    const stopped = await db.transaction(async (tx) => {
      const row = await updateToolCall({
        db: tx,
        id: call.id,
        ownerId: conv.ownerId,
        patch: { status: "interrupted", finishedAt: new Date() },
        from: ["executing"],
      });
      if (!row) return false;
      await appendMessage({
        db: tx,
        ownerId: conv.ownerId,
        conversationId: conv.id,
        message: {
          role: "tool",
          content: INTERRUPTED_TOOL_TEXT,
          toolCallId: call.id,
          meta: { callId, toolName: call.name, kind: "interrupted" },
        },
      });
      await core.setState(conv, "failed", ["executing"], tx).catch(() => null);
      return true;
    });
    if (!stopped) continue;
    interrupted++;
    await core.publish(conv, "result", {
      toolCallId: call.id,
      success: false,
      interrupted: true,
      output: INTERRUPTED_TOOL_TEXT,
    });
    await core.publish(conv, "error", {
      kind: "interrupted",
      toolCallId: call.id,
      message: `The ${call.name} call was interrupted when the server stopped and was not run again. Retry to let the agent continue, or send a message.`,
    });
    await core.publish(conv, "state", { state: "failed" });
    conv.state = "failed";
  }
  return interrupted;
}
