/**
 * Server-sent events as the conversation route writes them and the tests read them: one event is
 * `id:` (the conversation_event id, which the browser sends back as Last-Event-ID after a
 * reconnect), `event:` (its type) and one `data:` line of JSON; a heartbeat is a comment line.
 * A live token delta has no id (it is never stored): the browser keeps the last stored id, and a
 * reconnect gets the reply's text so far instead of the deltas it missed.
 * `parseSse` is the inverse, so tests compare parsed objects instead of raw strings.
 */

export type SseEvent = { id?: string; event?: string; data: string };

/** One event as wire text. Data lines are split so a newline inside the payload stays legal. */
export function encodeSseEvent(e: SseEvent): string {
  let out = "";
  if (e.id !== undefined) out += `id: ${e.id}\n`;
  if (e.event !== undefined) out += `event: ${e.event}\n`;
  for (const line of e.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line: keeps proxies and the browser from timing the stream out; clients ignore it. */
export function encodeSseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

/** An agent event (id, or null for a token delta; type; JSON payload) as SSE. */
export function encodeAgentEvent(e: { id: number | null; type: string; payload: unknown }): string {
  const data = JSON.stringify(e.payload);
  return encodeSseEvent(e.id === null ? { event: e.type, data } : { id: String(e.id), event: e.type, data });
}

/** Builds the wire text of several events (tests: `sse([evProposal(...), evResult(...)])`). */
export function sse(events: Array<{ id: number | null; type: string; payload: unknown }>): string {
  return events.map(encodeAgentEvent).join("");
}

/** Events of a complete SSE text, per the WHATWG rules (comments dropped, multi-line data joined). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split(/\r\n\r\n|\n\n|\r\r/)) {
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r\n|\r|\n/)) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "id") id = value;
      else if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length === 0) continue;
    const e: SseEvent = { data: data.join("\n") };
    if (id !== undefined) e.id = id;
    if (event !== undefined) e.event = event;
    events.push(e);
  }
  return events;
}

/** Parsed events back as agent events (id number, or null for a delta; type; payload object). */
export function parseAgentEvents(text: string): Array<{ id: number | null; type: string; payload: unknown }> {
  return parseSse(text).map((e) => ({
    id: e.id === undefined ? null : Number(e.id),
    type: e.event ?? "message",
    payload: JSON.parse(e.data) as unknown,
  }));
}

/**
 * Where a stream resumes: the Last-Event-ID header (an automatic reconnect) wins over `?after=`
 * (the page's first connection, after what it rendered); anything not a non-negative integer is 0.
 */
export function resumeAfter(lastEventId: string | null, after: string | null): number {
  for (const raw of [lastEventId, after]) {
    if (raw !== null && /^\d{1,15}$/.test(raw.trim())) return Number(raw.trim());
  }
  return 0;
}

/** A stream of events as an HTTP response: no caching or proxy buffering, so each event goes out at once. */
export function sseResponse(body: ReadableStream<Uint8Array>): Response {
  return new Response(body, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
}
