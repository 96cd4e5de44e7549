/**
 * The conversation's driver: it reads the stored state and does the one thing that state calls
 * for, until the conversation waits on someone (idle, a proposal, a failure, training).
 *   sampling  → sample one reply → no call: idle | one call: proposed or (auto-approved) executing
 *               | several calls: a nudge (at most two), then failed | parse error: failed
 *   executing → run the approved call → observed (tool message) → training or sampling | failed
 * Each outcome (message, tool call, decision, next state) is written in one transaction before
 * anything acts on it; events follow the commit. Only the reply's text goes out earlier, as it is
 * sampled: non-final "tokens" events, which show progress and decide nothing.
 */
import { decideApproval } from "@/lib/agent/rules";
import { toolResultText } from "@/lib/agent/tool-messages";
import type { Config } from "@/lib/config";
import { getConversationForOwner, updateConversation } from "@/lib/db/queries/conversations";
import { appendMessage, listMessagesByConversation } from "@/lib/db/queries/messages";
import { getOrCreatePolicy, getPolicyForOwner, type PolicyBackend } from "@/lib/db/queries/policies";
import { listAllowRulesByOwner } from "@/lib/db/queries/allow-rules";
import { createToolCall, listToolCallsByConversation, updateToolCall } from "@/lib/db/queries/tool-calls";
import { getWorkspaceForOwner } from "@/lib/db/queries/workspaces";
import { sandboxPolicyFor } from "@/lib/sandbox/policy";
import type { AllowRule, Conversation, Message as MessageRow, Policy } from "@/lib/db/schema";
import { replyTokens } from "@/lib/config/reply-tokens";
import { executeTool } from "@/lib/tools";
import { buildPrompt, clipToolOutput, currentEpisode, inContext, promptBudget, toolOutputLimit } from "./context";
import type { AgentCore } from "./core";
import { noteForCall, withReviewNote } from "./call-review";
import { withBeforeImages } from "./rewind-snapshots";
import { TokenStream } from "./token-stream";
import { classifyToolResult } from "./tool-outcome";
import { afterStep, hasPendingSteps } from "./training";

/** How many times the model is asked again for exactly one tool call before the turn stops. */
export const MAX_NUDGES = 2;
export const NUDGE_TEXT = "Retry: output exactly ONE tool call.";

/** What a user message row is, in message.meta.kind. */
export type UserMessageKind = "task" | "nudge" | "correction";

export async function drive(core: AgentCore, conversationId: string, ownerId: string): Promise<void> {
  for (;;) {
    const conv = await getConversationForOwner({ db: core.db, id: conversationId, ownerId });
    if (!conv) return;
    try {
      switch (conv.state) {
        case "sampling":
          await sampleTurn(core, conv);
          continue;
        case "executing":
          if (await executeApproved(core, conv)) continue;
          return;
        case "training":
          // Steps still to run: the trainer moves the conversation on when they finish.
          if (await hasPendingSteps(core, conv)) core.kickTraining(conv.policyId!, ownerId);
          else await afterStep(core, conv);
          return;
        case "idle":
        case "proposed":
        case "failed":
          return;
        default:
          throw new Error(`conversation ${conv.id} is in an unknown state ${conv.state}`);
      }
    } catch (error) {
      // Never a silent stop: the conversation says what went wrong and waits for the user.
      const message = error instanceof Error ? error.message : String(error);
      const failed = await core.setState(conv, "failed", [conv.state as "sampling" | "executing"]).catch(() => null);
      await core.publish(conv, "error", { kind: "internal", message });
      if (failed) await core.publish(conv, "state", { state: "failed" });
      return;
    }
  }
}

/** The user's policy (one per user), created from their configuration on first use. */
export async function policyFor(core: AgentCore, conv: Conversation, config: Config): Promise<Policy> {
  if (conv.policyId) {
    const existing = await getPolicyForOwner({ db: core.db, id: conv.policyId, ownerId: conv.ownerId });
    if (existing) return existing;
  }
  const policy = await getOrCreatePolicy({
    db: core.db,
    ownerId: conv.ownerId,
    baseModel: config.model,
    backend: core.deps.backend.kind as PolicyBackend,
    loraRank: config.loraRank,
  });
  // Bound from now on, so its training steps are found from the conversation.
  await updateConversation({ db: core.db, id: conv.id, ownerId: conv.ownerId, patch: { policyId: policy.id } });
  conv.policyId = policy.id;
  return policy;
}

