/**
 * The correction loop's latency, measured on the real agent: a conversation on a held-out
 * workspace gets a proposal, the person denies it with a correction, and the clock runs from
 * `decide(deny)` to the retried proposal's first token, which is the retry's first "tokens" event
 * (the agent streams a reply's text while sampling, the first delta as soon as its first token
 * decodes to text), and on to the retry's whole text (its final "tokens" event), with the training
 * step's own timings (teacher scoring, forward_backward, optim, sampler refresh) read back from
 * its stored metrics.
 */
import type { Agent } from "@/lib/agent/agent";
import type { AgentEvent as StoredEvent, EventBus, TokenDelta } from "@/lib/agent/events";
import type { Db } from "@/lib/db/client";
import { listMessagesByConversation } from "@/lib/db/queries/messages";
import { listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";

/** A stored event or a token delta (kept in memory only): both count as the retry's text arriving. */
type AgentEvent = StoredEvent | TokenDelta;

/** Collects a conversation's live events and waits for one that matches. */
export class EventWatch {
  readonly events: Array<AgentEvent & { at: number }> = [];
  private waiters: Array<{
    test: (e: AgentEvent) => boolean;
    from: number;
    resolve: (e: AgentEvent & { at: number }) => void;
  }> = [];
  private readonly stop: () => void;

  constructor(bus: EventBus, conversationId: string) {
    const seen = (event: AgentEvent) => {
      const e = { ...event, at: performance.now() };
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (e.at < w.from || !w.test(e)) return true;
        w.resolve(e);
        return false;
      });
    };
    const stopStored = bus.subscribe(conversationId, 0, seen);
    const stopDeltas = bus.subscribeDeltas(conversationId, seen);
    this.stop = () => {
      stopStored();
      stopDeltas();
    };
  }

  /** The first event at or after `from` (performance.now()) that passes `test`. */
  next(
    test: (e: AgentEvent) => boolean,
    from: number,
    timeoutMs: number,
    what: string,
  ): Promise<AgentEvent & { at: number }> {
    const seen = this.events.find((e) => e.at >= from && test(e));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no ${what} within ${timeoutMs} ms (events: ${this.events
                .slice(-6)
                .map((e) => `${e.type} ${JSON.stringify(e.payload).slice(0, 80)}`)
                .join(" | ")})`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({ test, from, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  close(): void {
    this.stop();
  }
}

const isState = (state: string) => (e: AgentEvent) => e.type === "state" && e.payload.state === state;

export interface LoopRun {
  /** decide(deny) → the retry's first token (its first "tokens" event), seconds. */
  denialToFirstToken: number;
  /** decide(deny) → the retry's whole text (its final "tokens" event), seconds. */
  denialToRetryComplete: number;
  /** The decide() call itself (the transaction, queueing the step). */
  decide: number;
  /** Queue → step done (as the conversation's events see it). */
  training: number;
  /** The state "sampling" event after the step → the retry's first "tokens" event. */
  sampling: number;
  /** The state "sampling" event after the step → the retry's final "tokens" event. */
  samplingComplete: number;
  /** decide(deny) → the retried call's "proposal" event (or the reply's end). */
  denialToProposal: number;
  parts: Record<string, number>;
  promptTokens: number;
  /** The retry's prompt, for timing its prefill alone afterwards. */
  prompt: number[];
  retryTokens: number;
  stepStatus: string;
  /** Why a step failed or was rejected, when it did. */
  stepError: string | null;
}

/** Sends the task and waits for the first proposal; null when the model answered or failed instead. */
export async function firstProposal(
  agent: Agent,
  watch: EventWatch,
  ref: { ownerId: string; conversationId: string },
  task: string,
  timeoutMs: number,
): Promise<string | null> {
  const t = performance.now();
  await agent.sendUserMessage({ ...ref, text: task });
  const end = await watch.next(
    (e) => e.type === "proposal" || isState("idle")(e) || isState("failed")(e),
    t,
    timeoutMs,
    "proposal",
  );
  return end.type === "proposal" ? String(end.payload.toolCallId) : null;
}

const PART_KEYS = ["time/teacher_scoring", "time/forward_backward", "time/optim", "time/sampler_refresh", "time/total"];

/** Denies the pending call and times the loop to the retry. */
export async function timeDenial(
  agent: Agent,
  db: Db,
  watch: EventWatch,
  ref: { ownerId: string; conversationId: string; policyId: string },
  toolCallId: string,
  correction: string,
  timeoutMs: number,
): Promise<LoopRun> {
  const t0 = performance.now();
  const result = await agent.decide({ ownerId: ref.ownerId, toolCallId, decision: { kind: "deny", correction } });
  const decided = performance.now();
  const stepId = result.trainingStepId;
  const stepEnd = stepId
    ? await watch.next(
        (e) =>
          e.type === "training_step" &&
          e.payload.trainingStepId === stepId &&
          (e.payload.status === "done" || e.payload.status === "failed"),
        t0,
        timeoutMs,
        "training step end",
      )
    : null;
  const samplingStart = await watch.next(isState("sampling"), stepEnd?.at ?? t0, timeoutMs, "sampling state");
  const tokens = await watch.next((e) => e.type === "tokens", samplingStart.at, timeoutMs, "retry's first tokens");
  const whole = await watch.next(
    (e) => e.type === "tokens" && e.payload.final === true,
    samplingStart.at,
    timeoutMs,
    "retry's final tokens",
  );
  const settled = await watch.next(
    (e) => e.type === "proposal" || isState("idle")(e) || isState("failed")(e),
    whole.at,
    timeoutMs,
    "retry proposal",
  );
  await agent.idle();
  const steps = await listTrainingStepsByOwner({ db, ownerId: ref.ownerId, policyId: ref.policyId });
  const step = steps.find((s) => s.id === stepId);
  const parts = Object.fromEntries(
    PART_KEYS.filter((k) => step?.metrics?.[k] !== undefined).map((k) => [k, step!.metrics![k]!]),
  );
  const messages = await listMessagesByConversation({ db, ownerId: ref.ownerId, conversationId: ref.conversationId });
  const retry = messages.filter((m) => m.role === "assistant").at(-1);
  const s = (a: number, b: number) => (b - a) / 1000;
  return {
    denialToFirstToken: s(t0, tokens.at),
    denialToRetryComplete: s(t0, whole.at),
    decide: s(t0, decided),
    training: stepEnd ? s(decided, stepEnd.at) : 0,
    sampling: s(samplingStart.at, tokens.at),
    samplingComplete: s(samplingStart.at, whole.at),
    denialToProposal: s(t0, settled.at),
    parts,
    promptTokens: retry?.promptTokens?.length ?? 0,
    prompt: retry?.promptTokens ?? [],
    retryTokens: retry?.completionTokens?.length ?? 0,
    stepStatus: step?.status ?? "none",
    stepError: step?.error ?? null,
  };
}
