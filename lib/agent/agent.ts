/**
 * The agent's public API, for the web layer's server actions and SSE route: start a conversation,
 * send a message (or the commands /c and /metrics; a message no prompt could hold is refused
 * unstored), decide on a proposed call, correct a failed one or a final answer, resume after an
 * error, read a conversation, and recover everything at start-up. Each entry point parses its
 * input with zod (the parameter types are a convenience; the parse is the check), acts only on
 * the caller's own rows (owner-scoped queries: another user's ids are not_found), stores what it
 * did, and leaves the rest to the driver and the trainer, which run in the background and report
 * through events.
 */
import { buildSystemPrompt } from "@/lib/agent/system-prompt";
import {
  type ConversationState,
  createConversation,
  getConversationForOwner,
  updateConversation,
} from "@/lib/db/queries/conversations";
import { appendMessage, listMessageSummariesByConversation } from "@/lib/db/queries/messages";
import { getOrCreatePolicy } from "@/lib/db/queries/policies";
import { listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import { getWorkspaceForOwner } from "@/lib/db/queries/workspaces";
import type { Conversation } from "@/lib/db/schema";
import { AppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { TOOL_SPECS } from "@/lib/tools";
import { promptBudget, tokensToHoldMessage } from "./context";
import { AgentCore, type AgentDeps } from "./core";
import { correctAnswer, decide, type DecisionResult, submitFailureCorrection } from "./decisions";
import { recoverAll, recoverOrphans, type RecoveryReport } from "./recovery";
import {
  type AnswerCorrectionInput,
  answerCorrectionSchema,
  type ConversationRef,
  conversationRefSchema,
  type DecideInput,
  decideSchema,
  type FailureCorrectionInput,
  failureCorrectionSchema,
  parseInput,
  type RewindInput,
  rewindSchema,
  type UndoRewindInput,
  undoRewindSchema,
  type SendUserMessageInput,
  sendUserMessageSchema,
  type StartConversationInput,
  startConversationSchema,
} from "./schemas";
import { rewind, type RewindRecord, undoRewind } from "./rewind";
import { trainPolicy } from "./training";
import { drive, policyFor } from "./turn";
import { type ConversationView, getConversationView } from "./view";

export const CLEAR_COMMAND = "/c";
export const METRICS_COMMAND = "/metrics";

export type SendResult =
  | { kind: "message"; messageId: string }
  /** Refused, nothing stored: no prompt within the budget could hold the message. */
  | { kind: "too_long"; promptTokens: number; budget: number }
  | { kind: "cleared"; messageId: string }
  | { kind: "metrics"; metrics: Record<string, number> | null; trainingStepId: string | null };

/**
 * Why "/c" cannot clear the conversation now, or null when it can. Clearing mid-turn would strand
 * what the agent is doing (a call awaiting a decision, a tool running, a step training), so the
 * person is told what to finish first.
 */
export function clearRefusal(state: ConversationState): string | null {
  switch (state) {
    case "idle":
    case "failed":
      return null;
    case "proposed":
      return "A proposed call is waiting for your decision: approve, deny or edit it, then clear.";
    case "sampling":
      return "The agent is still replying: clear once it has stopped.";
    case "executing":
      return "A tool call is running: clear once it has finished.";
    case "training":
      return "A training step on your correction is running: clear once it has finished.";
    default: {
      const never: never = state;
      throw new Error(`unknown conversation state ${String(never)}`);
    }
  }
}

export type AgentOptions = Pick<AgentDeps, "db" | "backend"> & Partial<Omit<AgentDeps, "db" | "backend">>;

export class Agent {
  readonly core: AgentCore;

  constructor(options: AgentOptions) {
    const deps: AgentDeps = { tools: TOOL_SPECS, systemPrompt: buildSystemPrompt, ...options };
    this.core = new AgentCore(deps, { drive, train: trainPolicy });
  }

  /** A new conversation in the owner's workspace, bound to the owner's policy, opening an episode. */
  async startConversation(input: StartConversationInput): Promise<Conversation> {
    const { ownerId, workspaceId } = parseInput(startConversationSchema, input);
    const core = this.core;
    const workspace = await getWorkspaceForOwner({ db: core.db, id: workspaceId, ownerId });
    if (!workspace) throw new AppError("not_found:workspace");
    const config = await core.config(ownerId);
    const policy = await getOrCreatePolicy({
      db: core.db,
      ownerId,
      baseModel: config.model,
      backend: core.deps.backend.kind,
      loraRank: config.loraRank,
    });
    return core.db.transaction(async (tx) => {
      const conv = await createConversation({ db: tx, ownerId, workspaceId, policyId: policy.id });
      await appendMessage({
        db: tx,
        ownerId,
        conversationId: conv.id,
        message: {
          role: "system",
          content: core.deps.systemPrompt({ cwd: core.promptCwd(config, workspace.path) }),
          meta: { kind: "episode" },
        },
      });
      return conv;
    });
  }

  /** A user message starts a turn; "/c" starts a new episode; "/metrics" returns the last step's metrics. */
  async sendUserMessage(input: SendUserMessageInput): Promise<SendResult> {
    const { ownerId, conversationId, text } = parseInput(sendUserMessageSchema, input);
    const core = this.core;
    const conv = await this.conversation(ownerId, conversationId);
    if (text === METRICS_COMMAND) return this.lastMetrics(conv);
    if (text === CLEAR_COMMAND) return this.clear(conv);
    const tooLong = await this.overBudget(conv, text);
    if (tooLong) return tooLong;
    const msg = await core.db.transaction(async (tx) => {
      const m = await appendMessage({
        db: tx,
        ownerId,
        conversationId,
        message: { role: "user", content: text, meta: { kind: "task" } },
      });
      const isFirst = m.seq <= 1 && conv.title === "New conversation";
      await updateConversation({
        db: tx,
        id: conversationId,
        ownerId,
        patch: { task: text, ...(isFirst ? { title: text.slice(0, 80) } : {}) },
      });
      await core.setState(conv, "sampling", ["idle", "failed"], tx);
      return m;
    });
    await core.publish(conv, "message", { messageId: msg.id, role: "user", seq: msg.seq, kind: "task" });
    await core.publish(conv, "state", { state: "sampling" });
    core.kick(conversationId, ownerId);
    return { kind: "message", messageId: msg.id };
  }

  /** Samples again from where the conversation stopped (after a parse error, an interruption …). */
  async resumeConversation(input: ConversationRef): Promise<void> {
    const { ownerId, conversationId } = parseInput(conversationRefSchema, input);
    const conv = await this.conversation(ownerId, conversationId);
    await this.core.setState(conv, "sampling", ["idle", "failed"]);
    await this.core.publish(conv, "state", { state: "sampling", resumed: true });
    this.core.kick(conversationId, ownerId);
  }

  async decide(input: DecideInput): Promise<DecisionResult> {
    const { ownerId, toolCallId, decision } = parseInput(decideSchema, input);
    return decide(this.core, ownerId, toolCallId, decision);
  }

  async submitFailureCorrection(input: FailureCorrectionInput): Promise<DecisionResult> {
    const { ownerId, toolCallId, correction } = parseInput(failureCorrectionSchema, input);
    return submitFailureCorrection(this.core, ownerId, toolCallId, correction);
  }

  /** Corrects the final answer the conversation ended with: one training step, then the agent answers again. */
  async correctAnswer(input: AnswerCorrectionInput): Promise<{ correctionId: string; trainingStepId: string | null }> {
    const { ownerId, conversationId, messageId, correction } = parseInput(answerCorrectionSchema, input);
    return correctAnswer(this.core, ownerId, conversationId, messageId, correction);
  }

  /** Code, conversation or both back to just before a task message (see rewind.ts). */
  async rewind(input: RewindInput): Promise<RewindRecord> {
    return rewind(this.core, parseInput(rewindSchema, input));
  }

  async undoRewind(input: UndoRewindInput): Promise<RewindRecord> {
    return undoRewind(this.core, parseInput(undoRewindSchema, input));
  }

  async getConversationView(input: ConversationRef): Promise<ConversationView> {
    const { ownerId, conversationId } = parseInput(conversationRefSchema, input);
    return getConversationView(this.core, ownerId, conversationId);
  }

  recoverAll(options: { staleBefore?: Date } = {}): Promise<RecoveryReport> {
    return recoverAll(this.core, options);
  }

  /** Takes over the work of instances that died (their leases expired); see recovery.ts. */
  recoverOrphans(): Promise<RecoveryReport> {
    return recoverOrphans(this.core);
  }

  /**
   * Looks for orphaned work every `intervalMs` (default: a third of the lease's ttl, so an
   * instance that dies has its work taken over within about 1⅓ ttl). Returns the stop function.
   */
  watchForOrphans({ intervalMs = this.core.leases.ttlMs / 3 }: { intervalMs?: number } = {}): () => void {
    let looking = false;
    const timer = setInterval(() => {
      if (looking) return;
      looking = true;
      this.recoverOrphans()
        .catch((error: unknown) => log.warn("agent.orphan_sweep_failed", { error }))
        .finally(() => (looking = false));
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Resolves when no conversation or training queue of this process has work left. */
  idle(): Promise<void> {
    return this.core.idle();
  }

  private async conversation(ownerId: string, conversationId: string): Promise<Conversation> {
    const conv = await getConversationForOwner({ db: this.core.db, id: conversationId, ownerId });
    if (!conv) throw new AppError("not_found:conversation");
    return conv;
  }

  /** "/c": a fresh system message opens a new episode; weights, rules and steps stay. */
  private async clear(conv: Conversation): Promise<SendResult> {
    const core = this.core;
    const refusal = clearRefusal(conv.state);
    if (refusal) throw new AppError("conflict:conversation", refusal);
    const config = await core.config(conv.ownerId);
    const workspace = await getWorkspaceForOwner({ db: core.db, id: conv.workspaceId, ownerId: conv.ownerId });
    if (!workspace) throw new AppError("not_found:workspace");
    const msg = await core.db.transaction(async (tx) => {
      await core.setState(conv, "idle", ["idle", "failed"], tx);
      await updateConversation({ db: tx, id: conv.id, ownerId: conv.ownerId, patch: { task: null } });
      return appendMessage({
        db: tx,
        ownerId: conv.ownerId,
        conversationId: conv.id,
        message: {
          role: "system",
          content: core.deps.systemPrompt({ cwd: core.promptCwd(config, workspace.path) }),
          meta: { kind: "episode" },
        },
      });
    });
    await core.publish(conv, "message", { messageId: msg.id, role: "system", seq: msg.seq, kind: "episode" });
    await core.publish(conv, "state", { state: "idle", cleared: true });
    return { kind: "cleared", messageId: msg.id };
  }

  /**
   * A message no prompt could hold is refused before it is stored: stored, it would make every
   * sample (and every Retry) fail on the prompt budget.
   */
  private async overBudget(
    conv: Conversation,
    text: string,
  ): Promise<Extract<SendResult, { kind: "too_long" }> | null> {
    const core = this.core;
    const config = await core.config(conv.ownerId);
    const policy = await policyFor(core, conv, config);
    const [renderer, window, rows] = await Promise.all([
      core.renderer(policy.baseModel),
      core.contextWindow(policy.baseModel),
      listMessageSummariesByConversation({ db: core.db, ownerId: conv.ownerId, conversationId: conv.id }),
    ]);
    const budget = promptBudget(window, config.maxTokens);
    const promptTokens = tokensToHoldMessage({ rows, renderer, tools: core.deps.tools, text });
    return promptTokens > budget ? { kind: "too_long", promptTokens, budget } : null;
  }

  private async lastMetrics(conv: Conversation): Promise<SendResult> {
    const config = await this.core.config(conv.ownerId);
    const policy = await policyFor(this.core, conv, config);
    const steps = await listTrainingStepsByOwner({ db: this.core.db, ownerId: conv.ownerId, policyId: policy.id });
    const last = steps.filter((s) => s.status === "done").at(-1);
    return { kind: "metrics", metrics: last?.metrics ?? null, trainingStepId: last?.id ?? null };
  }
}