/** Tool calls proposed since the episode's latest task (the step cap counts these). */
function stepsSinceTask(rows: MessageRow[]): number {
  const episode = currentEpisode(rows);
  const taskIndex = episode.findLastIndex(
    (r) => r.role === "user" && (r.meta as { kind?: string } | null)?.kind === "task",
  );
  return episode
    .slice(taskIndex + 1)
    .filter((r) => r.role === "assistant" && inContext(r) && (r.toolCalls?.length ?? 0) === 1).length;
}

/** Nudges sent since the model last gave a usable reply or the user last spoke. */
function nudgesSoFar(rows: MessageRow[]): number {
  let n = 0;
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows[i]!;
    if (row.role === "assistant" && !inContext(row)) continue;
    if (row.role === "user" && (row.meta as { kind?: string } | null)?.kind === "nudge") n++;
    else break;
  }
  return n;
}

function approvalFor(call: { name: string; arguments: Record<string, unknown> }, rules: AllowRule[], config: Config) {
  const asRule = (r: AllowRule) => ({
    tool: r.tool,
    kind: r.kind as "tool" | "path" | "bash_prefix",
    pattern: r.pattern,
  });
  const verdict = decideApproval({
    tool: call.name,
    args: call.arguments,
    rules: rules.map(asRule),
    autoApproveReadonly: config.autoApproveReadonly,
  });
  if (verdict.decision === "ask") return { auto: false as const, reason: verdict.reason };
  const alone = rules.find(
    (r) =>
      decideApproval({ tool: call.name, args: call.arguments, rules: [asRule(r)], autoApproveReadonly: false })
        .decision === "auto",
  );
  const byReadonly =
    decideApproval({
      tool: call.name,
      args: call.arguments,
      rules: [],
      autoApproveReadonly: config.autoApproveReadonly,
    }).decision === "auto";
  const autoReason = byReadonly
    ? "readonly"
    : alone
      ? `rule:${alone.id}`
      : `rules:${rules
          .filter((r) => r.tool === call.name)
          .map((r) => r.id)
          .join(",")}`;
  return { auto: true as const, reason: verdict.reason, autoReason };
}

