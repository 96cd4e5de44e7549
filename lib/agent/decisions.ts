/**
 * The person's decisions on a proposed call, and the correction a tool failure requires. Each is
 * one transaction: the call's new status (a compare-and-set from "proposed", so a second decision
 * is a conflict, never a second run), the correction, the tool message the model will read, the
 * queued training step and the conversation's next state; the driver and trainer act after.
 *   approve → executing (optionally an "always allow" rule; with RL, a +1 step)
 *   deny    → the denied record (with the correction) in context → one training step → sampling
 *   edit    → the edited arguments run exactly; they are the demonstration of a training step
 * A final answer can be corrected too (it may claim work the agent never did): the correction
 * trains on the answer like a denial, and the agent answers again with it in context. So can a
 * reply that could not be read (the same path: its tokens are what the step trains on).
 */
import { answerCorrectionMessage, deniedToolResult, failureCorrectionMessage } from "@/lib/agent/tool-messages";
import { createAllowRule } from "@/lib/db/queries/allow-rules";
import { getConversationForOwner } from "@/lib/db/queries/conversations";
import { createCorrection, listCorrectionsByConversation } from "@/lib/db/queries/corrections";
import { appendMessage, getMessageForOwner } from "@/lib/db/queries/messages";
import { enqueueTrainingStep } from "@/lib/db/queries/training-steps";
import { getToolCallForOwner, updateToolCall } from "@/lib/db/queries/tool-calls";
import type { Db } from "@/lib/db/client";
import type { Config } from "@/lib/config";
import type { Conversation, Message, Policy, ToolCall, TrainingStep } from "@/lib/db/schema";
import { AppError } from "@/lib/errors";
import { describeArgError, TOOLS } from "@/lib/tools";
import { isToolName } from "@/lib/tools/names";
import type { AgentCore } from "./core";
import type { AgentEventPayloads } from "./events";
import type { ConversationState } from "@/lib/db/enums";
import type { Decision, RememberRule } from "./schemas";
import { stepEventPayload, trainingLossFor } from "./training";
import { policyFor } from "./turn";
import type { AnswerCorrectionMeta, TrainingSignalKind } from "./training-batch";
import { getConversationView } from "./view";

export type DecisionResult = { toolCall: ToolCall; correctionId: string | null; trainingStepId: string | null };

/** JSON with sorted keys, so a demonstration reads the same whatever order the keys came in. */
export function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/** The original's edit correction: use these arguments instead, naming what changed. */
export function editCorrectionText(original: Record<string, unknown>, edited: Record<string, unknown>): string {
  const changed = Object.keys({ ...original, ...edited }).filter(
    (k) => sortedJson(original[k]) !== sortedJson(edited[k]),
  );
  const shown = changed.slice(0, 5).map((k) => `${k}=${k in edited ? JSON.stringify(edited[k]) : "(removed)"}`);
  return `Use these arguments instead. Changed: ${changed.join(", ")}. New values: ${shown.join(", ")}`;
}

export function demonstration(name: string, args: Record<string, unknown>): string {
  return `Approved tool call:\n${name}(${sortedJson(args)})`;
}

async function loadForDecision(
  core: AgentCore,
  ownerId: string,
  toolCallId: string,
): Promise<{ call: ToolCall; conv: Conversation }> {
  const call = await getToolCallForOwner({ db: core.db, id: toolCallId, ownerId });
  if (!call) throw new AppError("not_found:tool_call");
  const conv = await getConversationForOwner({ db: core.db, id: call.conversationId, ownerId });
  if (!conv) throw new AppError("not_found:conversation");
  return { call, conv };
}

function checkRemember(call: ToolCall, remember: RememberRule): void {
  if (remember.kind === "bash_prefix" && call.name !== "bash")
    throw new AppError("bad_request:allow_rule", "A command-prefix rule is for bash calls only.");
  if (remember.kind === "path" && (call.name === "bash" || !isToolName(call.name)))
    throw new AppError("bad_request:allow_rule", "A path rule is for the file tools only.");
}

/** What recording a training signal needs, read before the transaction (which may hold the only connection). */
type SignalContext = { config: Config; policy: Policy; sampled: Message | null };

