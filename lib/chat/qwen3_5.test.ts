// The Qwen3.5 vocabulary is not bundled, so these tests drive the format with the Qwen3 tokenizer:
// both vocabularies have the same special-token strings, so the layout (checked as decoded text
// and as the positions of special ids) is the same; only the id numbers differ.
import { beforeAll, describe, expect, it } from "vitest";
import { createQwen3_5Renderer, parseQwen3_5ToolCallBody } from "./qwen3_5";
import { loadQwen3Tokenizer, type Tokenizer } from "./tokenizer";
import type { Message, Renderer, ToolSpec } from "./types";

const IM_END = 151645;
const SPECIALS = ["<tool_call>", "</tool_call>", "<think>", "</think>"];
const ids = { newToolCallId: (i: number) => `call_${i}` };

const EDIT: ToolSpec = {
  name: "edit_lines",
  description: "Replace lines",
  parameters: {
    type: "object",
    properties: {
      path: { type: "string" },
      start_line: { type: "integer" },
      end_line: { type: "integer" },
      content: { type: "string" },
    },
    required: ["path", "start_line", "end_line", "content"],
  },
};

let tok: Tokenizer;
let r: Renderer;

beforeAll(async () => {
  tok = await loadQwen3Tokenizer();
  r = createQwen3_5Renderer(tok);
});

function sampled(text: string): number[] {
  return [...tok.encodeWithSpecials(text, SPECIALS), IM_END];
}

describe("rendering Qwen3.5 prompts", () => {
  it("a user message gets a generation prompt with an empty think block", () => {
    const prompt = r.renderPrompt([{ role: "user", content: "  Hello \n" }], [], { addGenerationPrompt: true });
    expect(tok.decode(prompt.tokens)).toBe(
      "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
    );
    // <|im_start|> assistant \n <think> \n\n </think> \n\n
    expect(prompt.tokens.slice(-7)).toEqual([151644, 77091, 198, 151667, 271, 151668, 271]);
  });

  it("the tools block comes first in the system turn, then the system prompt", () => {
    const prompt = r.renderPrompt(
      [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hi" },
      ],
      [EDIT],
      { addGenerationPrompt: false },
    );
    const text = tok.decode(prompt.tokens);
    expect(
      text.startsWith(
        "<|im_start|>system\n# Tools\n\nYou have access to the following functions:\n\n<tools>\n" +
          '{"name": "edit_lines", "description": "Replace lines", "parameters": {"type": "object", "properties": ' +
          '{"path": {"type": "string"}, "start_line": {"type": "integer"}, "end_line": {"type": "integer"}, ' +
          '"content": {"type": "string"}}, "required": ["path", "start_line", "end_line", "content"]}}\n</tools>\n\n' +
          "If you choose to call a function ONLY reply in the following format with NO suffix:\n\n<tool_call>\n",
      ),
    ).toBe(true);
    expect(text.endsWith("</IMPORTANT>\n\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>")).toBe(true);
  });

  it("an assistant tool call is written as XML after the prose, weighted with its <|im_end|>", () => {
    const message: Message = {
      role: "assistant",
      content: "Fixing line 3.",
      toolCalls: [
        { id: "a", name: "edit_lines", arguments: { path: "a.py", start_line: 3, end_line: 3, content: "x = 1\n" } },
        { id: "b", name: "bash", arguments: { cmd: "pytest", env: { CI: "1" } } },
      ],
    };
    const { tokens, weights } = r.renderPrompt([{ role: "user", content: "fix" }, message], [], {
      addGenerationPrompt: false,
    });
    expect(tok.decode(tokens)).toBe(
      "<|im_start|>user\nfix<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n" +
        "Fixing line 3.\n\n<tool_call>\n<function=edit_lines>\n<parameter=path>\na.py\n</parameter>\n" +
        "<parameter=start_line>\n3\n</parameter>\n<parameter=end_line>\n3\n</parameter>\n" +
        "<parameter=content>\nx = 1\n\n</parameter>\n</function>\n</tool_call>\n" +
        '<tool_call>\n<function=bash>\n<parameter=cmd>\npytest\n</parameter>\n<parameter=env>\n{"CI": "1"}\n</parameter>\n' +
        "</function>\n</tool_call><|im_end|>",
    );
    const weighted = tokens.filter((_, i) => weights[i] === 1);
    expect(tok.decode(weighted).startsWith("Fixing line 3.\n\n<tool_call>")).toBe(true);
    expect(weighted.at(-1)).toBe(IM_END);
    expect(weighted).not.toContain(151668); // the think block belongs to the header
  });

  it("tool results are trimmed and grouped into one user turn", () => {
    const prompt = r.renderPrompt(
      [
        { role: "tool", toolCallId: "a", name: "read", content: "R1\n" },
        { role: "tool", toolCallId: "b", name: "read", content: "R2" },
      ],
      [],
      { addGenerationPrompt: false },
    );
    expect(tok.decode(prompt.tokens)).toBe(
      "<|im_start|>user\n<tool_response>\nR1\n</tool_response>\n<tool_response>\nR2\n</tool_response><|im_end|>",
    );
  });
});

