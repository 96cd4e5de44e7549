"use server";
/**
 * The conversation page's mutations: start a conversation, send a message (or /c, /metrics), decide on
 * a proposed call, correct a failed one or the final answer, delete an "always allow" rule and
 * switch read-only auto-approval. Each parses its input with zod, re-reads the signed-in user and
 * lets the agent's owner-scoped entry points decide: someone else's id is "not_found", exactly
 * like a missing one.
 * An edited diff is turned into the same tool's arguments here, from the file as it is now, and
 * refused when the tool could not write exactly the edited bytes.
 */
import { revalidatePath } from "next/cache";
import type { SendResult } from "@/lib/agent/agent";
import type { Decision } from "@/lib/agent/schemas";
import { getSessionUser } from "@/lib/auth/server";
import { validateUserSettings } from "@/lib/config";
import { deleteAllowRule } from "@/lib/db/queries/allow-rules";
import { getToolCallForOwner } from "@/lib/db/queries/tool-calls";
import { getConversationForOwner } from "@/lib/db/queries/conversations";
import { getUserSettings, saveUserSettings } from "@/lib/db/queries/user-settings";
import { log } from "@/lib/log";
import { errorTypeOf, isAppError } from "@/lib/errors";
import {
  answerCorrectionInputSchema,
  decideInputSchema,
  deleteRuleInputSchema,
  failureCorrectionInputSchema,
  resumeInputSchema,
  rewindInputSchema,
  type SessionDecision,
  sendMessageInputSchema,
  setAutoApproveInputSchema,
  startConversationInputSchema,
  undoRewindInputSchema,
} from "@/lib/conversation-page/action-schemas";
import { getAgent } from "@/lib/conversation-page/agent-instance";
import { toolWhere } from "@/lib/conversation-page/page-data";
import { argsForEditedText, previewToolCall } from "@/lib/conversation-page/tool-preview";
import { hunkOutcome } from "@/lib/conversation-page/hunk-review";
import { reviewOf } from "@/lib/agent/call-review";
import type { z } from "zod";

export type SessionActionResult<T = object> =
  | ({ status: "ok" } & T)
  | { status: "not_found" }
  | { status: "unauthorized" }
  | { status: "invalid_data"; error: string }
  | { status: "conflict"; error: string };

type Failure = Exclude<SessionActionResult, { status: "ok" }>;

function invalid(error: z.ZodError): Failure {
  return { status: "invalid_data", error: error.issues.map((i) => i.message).join("; ") };
}

/**
 * The agent's AppErrors as a status, recognised by their code (isAppError: the agent may have been
 * built by another bundle with its own copy of the class); anything else propagates.
 */
function failureOf(err: unknown): Failure {
  if (isAppError(err)) {
    switch (errorTypeOf(err.code)) {
      case "not_found":
        return { status: "not_found" };
      case "bad_request":
        return { status: "invalid_data", error: err.message };
      case "conflict":
        return { status: "conflict", error: err.message };
      case "unauthorized":
        return { status: "unauthorized" };
    }
  }
  throw err;
}

async function guarded<T>(fn: () => Promise<SessionActionResult<T>>): Promise<SessionActionResult<T>> {
  try {
    return await fn();
  } catch (err) {
    return failureOf(err);
  }
}

export async function startConversation(input: unknown): Promise<SessionActionResult<{ id: string }>> {
  const parsed = startConversationInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  return guarded(async () => {
    const conv = await (await getAgent()).startConversation({ ownerId: user.id, workspaceId: parsed.data.workspaceId });
    log.info("conversation.started", { userId: user.id, conversationId: conv.id, workspaceId: conv.workspaceId });
    revalidatePath(`/workspaces/${conv.workspaceId}`);
    return { status: "ok", id: conv.id };
  });
}

export async function sendMessage(input: unknown): Promise<SessionActionResult<{ result: SendResult }>> {
  const parsed = sendMessageInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  return guarded(async () => {
    const result = await (await getAgent()).sendUserMessage({
      ownerId: user.id,
      conversationId: parsed.data.conversationId,
      text: parsed.data.text,
    });
    return { status: "ok", result };
  });
}

