import { describe, expect, it } from "vitest";
import { encodeSseComment, encodeSseEvent, parseAgentEvents, parseSse, resumeAfter, sse } from "./sse";

const evProposal = (id: number) => ({
  id,
  type: "proposal",
  payload: { toolCallId: "tc1", name: "write", args: { path: "a.txt", content: "x\ny" } },
});
const evResult = (id: number) => ({ id, type: "result", payload: { toolCallId: "tc1", success: true, output: "ok" } });

describe("SSE encoding", () => {
  it("agent events survive encoding and parsing whole, in order", () => {
    expect(parseAgentEvents(sse([evProposal(4), evResult(5)]))).toEqual([evProposal(4), evResult(5)]);
  });

  it("a heartbeat comment between events is not an event", () => {
    const text = sse([evProposal(1)]) + encodeSseComment("heartbeat") + sse([evResult(2)]);
    expect(parseAgentEvents(text)).toEqual([evProposal(1), evResult(2)]);
  });

  it("data with newlines is split into data lines and joined again", () => {
    const wire = encodeSseEvent({ id: "7", event: "tokens", data: "a\nb\r\nc" });
    expect(wire).toBe("id: 7\nevent: tokens\ndata: a\ndata: b\ndata: c\n\n");
    expect(parseSse(wire)).toEqual([{ id: "7", event: "tokens", data: "a\nb\nc" }]);
  });

  it("a comment cannot smuggle an event in with a newline", () => {
    expect(parseSse(encodeSseComment("x\n\ndata: evil"))).toEqual([]);
  });
});

describe("where a stream resumes", () => {
  it("Last-Event-ID wins over ?after=, and junk counts as the start", () => {
    expect(resumeAfter("12", "3")).toBe(12);
    expect(resumeAfter(null, "3")).toBe(3);
    expect(resumeAfter("abc", "5")).toBe(5);
    expect(resumeAfter("-1", null)).toBe(0);
    expect(resumeAfter(null, null)).toBe(0);
  });
});
