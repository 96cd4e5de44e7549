/**
 * The agent's event types for browser code, which must not import lib/agent/events (it reaches
 * the database). A test keeps this list equal to the agent's.
 */
import type { AgentEventType } from "@/lib/agent/events";

export const SESSION_EVENT_TYPES = [
  "message",
  "tokens",
  "proposal",
  "decision",
  "tool_started",
  "result",
  "training_step",
  "state",
  "context",
  "rewind",
  "error",
  "probe",
] as const satisfies readonly AgentEventType[];
