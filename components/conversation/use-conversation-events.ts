"use client";
/**
 * The conversation's live events in the browser: one EventSource on the conversation's SSE route,
 * opened after the last event the page rendered. The browser reconnects by itself and sends the
 * last id it saw (Last-Event-ID), so nothing is missed or repeated across a dropped connection.
 * A token delta carries no id (it is never stored); a reconnect starts with the reply's text so far.
 */
import { useEffect, useRef } from "react";
import { SESSION_EVENT_TYPES } from "@/lib/conversation-page/event-types";
import type { LiveEvent } from "@/lib/conversation-page/live-view";

export type { LiveEvent };

export function useConversationEvents(
  conversationId: string,
  afterEventId: number,
  onEvent: (e: LiveEvent) => void,
): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;

  // Opened once per conversation: reconnects resume from the browser's own Last-Event-ID, so a
  // newer afterEventId must not reopen it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: see above
  useEffect(() => {
    const source = new EventSource(`/api/conversations/${conversationId}/events?after=${afterEventId}`);
    const listeners = SESSION_EVENT_TYPES.map((type) => {
      const listener = (e: MessageEvent<string>) => {
        let event: LiveEvent;
        try {
          // The route encodes this type's payload of the event map (lib/conversation-page/sse): read as such.
          event = { id: null, type, payload: JSON.parse(e.data) } as LiveEvent;
        } catch {
          return;
        }
        // A stored event's id is the one the browser just read; a delta has none.
        if (event.type !== "tokens" || event.payload.final) event.id = Number(e.lastEventId);
        handler.current(event);
      };
      source.addEventListener(type, listener);
      return [type, listener] as const;
    });
    return () => {
      for (const [type, listener] of listeners) source.removeEventListener(type, listener);
      source.close();
    };
  }, [conversationId]);
}