export async function decide(input: unknown): Promise<SessionActionResult<{ trainingStepId: string | null }>> {
  const parsed = decideInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  return guarded(async () => {
    const agent = await getAgent();
    const translated = await agentDecision(agent, user.id, parsed.data.toolCallId, parsed.data.decision);
    if (!translated.ok) return translated.failure;
    const out = await agent.decide({
      ownerId: user.id,
      toolCallId: parsed.data.toolCallId,
      decision: translated.decision,
    });
    log.info("tool_call.decided", { userId: user.id, toolCallId: out.toolCall.id, status: out.toolCall.status });
    return { status: "ok", trainingStepId: out.trainingStepId };
  });
}

/** The agent's decision for the page's: an edited diff becomes the same tool's exact arguments. */
async function agentDecision(
  agent: Awaited<ReturnType<typeof getAgent>>,
  ownerId: string,
  toolCallId: string,
  d: SessionDecision,
): Promise<{ ok: true; decision: Decision } | { ok: false; failure: Failure }> {
  switch (d.kind) {
    case "approve":
      return { ok: true, decision: d.remember ? { kind: "approve", remember: d.remember } : { kind: "approve" } };
    case "deny":
      return { ok: true, decision: { kind: "deny", correction: d.correction } };
    case "edit_args":
      return {
        ok: true,
        decision: { kind: "edit", args: d.args, ...(d.correction ? { correction: d.correction } : {}) },
      };
    case "edit_text":
    // biome-ignore lint/suspicious/noFallthroughSwitchClause: every branch of the switch over outcome.kind below returns, and TypeScript checks that switch is exhaustive.
    case "review_hunks": {
      const call = await getToolCallForOwner({ db: agent.core.db, id: toolCallId, ownerId });
      const conv = call && (await getConversationForOwner({ db: agent.core.db, id: call.conversationId, ownerId }));
      if (!call || !conv) return { ok: false, failure: { status: "not_found" } };
      const { where } = await toolWhere(agent, ownerId, conv.workspaceId);
      // What the proposal would leave in the file now: what the edit or the hunks are measured against.
      const proposed = await previewToolCall(where, call.name, call.args);
      if (proposed.kind !== "diff")
        return {
          ok: false,
          failure: {
            status: "invalid_data",
            error: proposed.kind === "diff_error" ? proposed.error : `${call.name} has no file diff`,
          },
        };
      if (d.kind === "edit_text") {
        const args = await argsForEditedText(where, call.name, call.args, d.text, d.path);
        if (!args.ok) return { ok: false, failure: { status: "invalid_data", error: args.error } };
        const review = reviewOf({
          proposedAfter: proposed.after,
          appliedAfter: d.text,
          ...(d.path ? { path: { from: proposed.path, to: d.path } } : {}),
        });
        return {
          ok: true,
          decision: { kind: "edit", args: args.args, review, ...(d.correction ? { correction: d.correction } : {}) },
        };
      }
      const outcome = hunkOutcome(proposed.before, proposed.after, d.hunks);
      switch (outcome.kind) {
        case "mismatch":
          return { ok: false, failure: { status: "conflict", error: outcome.error } };
        case "approve":
          return { ok: true, decision: { kind: "approve" } };
        case "deny":
          return { ok: true, decision: { kind: "deny", correction: outcome.correction } };
        case "partial": {
          const args = await argsForEditedText(where, call.name, call.args, outcome.text);
          if (!args.ok) return { ok: false, failure: { status: "invalid_data", error: args.error } };
          const review = reviewOf({
            proposedAfter: proposed.after,
            appliedAfter: outcome.text,
            hunks: outcome.hunks,
            rejected: outcome.rejected,
          });
          const correction = `Apply only the accepted hunks; rejected: ${outcome.rejected.map((r) => r.number).join(", ")} of ${outcome.hunks}.`;
          return { ok: true, decision: { kind: "edit", args: args.args, review, correction } };
        }
      }
    }
    default: {
      const never: never = d;
      throw new Error(`unknown decision ${JSON.stringify(never)}`);
    }
  }
}