async function signalContext(core: AgentCore, conv: Conversation, call: ToolCall): Promise<SignalContext> {
  const config = await core.config(conv.ownerId);
  const policy = await policyFor(core, conv, config);
  const sampled = await getMessageForOwner({ db: core.db, id: call.messageId, ownerId: conv.ownerId });
  return { config, policy, sampled };
}

/** Correction row + (maybe) a queued step, inside the caller's transaction. */
async function recordSignal(
  tx: Db,
  ctx: SignalContext,
  conv: Conversation,
  call: Pick<ToolCall, "id"> | null,
  signal: { kind: TrainingSignalKind; text: string; solution?: string; environmentFeedback?: string },
  /** More corrections of the same call, trained in the same step (a partly accepted call's rejected hunks). */
  alongside: { kind: TrainingSignalKind; text: string }[] = [],
): Promise<{ correctionId: string; step: TrainingStep | null }> {
  const lossFn = trainingLossFor(ctx.config, ctx.sampled, signal.kind === "approval" ? "approval" : "correction");
  // "approval" rows are the RL signal of an approved call; the table's other kinds are corrections.
  const correction = await createCorrection({
    db: tx,
    ownerId: conv.ownerId,
    conversationId: conv.id,
    toolCallId: call?.id ?? null,
    kind: signal.kind,
    text: signal.text,
    solution: signal.solution,
    environmentFeedback: signal.environmentFeedback,
  });
  const others = [];
  for (const more of alongside)
    others.push(
      await createCorrection({
        db: tx,
        ownerId: conv.ownerId,
        conversationId: conv.id,
        toolCallId: call?.id ?? null,
        kind: more.kind,
        text: more.text,
      }),
    );
  if (!lossFn) return { correctionId: correction.id, step: null };
  const step = await enqueueTrainingStep({
    db: tx,
    ownerId: conv.ownerId,
    policyId: ctx.policy.id,
    conversationId: conv.id,
    lossFn,
    correctionIds: [correction.id, ...others.map((c) => c.id)],
  });
  return { correctionId: correction.id, step };
}

async function announce(
  core: AgentCore,
  conv: Conversation,
  result: DecisionResult,
  extra: {
    decision: AgentEventPayloads["decision"]["decision"];
    messageId?: string;
    step: TrainingStep | null;
    state: ConversationState;
  },
): Promise<void> {
  await core.publish(conv, "decision", {
    toolCallId: result.toolCall.id,
    decision: extra.decision,
    correctionId: result.correctionId,
    editedArgs: result.toolCall.editedArgs ?? null,
  });
  if (extra.messageId)
    await core.publish(conv, "message", {
      messageId: extra.messageId,
      role: extra.decision === "denied" ? "tool" : "user",
    });
  if (extra.step) await core.publish(conv, "training_step", stepEventPayload(extra.step));
  await core.publish(conv, "state", { state: extra.state });
  if (extra.step) core.kickTraining(extra.step.policyId, conv.ownerId);
  core.kick(conv.id, conv.ownerId);
}

