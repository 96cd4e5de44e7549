/**
 * The agent for the web layer: one Agent per process over the process's database and training
 * backend (kept on globalThis, as the database is, so `next dev` reloads share it), and its entry
 * points as plain functions. Server actions call these; the SSE route reads stored events with
 * listEventsAfter and follows live ones with `subscribe` (or `replayAndSubscribe` for both).
 * `recoverAll()` belongs in start-up (instrumentation), before requests are served.
 */
import { getDb } from "@/lib/db/client";
import { getTrainingBackend } from "@/lib/training";
import { Agent } from "./agent";

export { Agent, CLEAR_COMMAND, METRICS_COMMAND, type AgentOptions, type SendResult } from "./agent";
export {
  AGENT_EVENT_TYPES,
  replayAndSubscribe,
  subscribe,
  subscribeAll,
  type AgentEvent,
  type AgentEventType,
} from "./events";
export type { DecisionResult } from "./decisions";
export type { RecoveryReport } from "./recovery";
export type {
  ConversationRef,
  DecideInput,
  Decision,
  FailureCorrectionInput,
  RememberRule,
  SendUserMessageInput,
  StartConversationInput,
} from "./schemas";
export type { Awaiting, ConversationView, MessageView } from "./view";

type AgentGlobal = typeof globalThis & { __continualcodeAgent?: Promise<Agent> };

/** The process's agent, created on first use. */
export function getAgent(): Promise<Agent> {
  const g = globalThis as AgentGlobal;
  if (!g.__continualcodeAgent) {
    const creating = getDb().then((db) => new Agent({ db, backend: getTrainingBackend() }));
    g.__continualcodeAgent = creating;
    creating.catch(() => {
      if (g.__continualcodeAgent === creating) g.__continualcodeAgent = undefined;
    });
  }
  return g.__continualcodeAgent;
}

type Input<M extends keyof Agent> = Agent[M] extends (input: infer I) => unknown ? I : never;

export const startConversation = async (input: Input<"startConversation">) =>
  (await getAgent()).startConversation(input);
export const sendUserMessage = async (input: Input<"sendUserMessage">) => (await getAgent()).sendUserMessage(input);
export const resumeConversation = async (input: Input<"resumeConversation">) =>
  (await getAgent()).resumeConversation(input);
export const decide = async (input: Input<"decide">) => (await getAgent()).decide(input);
export const submitFailureCorrection = async (input: Input<"submitFailureCorrection">) =>
  (await getAgent()).submitFailureCorrection(input);
export const getConversationView = async (input: Input<"getConversationView">) =>
  (await getAgent()).getConversationView(input);
export const recoverAll = async (options?: { staleBefore?: Date }) => (await getAgent()).recoverAll(options);
