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
import type { Db } from "@/lib/db/client";
import { getConversationForOwner, updateConversation } from "@/lib/db/queries/conversations";
import {
  appendMessage,
  getMessageForOwner,
  listMessageSummariesByConversation,
  type NewMessage,
} from "@/lib/db/queries/messages";
import { getOrCreatePolicy, getPolicyForOwner } from "@/lib/db/queries/policies";
import { listAllowRulesByOwner } from "@/lib/db/queries/allow-rules";
import { createToolCall, listToolCallsByConversation, updateToolCall } from "@/lib/db/queries/tool-calls";
import { getWorkspaceForOwner } from "@/lib/db/queries/workspaces";
import { sandboxPolicyFor } from "@/lib/sandbox/policy";
import type { AllowRule, Conversation, Message as MessageRow, Policy } from "@/lib/db/schema";
import { replyTokens } from "@/lib/config/reply-tokens";
import { executeTool } from "@/lib/tools";
import {
  buildPrompt,
  type ContextRow,
  clipToolOutput,
  currentEpisode,
  inContext,
  promptBudget,
  toolOutputLimit,
} from "./context";
import type { AgentCore } from "./core";
import type { AgentEventPayloads } from "./events";
import { noteForCall, withReviewNote } from "./call-review";
import { withBeforeImages } from "./rewind-snapshots";
import { TokenStream } from "./token-stream";
import { classifyToolResult } from "./tool-outcome";
import { afterStep, hasPendingSteps } from "./training";
import { unreadableReason } from "./view";

/** How many times the model is asked again for exactly one tool call before the turn stops. */
export const MAX_NUDGES = 2;
export const NUDGE_TEXT = "Retry: output exactly ONE tool call.";

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
      const failed = await core.setState(conv, "failed", [conv.state]).catch(() => null);
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
    backend: core.deps.backend.kind,
    loraRank: config.loraRank,
  });
  // Bound from now on, so its training steps are found from the conversation.
  await updateConversation({ db: core.db, id: conv.id, ownerId: conv.ownerId, patch: { policyId: policy.id } });
  conv.policyId = policy.id;
  return policy;
}

/** Tool calls proposed since the episode's latest task (the step cap counts these). */
function stepsSinceTask(rows: ContextRow[]): number {
  const episode = currentEpisode(rows);
  const taskIndex = episode.findLastIndex((r) => r.role === "user" && r.meta?.kind === "task");
  return episode
    .slice(taskIndex + 1)
    .filter((r) => r.role === "assistant" && inContext(r) && (r.toolCalls?.length ?? 0) === 1).length;
}

/** Nudges sent since the model last gave a usable reply or the user last spoke. */
function nudgesSoFar(rows: ContextRow[]): number {
  let n = 0;
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows[i]!;
    if (row.role === "assistant" && !inContext(row)) continue;
    if (row.role === "user" && row.meta?.kind === "nudge") n++;
    else break;
  }
  return n;
}

