import { describe, expect, it } from "vitest";
import { parseAgentEvents, sse } from "./sse";
import { type Draft, type DraftEvent, draftAfterEvent, draftBeside } from "./draft";

let nextId = 1;
const ev = (type: string, payload: Record<string, unknown>) => ({ id: nextId++, type, payload });
const delta = (text: string) => ev("tokens", { text, final: false });
const final = (text: string) => ev("tokens", { text, final: true });
const message = (messageId: string, role = "assistant") => ev("message", { messageId, role, seq: 3 });
const state = (s: string) => ev("state", { state: s });

/** Every draft the page shows along the events, as the browser receives them over SSE. */
function drafts(
  events: Array<{ id: number; type: string; payload: Record<string, unknown> }>,
  from: Draft | null = null,
): Array<Draft | null> {
  const out: Array<Draft | null> = [];
  let draft = from;
  for (const e of parseAgentEvents(sse(events)) as DraftEvent[]) {
    draft = draftAfterEvent(draft, e);
    out.push(draft);
  }
  return out;
}

describe("the conversation page's draft of the reply being sampled", () => {
  it("grows with each delta, takes the final text, then waits for its stored message", () => {
    const shown = drafts([
      state("sampling"),
      delta("Hi"),
      delta(" the"),
      delta("re 🎉"),
      final("Hi there 🎉"),
      message("m1"),
      state("idle"),
    ]);
    expect(shown).toEqual([
      null,
      { text: "Hi", final: false, messageId: null },
      { text: "Hi the", final: false, messageId: null },
      { text: "Hi there 🎉", final: false, messageId: null },
      { text: "Hi there 🎉", final: true, messageId: null },
      { text: "Hi there 🎉", final: true, messageId: "m1" },
      { text: "Hi there 🎉", final: true, messageId: "m1" },
    ]);
  });

  it("goes once the page's messages hold its reply, so the text is never shown twice", () => {
    const draft: Draft = { text: "Hi", final: true, messageId: "m1" };
    expect(draftBeside(draft, [{ id: "m0" }])).toEqual(draft);
    expect(draftBeside(draft, [{ id: "m0" }, { id: "m1" }])).toBeNull();
    expect(draftBeside({ text: "H", final: false, messageId: null }, [{ id: "m1" }])).toEqual({
      text: "H",
      final: false,
      messageId: null,
    });
  });

  it("a reply sampled after a finished one starts a fresh draft", () => {
    const shown = drafts([delta("a"), final("a"), message("m1"), message("n1", "user"), delta("b"), delta("c")]);
    expect(shown.at(-1)).toEqual({ text: "bc", final: false, messageId: null });
  });

  it("a sample that stops without a message drops its draft", () => {
    expect(
      drafts([delta("half a rep"), ev("error", { kind: "internal", message: "boom" }), state("failed")]).at(-1),
    ).toBeNull();
  });

  it("a reconnected stream's text so far replaces the draft, so deltas missed while it was down are not lost", () => {
    const shown = drafts([delta("Hel"), ev("tokens", { text: "Hello wor", final: false, sofar: true }), delta("ld")]);
    expect(shown.at(-1)).toEqual({ text: "Hello world", final: false, messageId: null });
  });

  it("a page opened mid-reply continues the draft it was given", () => {
    expect(drafts([delta("ly")], { text: "Part", final: false, messageId: null })).toEqual([
      { text: "Partly", final: false, messageId: null },
    ]);
  });
});
