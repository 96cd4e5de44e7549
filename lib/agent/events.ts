/**
 * What the UI is told about a conversation: every event is appended to conversation_event first
 * (its id is the SSE id, so a reconnecting client replays exactly what it missed), then published
 * to this process's subscribers of that conversation. `replayAndSubscribe` joins the two without a
 * gap or a duplicate: it listens first, reads the stored events after the client's id, then lets
 * through only live events newer than the last one replayed.
 * The one exception is a reply's text while it is sampled: its deltas (up to 20 a second) are
 * never stored. The bus keeps the text so far in memory for live viewers (a late one gets it
 * whole, then the deltas), and the reply's final "tokens" event, which is stored, carries all of it.
 */
import type { Db } from "@/lib/db/client";
import type {
  ConversationEventType as AgentEventType,
  ConversationState,
  MessageRole,
  TrainingStepStatus,
} from "@/lib/db/enums";
import { appendEvent, listEventsAfter } from "@/lib/db/queries/events";
import type { ConversationEvent } from "@/lib/db/schema";
import type { GuardVerdict } from "@/lib/sdpo/guard";
import type { LossFnName } from "@/lib/training/types";
import type { RewindRecord } from "./rewind";

/** The event types the agent emits: conversation_event.type's values (lib/db/enums.ts lists them). */
export { CONVERSATION_EVENT_TYPES as AGENT_EVENT_TYPES } from "@/lib/db/enums";
export type { AgentEventType };

/** Why the conversation needs the user's attention (an "error" event's kind). */
export type AgentErrorKind =
  | "internal"
  | "step_cap"
  | "parse_error"
  | "multiple_tool_calls"
  | "tool_failure"
  | "interrupted"
  | "training_failed"
  | "guard_flagged"
  | "guard_rejected";

/**
 * Each event type's payload: what the publisher sends, the store keeps (conversation_event.payload)
 * and the page reads. Ids name the rows the page may read for the rest.
 */
export type AgentEventPayloads = {
  /** A message row was stored. */
  message: {
    messageId: string;
    role: MessageRole;
    seq?: number;
    kind?: "task" | "correction" | "nudge" | "episode";
    /** An assistant message's tool calls, when it proposed more than one. */
    toolCalls?: number;
  };
  /**
   * A reply's text: a delta while it is sampled (kept in memory only), or with `final` the whole
   * reply (stored). `sofar` marks a delta that is the whole text so far (a late viewer's start).
   */
  tokens: { text: string; final: boolean; sofar?: true };
  /** A tool call awaits a decision, or was approved by a rule (`approval: "auto"`). */
  proposal: {
    toolCallId: string;
    name: string;
    args: Record<string, unknown>;
    approval: "auto" | "ask";
    reason?: string | null;
  };
  decision: {
    toolCallId: string;
    decision: "approved" | "auto_approved" | "denied" | "edited" | "failure_corrected";
    correctionId?: string | null;
    editedArgs?: Record<string, unknown> | null;
    autoReason?: string | null;
  };
  tool_started: { toolCallId: string; name: string; args: Record<string, unknown> };
  result: {
    toolCallId: string;
    success: boolean;
    outcome?: string;
    output: string;
    feedback?: string | null;
    interrupted?: true;
  };
  training_step: {
    trainingStepId: string;
    status: TrainingStepStatus;
    step: number | null;
    lossFn: LossFnName;
    error: string | null;
    /** A finished step's headline metrics. */
    metrics?: Record<string, number>;
    /** The stale step this one re-queues. */
    requeuedFrom?: string;
  };
  state: { state: ConversationState; resumed?: true; cleared?: true; rewound?: true };
  context: { elided: number; promptTokens: number; window: number };
  rewind: RewindRecord;
  error: {
    kind: AgentErrorKind;
    message: string;
    toolCallId?: string;
    messageId?: string;
    trainingStepId?: string;
    step?: number | null;
    suggestion?: string;
    maxSteps?: number;
    rolledBackTo?: number | null;
  };
  probe: {
    trainingStepId: string;
    step: number | null;
    flagged: boolean;
    action: GuardVerdict["action"];
    reasons: string[];
    rolledBackTo: number | null;
  } & Record<string, unknown>;
};

/** A stored event: one of the map's types with its payload. */
export type AgentEvent<T extends AgentEventType = AgentEventType> = {
  [K in T]: { id: number; conversationId: string; type: K; payload: AgentEventPayloads[K]; createdAt: Date };
}[T];

/** A sampled reply's delta as the bus hands it to live viewers: never stored, so it has no id. */
export type TokenDelta = {
  id: null;
  conversationId: string;
  type: "tokens";
  payload: AgentEventPayloads["tokens"];
  createdAt: Date;
};

export type EventListener = (event: AgentEvent) => void;
export type DeltaListener = (delta: TokenDelta) => void;