function approvalFor(call: { name: string; arguments: Record<string, unknown> }, rules: AllowRule[], config: Config) {
  const asRule = (r: AllowRule) => ({ tool: r.tool, kind: r.kind, pattern: r.pattern });
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
async function sampleTurn(core: AgentCore, conv: Conversation): Promise<void> {
  const db = core.db;
  const config = await core.config(conv.ownerId);
  const rows = await listMessageSummariesByConversation({ db, ownerId: conv.ownerId, conversationId: conv.id });

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

  // 4. What the reply was decides how the turn ends (each ending commits, then announces).
  if (parsed.kind === "parse_error") {
    const parseError = { reason: parsed.reason, detail: parsed.detail };
    return endTurn(core, conv, {
      reply: { ...sampled, content: parsed.text, meta: { ...baseMeta, parseError, excluded: true } },
      next: "failed",
      error: (reply) => ({
        kind: "parse_error",
        messageId: reply.id,
        ...parseError,
        message: unreadableReason(parsed.detail),
      }),
    });
  }
  const calls = parsed.message.toolCalls ?? [];
  const content = parsed.message.content;
  if (calls.length > 1) {
    const reply = {
      ...sampled,
      content,
      toolCalls: calls,
      meta: { ...baseMeta, excluded: true, multipleToolCalls: calls.length },
    };
    return endTurn(core, conv, severalCallsEnding(core, conv, reply, nudgesSoFar(rows) < MAX_NUDGES));
  }
  if (calls.length === 0) return endTurn(core, conv, { reply: { ...sampled, content, meta: baseMeta }, next: "idle" });
  const approval = approvalFor(calls[0]!, await listAllowRulesByOwner({ db, ownerId: conv.ownerId }), config);
  return endTurn(
    core,
    conv,
    proposalEnding(core, conv, { ...sampled, content, toolCalls: calls, meta: baseMeta }, approval),
  );
}

/** Several calls at once: a reminder to make exactly one (the turn samples again), at most MAX_NUDGES times. */
function severalCallsEnding(core: AgentCore, conv: Conversation, reply: NewMessage, nudge: boolean): TurnEnding {
  const count = reply.toolCalls?.length ?? 0;
  if (!nudge)
    return {
      reply,
      next: "failed",
      error: (m) => ({
        kind: "multiple_tool_calls",
        messageId: m.id,
        message: `The model proposed ${count} tool calls at once again after ${MAX_NUDGES} reminders to make exactly one. Retry, or send a message to continue.`,
      }),
    };
  return {
    reply,
    next: null,
    alongside: async (tx) => {
      const m = await appendMessage({
        db: tx,
        ownerId: conv.ownerId,
        conversationId: conv.id,
        message: { role: "user", content: NUDGE_TEXT, meta: { kind: "nudge" } },
      });
      return () => core.publish(conv, "message", { messageId: m.id, role: "user", seq: m.seq, kind: "nudge" });
    },
  };
}

/** One call: stored as proposed, or auto-approved by a rule (then it runs next). */
function proposalEnding(
  core: AgentCore,
  conv: Conversation,
  reply: NewMessage,
  approval: ReturnType<typeof approvalFor>,
): TurnEnding {
  const call = reply.toolCalls![0]!;
  return {
    reply,
    next: approval.auto ? "executing" : "proposed",
    alongside: async (tx, m) => {
      const toolCall = await createToolCall({
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
        await updateToolCall({ db: tx, id: toolCall.id, ownerId: conv.ownerId, patch: { decidedAt: new Date() } });
      return async () => {
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
      };
    },
  };
}

/** How a sampled turn ends: its reply, what is stored with it, the next state, and why it failed. */
type TurnEnding = {
  reply: NewMessage;
  /** The conversation's next state; null when it goes on sampling (after a nudge). */
  next: "idle" | "failed" | "proposed" | "executing" | null;
  /** Rows stored with the reply in its transaction; returns how to announce them. */
  alongside?: (tx: Db, reply: MessageRow) => Promise<() => Promise<unknown>>;
  /** The error event that says why the turn failed. */
  error?: (reply: MessageRow) => AgentEventPayloads["error"];
};

/**
 * The one save-and-announce ending of a sampled turn: the reply, the rows that go with it and the
 * next state commit in one transaction; then the reply, those rows, the error and the new state
 * are announced, in that order, so a viewer never sees a state before what led to it.
 */
async function endTurn(core: AgentCore, conv: Conversation, ending: TurnEnding): Promise<void> {
  const { reply, announce } = await core.db.transaction(async (tx) => {
    const m = await appendMessage({ db: tx, ownerId: conv.ownerId, conversationId: conv.id, message: ending.reply });
    const announceRows = await ending.alongside?.(tx, m);
    if (ending.next) await core.setState(conv, ending.next, ["sampling"], tx);
    return { reply: m, announce: announceRows };
  });
  const callCount = ending.reply.toolCalls?.length ?? 0;
  await core.publish(conv, "message", {
    messageId: reply.id,
    role: "assistant",
    seq: reply.seq,
    ...(callCount > 1 ? { toolCalls: callCount } : {}),
  });
  await announce?.();
  if (ending.error) await core.publish(conv, "error", ending.error(reply));
  if (ending.next) await core.publish(conv, "state", { state: ending.next });
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
    from: [next.status],
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
  const row = await getMessageForOwner({ db: core.db, id: messageId, ownerId: conv.ownerId });
  return row?.conversationId === conv.id ? (row.toolCalls?.[0]?.id ?? null) : null;
}
