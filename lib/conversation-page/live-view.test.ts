import { describe, expect, it } from "vitest";
import { applyEvent, type LiveEvent, readsViewAfter } from "./live-view";
import type { ConversationPageData } from "./page-data";

const call = (id: string, status: string) => ({ id, status, editedArgs: null }) as never;

/** The page's data while call c2 waits for a decision (only the fields the events touch). */
function waiting(): ConversationPageData {
  return {
    preview: { toolCallId: "c2", preview: { kind: "args" } },
    view: {
      conversation: { id: "conv", state: "proposed" },
      toolCalls: [call("c1", "succeeded"), call("c2", "proposed")],
      awaiting: { kind: "decision", toolCall: call("c2", "proposed") },
    },
  } as unknown as ConversationPageData;
}

describe("the conversation page applying live events", () => {
  it("a denial moves its call's status and ends the wait for a decision without a read", () => {
    const e: LiveEvent = { id: 9, type: "decision", payload: { toolCallId: "c2", decision: "denied" } };
    const next = applyEvent(waiting(), e);
    expect(next.view.toolCalls.map((c) => c.status)).toEqual(["succeeded", "denied"]);
    expect(next.view.awaiting).toBeNull();
    expect(next.preview).toBeNull();
    expect(readsViewAfter(e)).toBe(false);
  });

  it("an edit keeps the edited arguments, and a started tool is executing", () => {
    const edited = applyEvent(waiting(), {
      id: 9,
      type: "decision",
      payload: { toolCallId: "c2", decision: "edited", editedArgs: { path: "a.txt" } },
    });
    expect(edited.view.toolCalls[1]).toMatchObject({ status: "edited", editedArgs: { path: "a.txt" } });
    const started = applyEvent(edited, {
      id: 10,
      type: "tool_started",
      payload: { toolCallId: "c2", name: "write", args: {} },
    });
    expect(started.view.toolCalls[1]).toMatchObject({ status: "executing" });
  });

  it("the conversation's state is applied; leaving 'proposed' ends the wait for a decision", () => {
    const sampling = applyEvent(waiting(), { id: 9, type: "state", payload: { state: "training" } });
    expect(sampling.view.conversation.state).toBe("training");
    expect(sampling.view.awaiting).toBeNull();
    const still = applyEvent(waiting(), { id: 9, type: "state", payload: { state: "proposed" } });
    expect(still.view.awaiting).toEqual(waiting().view.awaiting);
  });

  it("an event that moves nothing leaves the page's data as it was", () => {
    const data = waiting();
    expect(applyEvent(data, { id: null, type: "tokens", payload: { text: "a", final: false } })).toBe(data);
    expect(
      applyEvent(data, { id: 9, type: "decision", payload: { toolCallId: "c2", decision: "failure_corrected" } }),
    ).toBe(data);
  });

  it("only events that bring rows the page has not got make it read the view again", () => {
    const reads = (e: LiveEvent) => readsViewAfter(e);
    expect(reads({ id: 1, type: "message", payload: { messageId: "m", role: "assistant" } })).toBe(true);
    expect(
      reads({ id: 2, type: "proposal", payload: { toolCallId: "c", name: "read", args: {}, approval: "ask" } }),
    ).toBe(true);
    expect(reads({ id: 3, type: "state", payload: { state: "sampling" } })).toBe(false);
    expect(reads({ id: 4, type: "state", payload: { state: "idle" } })).toBe(true);
    const step = { trainingStepId: "s", step: null, lossFn: "cross_entropy", error: null } as const;
    expect(reads({ id: 5, type: "training_step", payload: { ...step, status: "running" } })).toBe(false);
    expect(reads({ id: 6, type: "training_step", payload: { ...step, status: "done" } })).toBe(true);
    expect(reads({ id: null, type: "tokens", payload: { text: "x", final: false } })).toBe(false);
  });
});
