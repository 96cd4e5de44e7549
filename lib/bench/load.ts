/**
 * The load benchmark's person: signs up, creates a workspace from the example, starts a
 * conversation, opens it (the page's first read, then its SSE stream, reading the view again
 * whenever the page would), sends the task and, until the deadline, decides each proposal as it
 * comes (deny with a correction, then approve, in turn), sending the task again whenever the
 * agent stops or answers. It times each decision from request to acknowledgement, each send and
 * each wait for a proposal; failures are collected, never thrown past the run.
 */
import type { ConversationState } from "@/lib/db/enums";
import type { LiveEvent } from "@/lib/conversation-page/live-view";
import type { BrowserClient, StreamedEvent } from "./load-client";

export const LOAD_TASK = "Create stats.py with a function `total_apples` that returns the sum of a and b.";
export const LOAD_CORRECTION = "Keep the new file short and name it in the first line.";
const PASSWORD = "correct-horse-battery-staple";

export type ActionReply = { status: string; error?: string } & Record<string, unknown>;

export type PersonRun = {
  decide_s: number[];
  /** The same latencies split by the decision's kind (a denial also queues a training step). */
  deny_s: number[];
  approve_s: number[];
  send_s: number[];
  proposalWait_s: number[];
  viewReads: number;
  errors: string[];
};

/** Whether the page reads the conversation view again after this event (the page's own rule). */
export type ReadsViewAfter = (event: LiveEvent) => boolean;

/** A conversation's streamed events, with waits for the next one that matches. */
class EventLog {
  readonly events: StreamedEvent[] = [];
  private waiters: Array<{ from: number; test: (e: StreamedEvent) => boolean; resolve: (e: StreamedEvent) => void }> =
    [];

  push(e: StreamedEvent): void {
    this.events.push(e);
    const index = this.events.length - 1;
    this.waiters = this.waiters.filter((w) => {
      if (index < w.from || !w.test(e)) return true;
      w.resolve(e);
      return false;
    });
  }

  /** The first event at index ≥ from that passes `test`, or null at the deadline. */
  next(from: number, test: (e: StreamedEvent) => boolean, deadline: number): Promise<StreamedEvent | null> {
    const seen = this.events.slice(from).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), Math.max(0, deadline - performance.now()));
      this.waiters.push({ from, test, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }
}

/** Reads the view after events as the page does: coalesced, never two reads at once. */
function viewReader(client: BrowserClient, conversationId: string, run: PersonRun, onError: (e: unknown) => void) {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let running = false;
  let again = false;
  const read = () => {
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        run.viewReads++;
        await client.getJson(`/api/conversations/${conversationId}`);
      } catch (error) {
        onError(error);
      } finally {
        running = false;
        if (again) {
          again = false;
          read();
        }
      }
    }, 80);
  };
  return { read, stop: () => timer && clearTimeout(timer) };
}

const SETTLED = new Set<ConversationState>(["proposed", "idle", "failed"]);

export async function runPerson({
  client,
  index,
  deadline,
  readsViewAfter,
  signal,
}: {
  client: BrowserClient;
  index: number;
  /** performance.now() at which the run stops (no new request starts after it). */
  deadline: number;
  readsViewAfter: ReadsViewAfter;
  signal: AbortSignal;
}): Promise<PersonRun> {
  const run: PersonRun = {
    decide_s: [],
    deny_s: [],
    approve_s: [],
    send_s: [],
    proposalWait_s: [],
    viewReads: 0,
    errors: [],
  };
  const fail = (what: string, error: unknown) =>
    run.errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  const ok = (what: string, reply: ActionReply) => {
    if (reply.status === "ok") return true;
    run.errors.push(`${what}: ${reply.status}${reply.error ? ` (${reply.error})` : ""}`);
    return false;
  };
  try {
    await client.signUp({
      name: `Load ${index}`,
      email: `load-${index}-${Date.now()}@example.test`,
      password: PASSWORD,
    });
    const ws = await client.action<ActionReply & { id: string }>("createWorkspace", "/workspaces", {
      name: `load ${index}`,
      example: "calculator",
    });
    if (!ok("createWorkspace", ws)) return run;
    const conv = await client.action<ActionReply & { id: string }>("startConversation", `/workspaces/${ws.id}`, {
      workspaceId: ws.id,
    });
    if (!ok("startConversation", conv)) return run;
    const page = `/conversations/${conv.id}`;
    const first = await client.getJson<{ view: { lastEventId: number } }>(`/api/conversations/${conv.id}`);
    const log = new EventLog();
    const reader = viewReader(client, conv.id, run, (e) => fail("view", e));
    const stream = client
      .follow(conv.id, first.view.lastEventId, signal, (e) => {
        log.push(e);
        if (readsViewAfter(e)) reader.read();
      })
      .catch((e) => fail("events", e));

    let deny = true;
    let needTask = true;
    let since = performance.now();
    while (performance.now() < deadline) {
      if (needTask) {
        const t0 = performance.now();
        const sent = await client.action<ActionReply>("sendMessage", page, {
          conversationId: conv.id,
          text: LOAD_TASK,
        });
        run.send_s.push((performance.now() - t0) / 1000);
        if (!ok("sendMessage", sent)) break;
        needTask = false;
        since = performance.now();
      }
      const from = log.events.length;
      const settled = await log.next(
        0,
        (e) => e.at >= since && e.type === "state" && SETTLED.has(e.payload.state),
        deadline,
      );
      if (!settled) break;
      if (settled.type !== "state" || settled.payload.state !== "proposed") {
        needTask = true;
        continue;
      }
      const proposal = log.events
        .slice(0, log.events.indexOf(settled))
        .findLast(
          (e): e is StreamedEvent & { type: "proposal" } => e.type === "proposal" && e.payload.approval === "ask",
        );
      if (!proposal) {
        fail("proposal", new Error(`state proposed without a proposal event (from ${from})`));
        break;
      }
      run.proposalWait_s.push((settled.at - since) / 1000);
      const decision = deny ? { kind: "deny", correction: LOAD_CORRECTION } : { kind: "approve" };
      const t0 = performance.now();
      const decided = await client.action<ActionReply>("decide", page, {
        toolCallId: proposal.payload.toolCallId,
        decision,
      });
      const seconds = (performance.now() - t0) / 1000;
      run.decide_s.push(seconds);
      (deny ? run.deny_s : run.approve_s).push(seconds);
      deny = !deny;
      if (!ok("decide", decided)) break;
      since = performance.now();
    }
    reader.stop();
    void stream;
  } catch (error) {
    fail("run", error);
  }
  return run;
}