export async function decide(
  core: AgentCore,
  ownerId: string,
  toolCallId: string,
  decision: Decision,
): Promise<DecisionResult> {
  const { call, conv } = await loadForDecision(core, ownerId, toolCallId);
  if (call.status !== "proposed")
    throw new AppError("conflict:tool_call", `This tool call was already ${call.status}.`);
  const ctx = await signalContext(core, conv, call);
  const decided =
    (status: "approved" | "denied" | "edited", patch: Partial<ToolCall> = {}) =>
    (tx: Db) =>
      updateToolCall({
        db: tx,
        id: call.id,
        ownerId,
        patch: { ...patch, status, decidedAt: new Date() },
        from: ["proposed"],
      }).then((row) => {
        if (!row) throw new AppError("conflict:tool_call", "This tool call was already decided.");
        return row;
      });
  switch (decision.kind) {
    case "approve": {
      if (decision.remember) checkRemember(call, decision.remember);
      const out = await core.db.transaction(async (tx) => {
        const toolCall = await decided("approved")(tx);
        if (decision.remember) {
          await createAllowRule({
            db: tx,
            ownerId,
            tool: call.name,
            kind: decision.remember.kind,
            pattern: decision.remember.kind === "tool" ? null : decision.remember.pattern,
          });
        }
        const rl =
          ctx.config.training && ctx.config.enableRl
            ? await recordSignal(tx, ctx, conv, call, { kind: "approval", text: "approved" })
            : null;
        await core.setState(conv, "executing", ["proposed"], tx);
        return {
          toolCall,
          correctionId: rl?.correctionId ?? null,
          trainingStepId: rl?.step?.id ?? null,
          step: rl?.step ?? null,
        };
      });
      await announce(core, conv, out, { decision: "approved", step: out.step, state: "executing" });
      return { toolCall: out.toolCall, correctionId: out.correctionId, trainingStepId: out.trainingStepId };
    }
    case "deny": {
      // The id the reply gave the call, from the reply signalContext already read.
      const callId = ctx.sampled?.toolCalls?.[0]?.id ?? call.id;
      const out = await core.db.transaction(async (tx) => {
        const toolCall = await decided("denied")(tx);
        const signal = await recordSignal(tx, ctx, conv, call, { kind: "denial", text: decision.correction });
        const msg = await appendMessage({
          db: tx,
          ownerId,
          conversationId: conv.id,
          message: {
            role: "tool",
            content: deniedToolResult({ correction: decision.correction }),
            toolCallId: call.id,
            meta: { callId, toolName: call.name, kind: "denied" },
          },
        });
        const state: ConversationState = signal.step ? "training" : "sampling";
        await core.setState(conv, state, ["proposed"], tx);
        return {
          toolCall,
          correctionId: signal.correctionId,
          trainingStepId: signal.step?.id ?? null,
          step: signal.step,
          messageId: msg.id,
          state,
        };
      });
      await announce(core, conv, out, {
        decision: "denied",
        messageId: out.messageId,
        step: out.step,
        state: out.state,
      });
      return { toolCall: out.toolCall, correctionId: out.correctionId, trainingStepId: out.trainingStepId };
    }
    case "edit": {
      // An edit is a demonstration: arguments its tool would refuse teach nothing, so refuse them here.
      if (isToolName(call.name)) {
        const parsed = TOOLS[call.name].inputSchema.safeParse(decision.args);
        if (!parsed.success)
          throw new AppError(
            "bad_request:tool_call",
            `The edited arguments are not valid for ${call.name}: ${describeArgError(parsed.error)}`,
          );
      }
      const unchanged = sortedJson(decision.args) === sortedJson(call.args);
      if (unchanged && !decision.correction) return decide(core, ownerId, toolCallId, { kind: "approve" });
      const text = decision.correction || editCorrectionText(call.args, decision.args);
      // A partly accepted call demonstrates the accepted result; each rejected hunk with a reason trains like a denial.
      const hunkDenials = (decision.review?.rejected ?? []).flatMap((r) =>
        r.correction ? [{ kind: "denial" as const, text: `Hunk ${r.number} was rejected: ${r.correction}` }] : [],
      );
      const out = await core.db.transaction(async (tx) => {
        const toolCall = await decided("edited", { editedArgs: decision.args, review: decision.review ?? null })(tx);
        const signal = await recordSignal(
          tx,
          ctx,
          conv,
          call,
          { kind: "edit", text, solution: demonstration(call.name, decision.args) },
          hunkDenials,
        );
        await core.setState(conv, "executing", ["proposed"], tx);
        return {
          toolCall,
          correctionId: signal.correctionId,
          trainingStepId: signal.step?.id ?? null,
          step: signal.step,
        };
      });
      await announce(core, conv, out, { decision: "edited", step: out.step, state: "executing" });
      return { toolCall: out.toolCall, correctionId: out.correctionId, trainingStepId: out.trainingStepId };
    }
    default: {
      const never: never = decision;
      throw new Error(`unknown decision ${JSON.stringify(never)}`);
    }
  }
}

