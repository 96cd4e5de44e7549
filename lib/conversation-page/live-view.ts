/**
 * What the conversation page does with a live event: the events that only move a status (a decision,
 * a tool starting, the conversation's state, a step queued or running) are applied to the page's
 * data as they come; only those that bring rows the page has not got (a message, a proposal and
 * its preview, a result, a finished step's metrics, a rewind, an error's reason) make it read the
 * conversation view again. The page (components/conversation/session-client.tsx) and the load
 * benchmark (lib/bench/load.ts) share these rules.
 */
import type { AgentEventPayloads, AgentEventType } from "@/lib/agent/events";
import type { ToolCallStatus } from "@/lib/db/enums";
import type { ConversationPageData } from "./page-data";

/** An event as the page receives it: a stored one has its id, a token delta none. */
export type LiveEvent = {
  [K in AgentEventType]: { id: number | null; type: K; payload: AgentEventPayloads[K] };
}[AgentEventType];

/** Whether the page reads the conversation view again after this event. */
export function readsViewAfter(event: LiveEvent): boolean {
  switch (event.type) {
    case "tokens":
    case "decision":
    case "tool_started":
      return false;
    // What an idle or failed conversation waits for (an answer, a correction, a reason) is the view's.
    case "state":
      return event.payload.state === "idle" || event.payload.state === "failed";
    // A finished step brings its metrics; queued and running are applied from the event.
    case "training_step":
      return event.payload.status === "done" || event.payload.status === "failed";
    case "message":
    case "proposal":
    case "result":
    case "context":
    case "rewind":
    case "error":
    case "probe":
      return true;
    default: {
      const never: never = event;
      throw new Error(`unknown event ${JSON.stringify(never)}`);
    }
  }
}

const DECIDED: Record<AgentEventPayloads["decision"]["decision"], ToolCallStatus | null> = {
  approved: "approved",
  auto_approved: "auto_approved",
  denied: "denied",
  edited: "edited",
  // The failed call keeps its status; its correction is a new message (read with the view).
  failure_corrected: null,
};

/** The page's data with the event's status changes applied (the same object when it changes nothing). */
export function applyEvent(data: ConversationPageData, event: LiveEvent): ConversationPageData {
  const view = data.view;
  const withCall = (
    toolCallId: string,
    patch: Partial<ConversationPageData["view"]["toolCalls"][number]>,
  ): ConversationPageData => {
    const toolCalls = view.toolCalls.map((c) => (c.id === toolCallId ? { ...c, ...patch } : c));
    const awaiting =
      view.awaiting?.kind === "decision" && view.awaiting.toolCall.id === toolCallId ? null : view.awaiting;
    const preview = awaiting === view.awaiting ? data.preview : null;
    return { ...data, preview, view: { ...view, toolCalls, awaiting } };
  };
  switch (event.type) {
    case "state": {
      const state = event.payload.state;
      // Anything but "proposed" ends a wait for a decision.
      const awaiting = state !== "proposed" && view.awaiting?.kind === "decision" ? null : view.awaiting;
      return {
        ...data,
        preview: awaiting === view.awaiting ? data.preview : null,
        view: { ...view, conversation: { ...view.conversation, state }, awaiting },
      };
    }
    case "decision": {
      const status = DECIDED[event.payload.decision];
      if (!status) return data;
      const edited = event.payload.editedArgs ? { editedArgs: event.payload.editedArgs } : {};
      return withCall(event.payload.toolCallId, { status, ...edited });
    }
    case "tool_started":
      return withCall(event.payload.toolCallId, { status: "executing" });
    default:
      return data;
  }
}
