import { beforeAll, describe, expect, it } from "vitest";
import { getRenderer } from "@/lib/chat";
import type { Renderer } from "@/lib/chat/types";
import type { Message } from "@/lib/db/schema";
import { buildPrompt, clipToolOutput, elisionMarker, messagesForLayout } from "./context";

let renderer: Renderer;
beforeAll(async () => {
  renderer = await getRenderer("continualcode/qwen3-tiny-coder");
});

let seq = 0;
function row(role: Message["role"], content: string, extra: Partial<Message> = {}): Message {
  const s = seq++;
  return {
    id: `m${s}`,
    ownerId: "u",
    conversationId: "c",
    seq: s,
    role,
    content,
    toolCalls: null,
    toolCallId: null,
    promptTokens: null,
    completionTokens: null,
    completionLogprobs: null,
    meta: null,
    createdAt: new Date(0),
    ...extra,
  };
}
function turn(i: number): Message[] {
  const call = { id: `call${i}`, name: "read", arguments: { path: `f${i}.txt` } };
  return [
    row("assistant", "", { toolCalls: [call] }),
    row("tool", `contents of file ${i} `.repeat(20), {
      toolCallId: `t${i}`,
      meta: { callId: call.id, toolName: "read" },
    }),
  ];
}
function conversation(turns: number): Message[] {
  seq = 0;
  return [
    row("system", "Agent."),
    row("user", "Fix the bug."),
    ...Array.from({ length: turns }, (_, i) => turn(i)).flat(),
  ];
}

describe("the prompt's context", () => {
  it("a conversation that fits is the whole episode, in order", () => {
    const rows = conversation(2);
    const built = buildPrompt({ rows, renderer, tools: [], budget: 10_000 });
    expect(built.layout).toEqual({ seqs: rows.map((r) => r.seq), elided: 0, markerAfter: null });
    expect(built.tokens).toEqual(
      renderer.renderPrompt(messagesForLayout(rows, built.layout), [], { addGenerationPrompt: true }).tokens,
    );
  });

  it("over budget, the oldest turns go whole, the system prompt and task stay, and a marker says how many went", () => {
    const rows = conversation(6);
    const all = buildPrompt({ rows, renderer, tools: [], budget: 100_000 }).tokens.length;
    const built = buildPrompt({ rows, renderer, tools: [], budget: Math.floor(all * 0.6) });
    expect(built.tokens.length).toBeLessThanOrEqual(Math.floor(all * 0.6));
    expect(built.layout.elided % 2).toBe(0); // a call and its result leave together
    expect(built.layout.elided).toBeGreaterThan(0);
    expect(built.layout.seqs.slice(0, 2)).toEqual([0, 1]);
    expect(built.layout.seqs.slice(2)).toEqual(rows.slice(2 + built.layout.elided).map((r) => r.seq));
    expect(built.messages[2]).toEqual({ role: "user", content: elisionMarker(built.layout.elided) });
    // The stored layout rebuilds exactly the sampled tokens (what a training step scores).
    expect(
      renderer.renderPrompt(messagesForLayout(rows, built.layout), [], { addGenerationPrompt: true }).tokens,
    ).toEqual(built.tokens);
  });

  it("a new episode after /c leaves the earlier one out, and excluded replies never enter", () => {
    const rows = conversation(1);
    const broken = row("assistant", "<tool_call>{oops", {
      meta: { excluded: true, parseError: { reason: "invalid_json", detail: "unexpected end" } },
    });
    const next = [...rows, broken, row("system", "Agent."), row("user", "New task.")];
    const built = buildPrompt({ rows: next, renderer, tools: [], budget: 10_000 });
    expect(built.messages).toEqual([
      { role: "system", content: "Agent." },
      { role: "user", content: "New task." },
    ]);
  });

  it("a prompt that cannot fit even with every turn left out is an error, not a silent cut", () => {
    expect(() => buildPrompt({ rows: conversation(1), renderer, tools: [], budget: 5 })).toThrow(
      /even with every earlier turn left out/,
    );
  });

  it("long tool output keeps its head and tail around a marker", () => {
    const text = `HEAD${"x".repeat(50_000)}TAIL`;
    const clipped = clipToolOutput(text, 2_000);
    expect(clipped.length).toBeLessThan(2_200);
    expect(clipped.startsWith("HEAD")).toBe(true);
    expect(clipped.endsWith("TAIL")).toBe(true);
    expect(clipped).toContain("truncated");
    expect(clipToolOutput("short", 2_000)).toBe("short");
  });
});