/** One sample and what follows from it. */
export async function sampleTurn(core: AgentCore, conv: Conversation): Promise<void> {
  const db = core.db;
  const config = await core.config(conv.ownerId);
  const rows = await listMessagesByConversation({ db, ownerId: conv.ownerId, conversationId: conv.id });

  // 1. The step cap ends the task before another sample.
  if (stepsSinceTask(rows) >= config.maxSteps) {
    await core.setState(conv, "idle", ["sampling"]);
    await core.publish(conv, "error", {
      kind: "step_cap",
      message: `Stopped after ${config.maxSteps} tool calls (the step cap, maxSteps).`,
      maxSteps: config.maxSteps,
    });
    await core.publish(conv, "state", { state: "idle" });
    return;
  }

  // 2. The prompt: the episode, elided to fit the context window with room for the reply.
  const policy = await policyFor(core, conv, config);
  const renderer = await core.renderer(policy.baseModel);
  const window = await core.contextWindow(policy.baseModel);
  const budget = promptBudget(window, config.maxTokens);
  const prompt = buildPrompt({ rows, renderer, tools: core.deps.tools, budget });
  if (prompt.layout.elided > 0)
    await core.publish(conv, "context", { elided: prompt.layout.elided, promptTokens: prompt.tokens.length, window });

  // 3. Sample with the policy's current weights; the text streams out as non-final "tokens"
  //    events, all published before the final one (a lost delta only delays the draft).
  const maxTokens = replyTokens({
    maxTokens: config.maxTokens,
    contextWindow: window,
    promptTokens: prompt.tokens.length,
  });
  const stream = new TokenStream({
    decode: (ids) => renderer.tokenizer.decode(ids),
    stopTokens: renderer.stopTokens,
    publish: (text) => core.publish(conv, "tokens", { text, final: false }),
  });
  const { result, policyStep } = await core.runtime.use(policy, config, async (opened) => {
    try {
      const sampled = await opened.sampler.sample(
        prompt.tokens,
        { maxTokens, temperature: config.temperature, stop: renderer.stopTokens },
        stream,
      );
      return { result: sampled, policyStep: opened.step };
    } finally {
      await stream.end();
    }
  });
  const seq = result.sequences[0]!;
  const parsed = renderer.parseCompletion(seq.tokens, seq.stopReason, { tools: core.deps.tools });
  const sampled = {
    role: "assistant" as const,
    promptTokens: prompt.tokens,
    completionTokens: seq.tokens,
    completionLogprobs: seq.logprobs,
  };
  const baseMeta = { context: prompt.layout, task: conv.task ?? "", stopReason: seq.stopReason, policyStep };
  await core.publish(conv, "tokens", { text: parsed.text, final: true });

  // 4. What the reply was decides the next state; message, call and state commit together.
  if (parsed.kind === "parse_error") {
    const parseError = { reason: parsed.reason, detail: parsed.detail };
    const msg = await db.transaction(async (tx) => {
      const m = await appendMessage({
        db: tx,
        ownerId: conv.ownerId,
        conversationId: conv.id,
        message: { ...sampled, content: parsed.text, meta: { ...baseMeta, parseError, excluded: true } },
      });
      await core.setState(conv, "failed", ["sampling"], tx);
      return m;
    });
    await core.publish(conv, "message", { messageId: msg.id, role: "assistant", seq: msg.seq });
    await core.publish(conv, "error", {
      kind: "parse_error",
      messageId: msg.id,
      ...parseError,
      message: `The reply could not be read (${parsed.detail}). Retry, or send a message to continue.`,
    });
    await core.publish(conv, "state", { state: "failed" });
    return;
  }
  const calls = parsed.message.toolCalls ?? [];
  if (calls.length > 1) {
    const nudge = nudgesSoFar(rows) < MAX_NUDGES;
    const { msg, nudgeMsg } = await db.transaction(async (tx) => {
      const m = await appendMessage({
        db: tx,
        ownerId: conv.ownerId,
        conversationId: conv.id,
        message: {
          ...sampled,
          content: parsed.message.content,
          toolCalls: calls,
          meta: { ...baseMeta, excluded: true, multipleToolCalls: calls.length },
        },
      });
      const n = nudge
        ? await appendMessage({
            db: tx,
            ownerId: conv.ownerId,
            conversationId: conv.id,
            message: { role: "user", content: NUDGE_TEXT, meta: { kind: "nudge" } },
          })
        : null;
      if (!nudge) await core.setState(conv, "failed", ["sampling"], tx);
      return { msg: m, nudgeMsg: n };
    });
    await core.publish(conv, "message", {
      messageId: msg.id,
      role: "assistant",
      seq: msg.seq,
      toolCalls: calls.length,
    });
    if (nudgeMsg) {
      await core.publish(conv, "message", { messageId: nudgeMsg.id, role: "user", seq: nudgeMsg.seq, kind: "nudge" });
      return;
    }
    await core.publish(conv, "error", {
      kind: "multiple_tool_calls",
      messageId: msg.id,
      message: `The model proposed ${calls.length} tool calls at once again after ${MAX_NUDGES} reminders to make exactly one. Retry, or send a message to continue.`,
    });
    await core.publish(conv, "state", { state: "failed" });
    return;
  }
  if (calls.length === 0) {
    const msg = await db.transaction(async (tx) => {
      const m = await appendMessage({
        db: tx,
        ownerId: conv.ownerId,
        conversationId: conv.id,
        message: { ...sampled, content: parsed.message.content, meta: baseMeta },
      });
      await core.setState(conv, "idle", ["sampling"], tx);
      return m;
    });
    await core.publish(conv, "message", { messageId: msg.id, role: "assistant", seq: msg.seq });
    await core.publish(conv, "state", { state: "idle" });
    return;
  }
  const call = calls[0]!;
  const rules = await listAllowRulesByOwner({ db, ownerId: conv.ownerId });
  const approval = approvalFor(call, rules, config);
  const { msg, toolCall } = await db.transaction(async (tx) => {
    const m = await appendMessage({
      db: tx,
      ownerId: conv.ownerId,
      conversationId: conv.id,
      message: { ...sampled, content: parsed.message.content, toolCalls: calls, meta: baseMeta },
    });
    const tc = await createToolCall({
      db: tx,
      ownerId: conv.ownerId,
      conversationId: conv.id,
      messageId: m.id,
      name: call.name,
      args: call.arguments,
      status: approval.auto ? "auto_approved" : "proposed",
      autoReason: approval.auto ? approval.autoReason : null,
    });
    if (approval.auto)
      await updateToolCall({ db: tx, id: tc.id, ownerId: conv.ownerId, patch: { decidedAt: new Date() } });
    await core.setState(conv, approval.auto ? "executing" : "proposed", ["sampling"], tx);
    return { msg: m, toolCall: tc };
  });
  await core.publish(conv, "message", { messageId: msg.id, role: "assistant", seq: msg.seq });
  await core.publish(conv, "proposal", {
    toolCallId: toolCall.id,
    name: call.name,
    args: call.arguments,
    approval: approval.auto ? "auto" : "ask",
    reason: approval.reason,
  });
  if (approval.auto)
    await core.publish(conv, "decision", {
      toolCallId: toolCall.id,
      decision: "auto_approved",
      autoReason: approval.autoReason,
    });
  await core.publish(conv, "state", { state: approval.auto ? "executing" : "proposed" });
}