export async function submitFailureCorrection(
  input: unknown,
): Promise<SessionActionResult<{ trainingStepId: string | null }>> {
  const parsed = failureCorrectionInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  return guarded(async () => {
    const out = await (await getAgent()).submitFailureCorrection({
      ownerId: user.id,
      toolCallId: parsed.data.toolCallId,
      ...(parsed.data.correction ? { correction: parsed.data.correction } : {}),
    });
    return { status: "ok", trainingStepId: out.trainingStepId };
  });
}

/** The person's correction of the final answer (one training step, then the agent answers again). */
export async function correctAnswer(input: unknown): Promise<SessionActionResult<{ trainingStepId: string | null }>> {
  const parsed = answerCorrectionInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  return guarded(async () => {
    const out = await (await getAgent()).correctAnswer({ ownerId: user.id, ...parsed.data });
    log.info("answer.corrected", {
      userId: user.id,
      conversationId: parsed.data.conversationId,
      correctionId: out.correctionId,
    });
    return { status: "ok", trainingStepId: out.trainingStepId };
  });
}

export async function deleteRule(input: unknown): Promise<SessionActionResult> {
  const parsed = deleteRuleInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  const row = await deleteAllowRule({ id: parsed.data.ruleId, ownerId: user.id });
  if (!row) return { status: "not_found" };
  log.info("allow_rule.deleted", { userId: user.id, ruleId: row.id });
  return { status: "ok" };
}

/** Read-only auto-approval is the per-user setting autoApproveReadonly, stored with the others. */
export async function setAutoApprove(input: unknown): Promise<SessionActionResult<{ enabled: boolean }>> {
  const parsed = setAutoApproveInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  const current = await getUserSettings({ userId: user.id });
  const checked = validateUserSettings({ ...current, autoApproveReadonly: parsed.data.enabled });
  if (!checked.ok) return { status: "invalid_data", error: Object.values(checked.errors).join("; ") };
  await saveUserSettings({ userId: user.id, settings: checked.settings });
  revalidatePath("/settings");
  return { status: "ok", enabled: parsed.data.enabled };
}

/** Samples again where the conversation stopped (after a parse error, an interrupted tool …). */
export async function resumeConversation(input: unknown): Promise<SessionActionResult> {
  const parsed = resumeInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  return guarded(async () => {
    await (await getAgent()).resumeConversation({ ownerId: user.id, conversationId: parsed.data.conversationId });
    return { status: "ok" };
  });
}

/** Code, conversation or both back to just before one of the episode's task messages. */
export async function rewindConversation(
  input: unknown,
): Promise<SessionActionResult<{ rewindId: string; files: number; trainingStepsSince: number }>> {
  const parsed = rewindInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  return guarded(async () => {
    const record = await (await getAgent()).rewind({ ownerId: user.id, ...parsed.data });
    log.info("conversation.rewound", {
      userId: user.id,
      conversationId: parsed.data.conversationId,
      mode: record.mode,
      files: record.files.length,
    });
    return {
      status: "ok",
      rewindId: record.rewindId,
      files: record.files.length,
      trainingStepsSince: record.trainingStepsSince.length,
    };
  });
}

/** Undoes a rewind (or an undo of one). */
export async function undoRewind(input: unknown): Promise<SessionActionResult<{ rewindId: string }>> {
  const parsed = undoRewindInputSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const user = await getSessionUser();
  if (!user) return { status: "unauthorized" };
  return guarded(async () => {
    const record = await (await getAgent()).undoRewind({ ownerId: user.id, ...parsed.data });
    log.info("conversation.rewind_undone", {
      userId: user.id,
      conversationId: parsed.data.conversationId,
      undoes: record.undoes,
    });
    return { status: "ok", rewindId: record.rewindId };
  });
}
