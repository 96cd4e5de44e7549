/**
 * What the UI is told about a conversation: every event is appended to conversation_event first
 * (its id is the SSE id, so a reconnecting client replays exactly what it missed), then published
 * to this process's subscribers of that conversation. `replayAndSubscribe` joins the two without a
 * gap or a duplicate: it listens first, reads the stored events after the client's id, then lets
 * through only live events newer than the last one replayed.
 */
import type { Db } from "@/lib/db/client";
import { appendEvent, listEventsAfter } from "@/lib/db/queries/events";
import type { ConversationEvent } from "@/lib/db/schema";

/** The event types the agent emits (conversation_event.type). */
export const AGENT_EVENT_TYPES = [
  "message", // a message row was stored (user, assistant, tool, system)
  "tokens", // sampled text of an assistant message
  "proposal", // a tool call awaits a decision
  "decision", // approved, auto-approved, denied, edited
  "tool_started", // a tool began running
  "result", // a tool finished (succeeded or failed)
  "training_step", // queued | running | done | failed
  "state", // the conversation's state changed
  "context", // older turns were elided from the prompt
  "rewind", // code and/or conversation went back to an earlier turn (or a rewind was undone)
  "error", // something needs the user's attention (parse error, step cap, interrupted tool …)
  "probe", // a finished step's version was scored on the user's probes (and judged by the guard)
] as const;
export type AgentEventType = (typeof AGENT_EVENT_TYPES)[number];

export type AgentEvent = {
  id: number;
  conversationId: string;
  type: AgentEventType;
  payload: Record<string, unknown>;
  createdAt: Date;
};

export type EventListener = (event: AgentEvent) => void;

/**
 * Subscribers live on globalThis: Next.js gives each route bundle its own copy of this module,
 * and the agent (in one bundle) must reach the SSE routes' listeners (in others).
 */
type Registry = { listeners: Map<string, Set<EventListener>>; everywhere: Set<EventListener> };
const registryKey = Symbol.for("continualcode.agent.events");
const registry: Registry = ((globalThis as Record<symbol, Registry | undefined>)[registryKey] ??= {
  listeners: new Map(),
  everywhere: new Set(),
});
const { listeners, everywhere } = registry;

function toAgentEvent(row: ConversationEvent): AgentEvent {
  return {
    id: row.id,
    conversationId: row.conversationId,
    type: row.type as AgentEventType,
    payload: row.payload,
    createdAt: row.createdAt,
  };
}

/** Stores the event, then tells this process's subscribers; returns it with its id. */
export async function publishEvent({
  db,
  ownerId,
  conversationId,
  type,
  payload,
}: {
  db: Db;
  ownerId: string;
  conversationId: string;
  type: AgentEventType;
  payload: Record<string, unknown>;
}): Promise<AgentEvent> {
  const event = toAgentEvent(await appendEvent({ db, ownerId, conversationId, type, payload }));
  for (const listener of [...(listeners.get(conversationId) ?? []), ...everywhere]) {
    try {
      listener(event);
    } catch {
      // A failing subscriber (a closed stream) must not stop the agent or the other subscribers.
    }
  }
  return event;
}

/**
 * Live events of one conversation with id > afterEventId, as this process publishes them.
 * Returns the unsubscribe function. Ownership is the caller's check (the SSE route's).
 */
export function subscribe(conversationId: string, afterEventId: number, listener: EventListener): () => void {
  const filtered: EventListener = (event) => {
    if (event.id > afterEventId) listener(event);
  };
  let set = listeners.get(conversationId);
  if (!set) {
    set = new Set();
    listeners.set(conversationId, set);
  }
  set.add(filtered);
  return () => {
    const current = listeners.get(conversationId);
    current?.delete(filtered);
    if (current?.size === 0) listeners.delete(conversationId);
  };
}

/** Every conversation's live events in this process (a headless host's log). */
export function subscribeAll(listener: EventListener): () => void {
  everywhere.add(listener);
  return () => everywhere.delete(listener);
}

/** The owner's stored events after `afterEventId`, then live ones, each exactly once and in order. */
export async function replayAndSubscribe({
  db,
  ownerId,
  conversationId,
  afterEventId,
  listener,
}: {
  db: Db;
  ownerId: string;
  conversationId: string;
  afterEventId: number;
  listener: EventListener;
}): Promise<() => void> {
  let last = afterEventId;
  let replaying = true;
  const buffered: AgentEvent[] = [];
  const deliver = (event: AgentEvent) => {
    if (event.id <= last) return;
    last = event.id;
    listener(event);
  };
  const unsubscribe = subscribe(conversationId, afterEventId, (event) =>
    replaying ? buffered.push(event) : deliver(event),
  );
  try {
    for (;;) {
      const rows = await listEventsAfter({ db, ownerId, conversationId, afterId: last, limit: 1000 });
      rows.map(toAgentEvent).forEach(deliver);
      if (rows.length < 1000) break;
    }
  } catch (error) {
    unsubscribe();
    throw error;
  }
  replaying = false;
  buffered.sort((a, b) => a.id - b.id).forEach(deliver);
  return unsubscribe;
}
