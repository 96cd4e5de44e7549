"use client";
/**
 * The conversation's live events in the browser: one EventSource on the conversation's SSE route,
 * opened after the last event the page rendered. The browser reconnects by itself and sends the
 * last id it saw (Last-Event-ID), so nothing is missed or repeated across a dropped connection.
 */
import { useEffect, useRef } from "react";
import type { AgentEventType } from "@/lib/agent/events";
import { SESSION_EVENT_TYPES } from "@/lib/session/event-types";

export type LiveEvent = { id: number; type: AgentEventType; payload: Record<string, unknown> };

export function useConversationEvents(
  conversationId: string,
  afterEventId: number,
  onEvent: (e: LiveEvent) => void,
): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;

  useEffect(() => {
    const source = new EventSource(`/api/conversations/${conversationId}/events?after=${afterEventId}`);
    const listeners = SESSION_EVENT_TYPES.map((type) => {
      const listener = (e: MessageEvent<string>) => {
        let payload: Record<string, unknown> = {};
        try {
          payload = JSON.parse(e.data) as Record<string, unknown>;
        } catch {
          return;
        }
        handler.current({ id: Number(e.lastEventId), type, payload });
      };
      source.addEventListener(type, listener);
      return [type, listener] as const;
    });
    return () => {
      for (const [type, listener] of listeners) source.removeEventListener(type, listener);
      source.close();
    };
    // Opened once per conversation: reconnects resume from the browser's own Last-Event-ID.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conversationId]);
}