/**
 * Runs the conversation's approved (or edited) call; "executing" is stored before it starts.
 * False when there was nothing this process may do (the call runs elsewhere).
 */
export async function executeApproved(core: AgentCore, conv: Conversation): Promise<boolean> {
  const db = core.db;
  const calls = await listToolCallsByConversation({ db, ownerId: conv.ownerId, conversationId: conv.id });
  // A call already running belongs to whoever started it (another instance): leave it be.
  if (calls.some((c) => c.status === "executing")) return false;
  const next = calls.find((c) => c.status === "approved" || c.status === "auto_approved" || c.status === "edited");
  if (!next) {
    // Nothing left to run (e.g. recovered after the result was stored): carry on.
    const pending = await hasPendingSteps(core, conv);
    await core.setState(conv, pending ? "training" : "sampling", ["executing"]);
    await core.publish(conv, "state", { state: pending ? "training" : "sampling" });
    return true;
  }
  const started = await updateToolCall({
    db,
    id: next.id,
    ownerId: conv.ownerId,
    patch: { status: "executing", startedAt: new Date() },
    from: [next.status as "approved"],
  });
  if (!started) return false;
  const args = next.editedArgs ?? next.args;
  await core.publish(conv, "tool_started", { toolCallId: next.id, name: next.name, args });

  const config = await core.config(conv.ownerId);
  const workspace = await getWorkspaceForOwner({ db, id: conv.workspaceId, ownerId: conv.ownerId });
  if (!workspace) throw new Error(`the conversation's workspace ${conv.workspaceId} is gone`);
  const toolCtx = {
    workspace: workspace.path,
    sandbox: { mode: core.sandboxMode(config), policy: sandboxPolicyFor(config) },
  };
  // Rewind's before-images are taken before the call may change anything.
  const result = await withBeforeImages(
    { db, ownerId: conv.ownerId, conversationId: conv.id },
    { id: next.id, name: next.name, args },
    toolCtx,
    () => executeTool(next.name, args, toolCtx),
  );
  const reviewed = noteForCall(next);

  const policy = await policyFor(core, conv, config);
  const window = await core.contextWindow(policy.baseModel);
  const callId = (await chatCallId(core, conv, next.messageId)) ?? next.id;
  // A non-zero exit of a call that ran as asked is an observation: the agent reads it and goes on.
  const outcome = classifyToolResult(result);
  const failed = outcome.kind === "failed";
  const pending = !failed && (await hasPendingSteps(core, conv));
  const state = failed ? "failed" : pending ? "training" : "sampling";
  const status = outcome.kind === "observation" ? "observed" : outcome.kind;
  const msg = await db.transaction(async (tx) => {
    const done = await updateToolCall({
      db: tx,
      id: next.id,
      ownerId: conv.ownerId,
      patch: { status, result, finishedAt: new Date() },
      from: ["executing"],
    });
    if (!done) throw new Error(`tool call ${next.id} stopped being "executing" while it ran`);
    const m = await appendMessage({
      db: tx,
      ownerId: conv.ownerId,
      conversationId: conv.id,
      message: {
        role: "tool",
        content: withReviewNote(reviewed, clipToolOutput(toolResultText(result), toolOutputLimit(window))),
        toolCallId: next.id,
        meta: { callId, toolName: next.name, kind: "result", outputChars: result.output.length },
      },
    });
    await core.setState(conv, state, ["executing"], tx);
    return m;
  });
  await core.publish(conv, "result", {
    toolCallId: next.id,
    success: result.success,
    outcome: outcome.kind,
    output: result.output,
    feedback: result.feedback ?? null,
  });
  await core.publish(conv, "message", { messageId: msg.id, role: "tool", seq: msg.seq });
  if (failed) {
    await core.publish(conv, "error", {
      kind: "tool_failure",
      toolCallId: next.id,
      suggestion: result.feedback ?? "",
      message: "The tool failed: a correction is required (the tool's hint is suggested).",
    });
  }
  await core.publish(conv, "state", { state });
  return true;
}

/** The id the model's reply gave the call (tool messages answer it). */
export async function chatCallId(core: AgentCore, conv: Conversation, messageId: string): Promise<string | null> {
  const rows = await listMessagesByConversation({ db: core.db, ownerId: conv.ownerId, conversationId: conv.id });
  return rows.find((r) => r.id === messageId)?.toolCalls?.[0]?.id ?? null;
}
