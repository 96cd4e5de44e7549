/**
 * GET /api/conversations/:id/events: the conversation's events as server-sent events. Resumes
 * after the Last-Event-ID header (the browser's automatic reconnect) or `?after=` (the page's
 * first connection, after what it rendered): only the events after that id are read from
 * conversation_event, in id order (see event-follower), so live ones follow the replay without a
 * gap or a duplicate; a reply being sampled follows as its text so far, then its live deltas.
 * A comment line every 15 s keeps idle streams open; closing the request stops following.
 * 401 signed out, 404 for anyone else's conversation.
 */
import { requireApiUser } from "@/lib/auth/server";
import { getConversationForOwner } from "@/lib/db/queries/conversations";
import { AppError, errorResponse, isAppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { getRuntime } from "@/lib/runtime";
import { FOLLOW_POLL_MS, followConversationEvents } from "@/lib/conversation-page/event-follower";
import { encodeAgentEvent, encodeSseComment, resumeAfter, sseResponse } from "@/lib/conversation-page/sse";

export const dynamic = "force-dynamic";
/** Seconds a stream may stay open where the platform enforces a limit; the browser reconnects after. */
export const maxDuration = 3600;

const HEARTBEAT_MS = 15_000;

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    const user = await requireApiUser();
    const { id } = await params;
    const { agent, events, soleWriter } = await getRuntime();
    const conv = await getConversationForOwner({ db: agent.core.db, id, ownerId: user.id });
    if (!conv) throw new AppError("not_found:conversation", "Conversation not found.");
    const after = resumeAfter(request.headers.get("last-event-id"), new URL(request.url).searchParams.get("after"));

    const encoder = new TextEncoder();
    let cleanup = () => {};
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        let closed = false;
        const send = (text: string) => {
          if (closed) return;
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            cleanup();
          }
        };
        const heartbeat = setInterval(() => send(encodeSseComment("heartbeat")), HEARTBEAT_MS);
        // Stored events in id order, read again on every live event of this process and, where
        // another process may publish (PostgreSQL), every second, so its events are not missed.
        const follower = followConversationEvents({
          db: agent.core.db,
          ownerId: user.id,
          conversationId: conv.id,
          afterEventId: after,
          send: (e) => send(encodeAgentEvent(e)),
          subscribe: (conversationId, afterEventId, nudge) => events.subscribe(conversationId, afterEventId, nudge),
          deltas: { bus: events, send: (d) => send(encodeAgentEvent(d)) },
          pollMs: soleWriter ? FOLLOW_POLL_MS.sole : FOLLOW_POLL_MS.shared,
          onError: (error) => {
            log.error("conversation.events_failed", { conversationId: conv.id, error });
            cleanup();
          },
        });
        cleanup = () => {
          if (closed) return;
          closed = true;
          clearInterval(heartbeat);
          follower.stop();
          try {
            controller.close();
          } catch {
            // already closed by the client
          }
        };
        request.signal.addEventListener("abort", () => cleanup(), { once: true });
        // Tell the browser how long to wait before reconnecting; the comment flushes the headers.
        send(`retry: 2000\n${encodeSseComment("connected")}`);
      },
      cancel() {
        cleanup();
      },
    });
    return sseResponse(stream);
  } catch (err) {
    if (!isAppError(err)) log.error("conversation.events_failed", { error: err });
    return errorResponse(err);
  }
}
