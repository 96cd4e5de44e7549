/**
 * Start-up recovery: everything a stopped process left half done is found in the database and
 * either resumed or shown. A proposal keeps waiting for its decision. A tool call that was
 * running is marked interrupted, gets a tool message saying so (the history stays well formed),
 * and its conversation stops to ask the user; it is never re-run silently. A training step left
 * running is failed as interrupted and its corrections queued again (no step had been applied:
 * done and the checkpoint are written together); queued steps then run, each exactly once.
 * Conversations caught sampling, executing an approved call or training carry on.
 */
import { listConversationsByWorkspace } from "@/lib/db/queries/conversations";
import { listCorrectionsByTrainingStep } from "@/lib/db/queries/corrections";
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

/**
 * Recovers every conversation and training queue. `staleBefore`: steps running since before it
 * are orphans (the default, now, is right for one instance at start-up).
 */
export async function recoverAll(core: AgentCore, { staleBefore = new Date() }: { staleBefore?: Date } = {}): Promise<RecoveryReport> {
  const db = core.db;
  const report: RecoveryReport = { requeuedSteps: 0, interruptedToolCalls: 0, resumedConversations: 0 };
  const conversations = await allConversations(core);
  const byId = new Map(conversations.map((c) => [c.id, c]));

  // 1. Training steps that were running: failed as interrupted, their corrections queued again.
  for (const stale of await failStaleTrainingSteps({ db, startedBefore: staleBefore })) {
    const corrections = await listCorrectionsByTrainingStep({ db, trainingStepId: stale.id });
    const conv = stale.conversationId ? byId.get(stale.conversationId) : undefined;
    if (conv) await core.publish(conv, "training_step", stepEventPayload(stale));
    if (corrections.length === 0) continue;
    const again = await enqueueTrainingStep({ db, ownerId: stale.ownerId, policyId: stale.policyId, conversationId: stale.conversationId, lossFn: stale.lossFn, correctionIds: corrections.map((c) => c.id) });
    report.requeuedSteps++;
    if (conv) await core.publish(conv, "training_step", stepEventPayload(again, { requeuedFrom: stale.id }));
  }

  // 2. Tool calls that were running: interrupted, shown, not re-run; the user decides what next.
  for (const conv of conversations) {
    const calls = await listToolCallsByConversation({ db, ownerId: conv.ownerId, conversationId: conv.id });
    for (const call of calls.filter((c) => c.status === "executing")) {
      const callId = (await chatCallId(core, conv, call.messageId)) ?? call.id;
      const stopped = await db.transaction(async (tx) => {
        const row = await updateToolCall({ db: tx, id: call.id, ownerId: conv.ownerId, patch: { status: "interrupted", finishedAt: new Date() }, from: ["executing"] });
        if (!row) return false;
        await appendMessage({ db: tx, ownerId: conv.ownerId, conversationId: conv.id, message: { role: "tool", content: INTERRUPTED_TOOL_TEXT, toolCallId: call.id, meta: { callId, toolName: call.name, kind: "interrupted" } } });
        await core.setState(conv, "failed", ["executing"], tx).catch(() => null);
        return true;
      });
      if (!stopped) continue;
      report.interruptedToolCalls++;
      await core.publish(conv, "result", { toolCallId: call.id, success: false, interrupted: true, output: INTERRUPTED_TOOL_TEXT });
      await core.publish(conv, "error", { kind: "interrupted", toolCallId: call.id, message: `The ${call.name} call was interrupted when the server stopped and was not run again. Retry to let the agent continue, or send a message.` });
      await core.publish(conv, "state", { state: "failed" });
      conv.state = "failed";
    }
  }

  // 3. Queued steps run (each once: claiming is exclusive); conversations carry on.
  for (const user of await listUsers({ db })) {
    for (const policy of await listPoliciesByOwner({ db, ownerId: user.id })) {
      const steps = await listTrainingStepsByOwner({ db, ownerId: user.id, policyId: policy.id });
      if (steps.some((s) => s.status === "queued")) core.kickTraining(policy.id, user.id);
    }
  }
  for (const conv of conversations) {
    if (conv.state === "sampling" || conv.state === "executing" || conv.state === "training") {
      report.resumedConversations++;
      core.kick(conv.id, conv.ownerId);
    }
  }
  return report;
}