/** The correction a failed tool call requires (its hint when none is given); it trains like a denial. */
export async function submitFailureCorrection(
  core: AgentCore,
  ownerId: string,
  toolCallId: string,
  given: string | undefined,
): Promise<DecisionResult> {
  const { call, conv } = await loadForDecision(core, ownerId, toolCallId);
  if (call.status !== "failed")
    throw new AppError("conflict:tool_call", "Only a failed tool call takes a failure correction.");
  const earlier = await listCorrectionsByConversation({ db: core.db, ownerId, conversationId: conv.id });
  if (earlier.some((c) => c.toolCallId === call.id && c.kind === "tool_failure"))
    throw new AppError("conflict:correction", "This failure was already corrected.");
  const text = given?.trim() || call.result?.feedback?.trim() || "";
  if (!text)
    throw new AppError("bad_request:correction", "A correction is required (this tool gave no hint to use instead).");
  const ctx = await signalContext(core, conv, call);
  const out = await core.db.transaction(async (tx) => {
    const signal = await recordSignal(tx, ctx, conv, call, {
      kind: "tool_failure",
      text,
      environmentFeedback: call.result?.output,
    });
    const msg = await appendMessage({
      db: tx,
      ownerId,
      conversationId: conv.id,
      message: {
        role: "user",
        content: failureCorrectionMessage({ correction: text }),
        meta: { kind: "correction", toolCallId: call.id },
      },
    });
    const state: ConversationState = signal.step ? "training" : "sampling";
    await core.setState(conv, state, ["failed"], tx);
    return {
      toolCall: call,
      correctionId: signal.correctionId,
      trainingStepId: signal.step?.id ?? null,
      step: signal.step,
      messageId: msg.id,
      state,
    };
  });
  await announce(core, conv, out, {
    decision: "failure_corrected",
    messageId: out.messageId,
    step: out.step,
    state: out.state,
  });
  return { toolCall: out.toolCall, correctionId: out.correctionId, trainingStepId: out.trainingStepId };
}

/** The person's correction of the agent's last reply (its final answer, or one that could not be read); it trains like a denial. */
export async function correctAnswer(
  core: AgentCore,
  ownerId: string,
  conversationId: string,
  messageId: string,
  text: string,
): Promise<{ correctionId: string; trainingStepId: string | null }> {
  const view = await getConversationView(core, ownerId, conversationId);
  const conv = view.conversation;
  const awaiting = view.awaiting;
  if ((awaiting?.kind !== "answer" && awaiting?.kind !== "unreadable") || awaiting.messageId !== messageId)
    throw new AppError(
      "conflict:message",
      "Only the agent's last reply can be corrected: the answer it ended its task with, or a reply that could not be read.",
    );
  const config = await core.config(ownerId);
  const policy = await policyFor(core, conv, config);
  const sampled = await getMessageForOwner({ db: core.db, id: messageId, ownerId });
  const ctx: SignalContext = { config, policy, sampled };
  const out = await core.db.transaction(async (tx) => {
    const signal = await recordSignal(tx, ctx, conv, null, { kind: "answer", text });
    const meta: AnswerCorrectionMeta = {
      kind: "correction",
      correctionId: signal.correctionId,
      answerMessageId: messageId,
    };
    const msg = await appendMessage({
      db: tx,
      ownerId,
      conversationId,
      message: { role: "user", content: answerCorrectionMessage({ correction: text }), meta },
    });
    const state: ConversationState = signal.step ? "training" : "sampling";
    await core.setState(conv, state, [awaiting.kind === "answer" ? "idle" : "failed"], tx);
    return { correctionId: signal.correctionId, step: signal.step, messageId: msg.id, seq: msg.seq, state };
  });
  await core.publish(conv, "message", { messageId: out.messageId, role: "user", seq: out.seq, kind: "correction" });
  if (out.step) await core.publish(conv, "training_step", stepEventPayload(out.step));
  await core.publish(conv, "state", { state: out.state });
  if (out.step) core.kickTraining(out.step.policyId, ownerId);
  core.kick(conversationId, ownerId);
  return { correctionId: out.correctionId, trainingStepId: out.step?.id ?? null };
}