describe("parsing Qwen3.5 completions", () => {
  it("an XML tool call parses, with values typed by the tool's schema", () => {
    const text =
      "I'll edit.\n\n<tool_call>\n<function=edit_lines>\n<parameter=path>\n123\n</parameter>\n" +
      "<parameter=start_line>\n3\n</parameter>\n<parameter=end_line>\n4\n</parameter>\n" +
      "<parameter=content>\n  indented\n\n</parameter>\n</function>\n</tool_call>";
    expect(r.parseCompletion(sampled(text), "stop", { ...ids, tools: [EDIT] })).toEqual({
      kind: "message",
      message: {
        role: "assistant",
        content: "I'll edit.",
        toolCalls: [
          {
            id: "call_0",
            name: "edit_lines",
            arguments: { path: "123", start_line: 3, end_line: 4, content: "  indented\n" },
          },
        ],
      },
      text,
    });
  });

  it("without a schema, values that are JSON parse as JSON and the rest stay strings", () => {
    expect(
      parseQwen3_5ToolCallBody(
        '\n<function=f>\n<parameter=n>\n7\n</parameter>\n<parameter=o>\n{"a": [1]}\n</parameter>\n<parameter=s>\nhello world\n</parameter>\n</function>\n',
      ),
    ).toEqual({ ok: true, name: "f", arguments: { n: 7, o: { a: [1] }, s: "hello world" } });
  });

  it("a </tool_call> inside a parameter value does not cut the call short", () => {
    const text =
      "<tool_call>\n<function=write>\n<parameter=content>\nsee </tool_call> here\n</parameter>\n</function>\n</tool_call>";
    const parsed = r.parseCompletion(sampled(text), "stop", ids);
    expect(parsed.kind === "message" && parsed.message.toolCalls).toEqual([
      { id: "call_0", name: "write", arguments: { content: "see </tool_call> here" } },
    ]);
  });

  it("several calls are returned in order", () => {
    const text =
      "<tool_call>\n<function=read>\n<parameter=path>\na\n</parameter>\n</function>\n</tool_call>\n" +
      "<tool_call>\n<function=read>\n<parameter=path>\nb\n</parameter>\n</function>\n</tool_call>";
    const parsed = r.parseCompletion(sampled(text), "stop", ids);
    expect(parsed.kind === "message" && parsed.message).toEqual({
      role: "assistant",
      content: "",
      toolCalls: [
        { id: "call_0", name: "read", arguments: { path: "a" } },
        { id: "call_1", name: "read", arguments: { path: "b" } },
      ],
    });
  });

  it("malformed XML, an unclosed call and a cut-off reply are parse errors that keep the text", () => {
    const noFunction = '<tool_call>\n{"name": "read"}\n</tool_call>';
    expect(r.parseCompletion(sampled(noFunction), "stop")).toEqual({
      kind: "parse_error",
      reason: "invalid_tool_call",
      detail: "tool call 1: expected <function=NAME>…</function>",
      text: noFunction,
    });
    const stray = "<tool_call>\n<function=read>\npath=a\n</function>\n</tool_call>";
    const strayParsed = r.parseCompletion(sampled(stray), "stop");
    expect(strayParsed.kind === "parse_error" && [strayParsed.reason, strayParsed.detail]).toEqual([
      "invalid_tool_call",
      "tool call 1: unexpected text in <function=read>: path=a",
    ]);
    const unclosed = "<tool_call>\n<function=read>\n";
    expect(r.parseCompletion(sampled(unclosed), "stop")).toMatchObject({
      kind: "parse_error",
      reason: "unclosed_tool_call",
      text: unclosed,
    });
    expect(r.parseCompletion(tok.encode("partial"), "length")).toMatchObject({
      kind: "parse_error",
      reason: "truncated",
      text: "partial",
    });
  });
});

describe("Qwen3.5 render and parse agree", () => {
  it("an assistant message rendered and parsed back is the same message", () => {
    const message: Message = {
      role: "assistant",
      content: "Running the tests.",
      toolCalls: [
        {
          id: "call_0",
          name: "edit_lines",
          arguments: { path: "a.py", start_line: 1, end_line: 2, content: "a\n\tb\n" },
        },
        { id: "call_1", name: "bash", arguments: { cmd: "pytest -q" } },
      ],
    };
    const { tokens, weights } = r.renderPrompt([message], [], { addGenerationPrompt: false });
    const parsed = r.parseCompletion(
      tokens.filter((_, i) => weights[i] === 1),
      "stop",
      { ...ids, tools: [EDIT] },
    );
    expect(parsed.kind === "message" && parsed.message).toEqual(message);
  });

  it("history plus the sampled completion is a token prefix of the next prompt", () => {
    const history: Message[] = [
      { role: "system", content: "You are a coding agent." },
      { role: "user", content: "fix a.py" },
    ];
    const prompt = r.renderPrompt(history, [EDIT], { addGenerationPrompt: true }).tokens;
    const completion = sampled(
      "<tool_call>\n<function=read>\n<parameter=path>\na.py\n</parameter>\n</function>\n</tool_call>",
    );
    const parsed = r.parseCompletion(completion, "stop", ids);
    if (parsed.kind !== "message") throw new Error("expected a message");
    const next = r.renderPrompt(
      [
        ...history,
        parsed.message,
        { role: "tool", toolCallId: "call_0", name: "read", content: "x = 1" },
        { role: "user", content: "and?" },
      ],
      [EDIT],
      { addGenerationPrompt: true },
    ).tokens;
    expect(next.slice(0, prompt.length + completion.length)).toEqual([...prompt, ...completion]);
  });
});
