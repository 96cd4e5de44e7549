/**
 * The process's one Agent for the web layer, as lib/agent creates it (kept on globalThis there),
 * with the event functions the SSE routes use beside it. Kept as a module of its own so routes
 * and actions share one import; the Agent itself is lib/agent's `getAgent()`.
 */
import { getAgent, replayAndSubscribe, subscribe, subscribeAll } from "@/lib/agent";
import type { Agent } from "@/lib/agent";

export type AgentRuntime = {
  agent: Agent;
  replayAndSubscribe: typeof replayAndSubscribe;
  subscribe: typeof subscribe;
  subscribeAll: typeof subscribeAll;
};

export { getAgent };

export async function getAgentRuntime(): Promise<AgentRuntime> {
  return { agent: await getAgent(), replayAndSubscribe, subscribe, subscribeAll };
}

/** Start-up: finish or fail whatever a previous process left running. */
export async function recoverAgent(): Promise<void> {
  await (await getAgent()).recoverAll();
}
