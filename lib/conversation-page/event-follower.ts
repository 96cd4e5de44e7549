/**
 * Follows one conversation's events for the SSE route: everything after `afterEventId` is read
 * from conversation_event in id order and sent once. A live event on this process's bus only
 * nudges a read, and a read also runs every `pollMs`, so events reach the stream even when another
 * server process published them. Reads never overlap; a nudge during a read triggers one more.
 * The poll is for other processes: where this one is the database's sole writer (PGlite), every
 * event reaches its bus, and the poll is only a slow safety net (FOLLOW_POLL_MS).
 * A reply's token deltas are not stored: with `deltas`, once the first read is sent the text so
 * far (the bus's draft) goes out as one `sofar` delta, then each live delta, none ahead of a stored
 * event published before it (a delta waits for the read in progress).
 */
import { type AgentEvent, type EventBus, type TokenDelta, toAgentEvent } from "@/lib/agent/events";
import type { Db } from "@/lib/db/client";
import { listEventsAfter } from "@/lib/db/queries/events";

export type FollowedEvent = AgentEvent;

/** How often a follower reads the database unprompted: often where other processes may publish. */
export const FOLLOW_POLL_MS = { shared: 1_000, sole: 15_000 } as const;

export function followConversationEvents({
  db,
  ownerId,
  conversationId,
  afterEventId,
  send,
  subscribe,
  deltas,
  pollMs = FOLLOW_POLL_MS.shared,
  onError,
}: {
  db: Db;
  ownerId: string;
  conversationId: string;
  afterEventId: number;
  send: (event: FollowedEvent) => void;
  /** The bus: calls `nudge` when this process publishes an event of the conversation; returns unsubscribe. */
  subscribe: EventBus["subscribe"];
  /** Where the reply being sampled comes from (this process's bus), and where its text goes. */
  deltas?: { bus: Pick<EventBus, "subscribeDeltas" | "draft">; send: (delta: TokenDelta) => void };
  pollMs?: number;
  onError?: (error: unknown) => void;
}): { stop: () => void; caughtUp: () => Promise<void> } {
  let last = afterEventId;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  /** False until the first read is sent: the draft's text so far then covers every delta before it. */
  let live = false;
  const held: TokenDelta[] = [];

  const readAll = async () => {
    for (;;) {
      const rows = await listEventsAfter({ db, ownerId, conversationId, afterId: last, limit: 500 });
      for (const row of rows) {
        if (stopped) return;
        last = row.id;
        send(toAgentEvent(row));
      }
      if (rows.length < 500) return;
    }
  };
  const goLive = () => {
    live = true;
    const text = deltas?.bus.draft(conversationId) ?? null;
    if (text === null || stopped) return;
    const payload = { text, final: false, sofar: true } as const;
    deltas?.send({ id: null, conversationId, type: "tokens", payload, createdAt: new Date() });
  };
  const pump = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await readAll();
          if (!live) goLive();
        } while (again && !stopped);
      } catch (error) {
        onError?.(error);
      } finally {
        running = null;
        for (const delta of held.splice(0)) if (!stopped) deltas?.send(delta);
      }
    })();
    return running;
  };

  const unsubscribe = subscribe(conversationId, afterEventId, () => void pump());
  const unsubscribeDeltas = deltas?.bus.subscribeDeltas(conversationId, (delta) => {
    if (!live || stopped) return;
    if (running) held.push(delta);
    else deltas.send(delta);
  });
  const timer = setInterval(() => void pump(), pollMs);
  const first = pump();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      unsubscribeDeltas?.();
    },
    /** Resolves when the reads started so far have finished (tests). */
    caughtUp: async () => {
      await first;
      while (running) await running;
    },
  };
}
