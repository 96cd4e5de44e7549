/**
 * Everything the conversation page renders, in one owner-scoped read: the agent's conversation view,
 * the workspace it works in, the preview of the call awaiting a decision, the user's "always
 * allow" rules and read-only auto-approval, and the last finished training step's metrics. The
 * page renders it first; the client reads it again (GET /api/conversations/:id) after events.
 * A page opened while a reply is being sampled also gets the draft so far (loadDraft), so it shows
 * the text at once instead of starting mid-reply.
 */
import type { Agent } from "@/lib/agent/agent";
import type { EventBus } from "@/lib/agent/events";
import { listRewinds, type RewindRecord, rewindPoints } from "@/lib/agent/rewind";
import type { ConversationView } from "@/lib/agent/view";
import { listVersionsByPolicy } from "@/lib/db/queries/adapter-versions";
import { listAllowRulesByOwner } from "@/lib/db/queries/allow-rules";
import { getWorkspaceForOwner } from "@/lib/db/queries/workspaces";
import type { AllowRule } from "@/lib/db/schema";
import { AppError } from "@/lib/errors";
import { type Draft, draftBeside } from "./draft";
import { type CallPreview, previewToolCall } from "./tool-preview";

export type ConversationPageData = {
  view: ConversationView;
  workspace: { id: string; name: string };
  /** The card preview of the call awaiting a decision (or a failure correction). */
  preview: { toolCallId: string; preview: CallPreview } | null;
  rules: AllowRule[];
  autoApproveReadonly: boolean;
  /** The sandbox's working directory for bash (what the model is told). */
  cwd: string;
  /** Every rewind of this conversation (and undo of one), oldest first. */
  rewinds: RewindRecord[];
  /** The turns a rewind may go back to: the episode's task messages still in context. */
  rewindPoints: { messageId: string; text: string; createdAt: string }[];
  /** The policy's trained adapter versions and the steps that made them (a rewind offers to undo those since its turn). */
  adapterVersions: { number: number; trainingStepId: string | null }[];
};

export type Where = Parameters<typeof previewToolCall>[0];

/** Where the owner's tools run for this conversation: workspace path, sandbox mode, cwd. */
export async function toolWhere(
  agent: Agent,
  ownerId: string,
  workspaceId: string,
): Promise<{ where: Where; workspace: { id: string; name: string }; autoApproveReadonly: boolean }> {
  const core = agent.core;
  const ws = await getWorkspaceForOwner({ db: core.db, id: workspaceId, ownerId });
  if (!ws) throw new AppError("not_found:workspace");
  const config = await core.config(ownerId);
  return {
    where: {
      workspacePath: ws.path,
      sandbox: { mode: core.sandboxMode(config) },
      cwd: core.promptCwd(config, ws.path),
    },
    workspace: { id: ws.id, name: ws.name },
    autoApproveReadonly: config.autoApproveReadonly,
  };
}

export async function loadSessionData(
  agent: Agent,
  ownerId: string,
  conversationId: string,
): Promise<ConversationPageData> {
  const view = await agent.getConversationView({ ownerId, conversationId });
  const { where, workspace, autoApproveReadonly } = await toolWhere(agent, ownerId, view.conversation.workspaceId);
  const rules = await listAllowRulesByOwner({ db: agent.core.db, ownerId });
  const awaiting = view.awaiting;
  let preview: ConversationPageData["preview"] = null;
  if (awaiting && (awaiting.kind === "decision" || awaiting.kind === "failure_correction")) {
    const call = awaiting.toolCall;
    // A failed call already ran: its preview is the arguments, never a diff of the file as it is now.
    preview = {
      toolCallId: call.id,
      preview: awaiting.kind === "decision" ? await previewToolCall(where, call.name, call.args) : { kind: "args" },
    };
  }
  const rewinds = await listRewinds(agent.core, ownerId, conversationId);
  const policyId = view.conversation.policyId;
  const versions = policyId ? await listVersionsByPolicy({ db: agent.core.db, ownerId, policyId }) : [];
  const adapterVersions = versions
    .filter((v) => v.event === "trained")
    .map((v) => ({ number: v.number, trainingStepId: v.trainingStepId }));
  const points = rewindPoints(view.messages).map((m) => ({
    messageId: m.id,
    text: m.content,
    createdAt: m.createdAt.toISOString(),
  }));
  return {
    view,
    workspace,
    preview,
    rules,
    autoApproveReadonly,
    cwd: where.cwd,
    rewinds,
    rewindPoints: points,
    adapterVersions,
  };
}

/**
 * The reply being sampled, as far as it has come: the bus's draft (deltas are kept in memory, not
 * stored), or null when none is. The page's stream starts with the text so far again, so deltas
 * published between this read and the stream's start are not lost.
 */
export function loadDraft(
  bus: Pick<EventBus, "draft">,
  view: {
    conversation: Pick<ConversationView["conversation"], "id" | "state">;
    messages: ReadonlyArray<{ id: string }>;
  },
): Draft | null {
  if (view.conversation.state !== "sampling") return null;
  const text = bus.draft(view.conversation.id);
  return text === null ? null : draftBeside({ text, final: false, messageId: null }, view.messages);
}
