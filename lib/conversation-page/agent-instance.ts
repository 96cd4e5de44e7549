/**
 * The process's Agent for pages, server actions and routes: the runtime's (lib/runtime.ts), which
 * also holds the event bus the SSE routes subscribe to.
 */
import type { Agent } from "@/lib/agent/agent";
import { getRuntime } from "@/lib/runtime";

export async function getAgent(): Promise<Agent> {
  return (await getRuntime()).agent;
}
