/**
 * One person's browser, as the load benchmark drives it over HTTP: a cookie jar, its own
 * forwarded address (the server runs with --trust-proxy, so the sign-up rate limit keys on it as
 * it would on a real client's), the auth routes, server actions called as the page calls them
 * (POST with the `Next-Action` header, the arguments as JSON, the result read from the flight
 * reply), the conversation view route and the conversation's SSE stream.
 */
import fs from "node:fs";
import path from "node:path";
import type { LiveEvent } from "@/lib/conversation-page/live-view";
import { parseSse } from "@/lib/conversation-page/sse";

/** Server action ids of the build, by exported name (e.g. "decide"), read from Next's manifest. */
export function readActionIds(root: string): Map<string, string> {
  const file = path.join(root, ".next", "server", "server-reference-manifest.json");
  const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as {
    node: Record<string, { exportedName?: string; workers?: Record<string, { exportedName?: string }> }>;
  };
  const ids = new Map<string, string>();
  for (const [id, entry] of Object.entries(manifest.node)) {
    const name = entry.exportedName ?? Object.values(entry.workers ?? {})[0]?.exportedName;
    if (name) ids.set(name, id);
  }
  return ids;
}

/** The value a server action returned, from its flight reply (row 0 points at the result's row). */
export function actionResultOf(body: string): unknown {
  const rows = new Map<string, string>();
  for (const line of body.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) rows.set(line.slice(0, colon), line.slice(colon + 1));
  }
  const head = JSON.parse(rows.get("0") ?? "null") as { a?: unknown } | null;
  const ref = typeof head?.a === "string" && head.a.startsWith("$@") ? head.a.slice(2) : null;
  if (ref === null) return head?.a;
  const row = rows.get(ref);
  if (row === undefined) throw new Error(`the action's reply has no row ${ref}: ${body.slice(0, 200)}`);
  return JSON.parse(row);
}

/** An event as the page's hook reads it (lib/conversation-page/live-view's LiveEvent), with when it arrived. */
export type StreamedEvent = LiveEvent & { at: number };

export class BrowserClient {
  private readonly cookies = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    private readonly address: string,
    private readonly actionIds: Map<string, string>,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    return { "x-forwarded-for": this.address, origin: this.baseUrl, ...(cookie ? { cookie } : {}), ...extra };
  }

  private keepCookies(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      if (eq > 0) this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
  }

  async signUp(user: { name: string; email: string; password: string }): Promise<void> {
    const res = await fetch(`${this.baseUrl}/api/auth/sign-up/email`, {
      method: "POST",
      headers: this.headers({ "content-type": "application/json" }),
      body: JSON.stringify(user),
    });
    this.keepCookies(res);
    if (!res.ok) throw new Error(`sign-up: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  }

  /** Calls a server action from the page at `pagePath`, as the browser's form or button does. */
  async action<T>(name: string, pagePath: string, input: unknown): Promise<T> {
    const id = this.actionIds.get(name);
    if (!id) throw new Error(`the build has no server action named ${name}`);
    const res = await fetch(`${this.baseUrl}${pagePath}`, {
      method: "POST",
      headers: this.headers({
        "next-action": id,
        accept: "text/x-component",
        "content-type": "text/plain;charset=UTF-8",
      }),
      body: JSON.stringify([input]),
    });
    this.keepCookies(res);
    const body = await res.text();
    if (!res.ok) throw new Error(`${name}: HTTP ${res.status} ${body.slice(0, 200)}`);
    return actionResultOf(body) as T;
  }

  async getJson<T>(pathname: string): Promise<T> {
    const res = await fetch(`${this.baseUrl}${pathname}`, { headers: this.headers(), cache: "no-store" });
    if (!res.ok) throw new Error(`GET ${pathname}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  /**
   * Follows the conversation's SSE route from `after`, calling `onEvent` for each event until
   * `signal` aborts; resolves when the stream ends. Events without an id (live token deltas) keep
   * the last id, as the browser's EventSource does.
   */
  async follow(
    conversationId: string,
    after: number,
    signal: AbortSignal,
    onEvent: (e: StreamedEvent) => void,
  ): Promise<void> {
    const res = await fetch(`${this.baseUrl}/api/conversations/${conversationId}/events?after=${after}`, {
      headers: this.headers({ accept: "text/event-stream" }),
      signal,
    });
    if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        const end = buffer.lastIndexOf("\n\n");
        if (end === -1) continue;
        const complete = buffer.slice(0, end + 2);
        buffer = buffer.slice(end + 2);
        const at = performance.now();
        for (const e of parseSse(complete)) {
          // The route encodes the event map's payload of this type (lib/conversation-page/sse): read as such.
          const event = { id: e.id === undefined ? null : Number(e.id), type: e.event, payload: JSON.parse(e.data) };
          onEvent({ ...(event as LiveEvent), at });
        }
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }
}
