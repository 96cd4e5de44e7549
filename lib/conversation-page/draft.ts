/**
 * The assistant reply being sampled, as the conversation page shows it: non-final "tokens" events grow
 * the draft (a `sofar` one, the text so far that a late or reconnected stream starts with, replaces
 * it), the final one replaces its text with the whole reply, the assistant "message" event
 * names the stored row, and the draft goes once the page's data holds that row, so the text is
 * never shown twice and never vanishes in between. A sample that ends without a message (the
 * conversation moved on, e.g. it failed) drops its draft.
 */

export type Draft = {
  text: string;
  /** The whole reply has arrived (no more deltas). */
  final: boolean;
  /** The stored message that replaces the draft, once the agent has written it. */
  messageId: string | null;
};

export type DraftEvent = { type: string; payload: Record<string, unknown> };

export function draftAfterEvent(draft: Draft | null, e: DraftEvent): Draft | null {
  switch (e.type) {
    case "tokens": {
      const text = typeof e.payload.text === "string" ? e.payload.text : "";
      if (e.payload.final === true) return { text, final: true, messageId: null };
      if (e.payload.sofar === true) return { text, final: false, messageId: null };
      // A delta after a finished reply starts the next one (e.g. after a nudge).
      return draft && !draft.final ? { ...draft, text: draft.text + text } : { text, final: false, messageId: null };
    }
    case "message":
      return draft && e.payload.role === "assistant" && typeof e.payload.messageId === "string"
        ? { ...draft, final: true, messageId: e.payload.messageId }
        : draft;
    case "state":
      return draft && draft.messageId === null && e.payload.state !== "sampling" ? null : draft;
    default:
      return draft;
  }
}

/** The draft still to show beside the page's messages: none once they hold its reply. */
export function draftBeside(draft: Draft | null, messages: ReadonlyArray<{ id: string }>): Draft | null {
  return draft?.messageId && messages.some((m) => m.id === draft.messageId) ? null : draft;
}