/** A listener that throws (a closed stream) must not stop the agent or the other listeners. */
function tell<E>(listeners: Iterable<(e: E) => void>, e: E): void {
  for (const listener of listeners) {
    try {
      listener(e);
    } catch {
      // see above
    }
  }
}

/**
 * This process's subscribers, by conversation and for every conversation, and the text so far
 * of each reply being sampled. One bus belongs to the process's runtime, which passes it to the
 * agent that publishes and to the routes that listen; a test's agent gets a bus of its own.
 */
export class EventBus {
  private readonly listeners = new Map<string, Set<EventListener>>();
  private readonly everywhere = new Set<EventListener>();
  private readonly deltaListeners = new Map<string, Set<DeltaListener>>();
  private readonly drafts = new Map<string, string>();

  /** Tells the conversation's subscribers and the everywhere-subscribers about a stored event. */
  deliver(event: AgentEvent): void {
    // The stored final text (or the sample's end) replaces the draft kept here.
    if (
      (event.type === "tokens" && event.payload.final) ||
      (event.type === "state" && event.payload.state !== "sampling")
    )
      this.drafts.delete(event.conversationId);
    tell([...(this.listeners.get(event.conversationId) ?? []), ...this.everywhere], event);
  }

  /** Adds a sampled delta to the conversation's draft and hands it to its live viewers. */
  deliverDelta(delta: TokenDelta): void {
    this.drafts.set(delta.conversationId, (this.drafts.get(delta.conversationId) ?? "") + delta.payload.text);
    tell(this.deltaListeners.get(delta.conversationId) ?? [], delta);
  }

  /** The text so far of the reply the conversation is sampling, or null when none is. */
  draft(conversationId: string): string | null {
    return this.drafts.get(conversationId) ?? null;
  }

  /**
   * Live events of one conversation with id > afterEventId, as this process publishes them.
   * Returns the unsubscribe function. Ownership is the caller's check (the SSE route's).
   */
  subscribe(conversationId: string, afterEventId: number, listener: EventListener): () => void {
    return addTo(this.listeners, conversationId, (event) => {
      if (event.id > afterEventId) listener(event);
    });
  }

  /** The conversation's token deltas from now on (never stored; see draft() for those before). */
  subscribeDeltas(conversationId: string, listener: DeltaListener): () => void {
    return addTo(this.deltaListeners, conversationId, listener);
  }

  /** Every conversation's live events in this process (a headless host's log, the step feed). */
  subscribeAll(listener: EventListener): () => void {
    this.everywhere.add(listener);
    return () => this.everywhere.delete(listener);
  }
}

function addTo<L>(map: Map<string, Set<L>>, key: string, listener: L): () => void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(listener);
  return () => {
    const current = map.get(key);
    current?.delete(listener);
    if (current?.size === 0) map.delete(key);
  };
}

/** A stored row as the event it is: the store keeps each type's payload (conversation_event.type names it). */
export function toAgentEvent(row: ConversationEvent): AgentEvent {
  return {
    id: row.id,
    conversationId: row.conversationId,
    type: row.type,
    payload: row.payload,
    createdAt: row.createdAt,
  } as AgentEvent;
}

/** What publishing returns: the stored event, or for "tokens" possibly a delta (never stored). */
export type Published<T extends AgentEventType> = T extends "tokens"
  ? AgentEvent<"tokens"> | TokenDelta
  : AgentEvent<T>;

/**
 * Stores the event, then tells this process's subscribers on `bus`; returns it with its id. A
 * non-final "tokens" event is a delta: kept in the bus's draft and handed to live viewers only.
 */
export async function publishEvent<T extends AgentEventType>({
  db,
  bus,
  ownerId,
  conversationId,
  type,
  payload,
}: {
  db: Db;
  bus: EventBus;
  ownerId: string;
  conversationId: string;
  type: T;
  payload: AgentEventPayloads[T];
}): Promise<Published<T>> {
  // TypeScript does not narrow T by `type`: the casts restate what the check above each one proved.
  const tokens = type === "tokens" ? (payload as AgentEventPayloads["tokens"]) : null;
  if (tokens && !tokens.final) {
    const delta: TokenDelta = { id: null, conversationId, type: "tokens", payload: tokens, createdAt: new Date() };
    bus.deliverDelta(delta);
    return delta as Published<T>;
  }
  const event = toAgentEvent(await appendEvent({ db, ownerId, conversationId, type, payload }));
  bus.deliver(event);
  return event as Published<T>;
}

/** The owner's stored events after `afterEventId`, then live ones, each exactly once and in order. */
export async function replayAndSubscribe({
  db,
  bus,
  ownerId,
  conversationId,
  afterEventId,
  listener,
}: {
  db: Db;
  bus: EventBus;
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
  const unsubscribe = bus.subscribe(conversationId, afterEventId, (event) =>
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
