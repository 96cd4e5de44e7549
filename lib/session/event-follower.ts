/**
 * Follows one conversation's events for the SSE route: everything after `afterEventId` is read
 * from conversation_event in id order and sent once. A live event on this process's bus only
 * nudges a read, and a read also runs every `pollMs`, so events reach the stream even when they
 * were published elsewhere: by another server process, or by a copy of the agent's event module
 * that the bundler gave a route or action of its own. Reads never overlap; a nudge during a read
 * triggers one more.
 */
import type { Db } from "@/lib/db/client";
import { listEventsAfter } from "@/lib/db/queries/events";

export type FollowedEvent = { id: number; type: string; payload: Record<string, unknown> };

export function followConversationEvents({
  db,
  ownerId,
  conversationId,
  afterEventId,
  send,
  subscribe,
  pollMs = 1000,
  onError,
}: {
  db: Db;
  ownerId: string;
  conversationId: string;
  afterEventId: number;
  send: (event: FollowedEvent) => void;
  /** The bus: calls `nudge` when this process publishes an event of the conversation; returns unsubscribe. */
  subscribe: (conversationId: string, afterEventId: number, nudge: () => void) => () => void;
  pollMs?: number;
  onError?: (error: unknown) => void;
}): { stop: () => void; caughtUp: () => Promise<void> } {
  let last = afterEventId;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;

  const readAll = async () => {
    for (;;) {
      const rows = await listEventsAfter({ db, ownerId, conversationId, afterId: last, limit: 500 });
      for (const row of rows) {
        if (stopped) return;
        last = row.id;
        send({ id: row.id, type: row.type, payload: row.payload });
      }
      if (rows.length < 500) return;
    }
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
        } while (again && !stopped);
      } catch (error) {
        onError?.(error);
      } finally {
        running = null;
      }
    })();
    return running;
  };

  const unsubscribe = subscribe(conversationId, afterEventId, () => void pump());
  const timer = setInterval(() => void pump(), pollMs);
  const first = pump();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
    },
    /** Resolves when the reads started so far have finished (tests). */
    caughtUp: async () => {
      await first;
      while (running) await running;
    },
  };
}
