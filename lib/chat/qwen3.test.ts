import { beforeAll, describe, expect, it } from "vitest";
import { createQwen3Renderer } from "./qwen3";
import { loadQwen3Tokenizer, type Tokenizer } from "./tokenizer";
import type { Message, Renderer, ToolSpec } from "./types";

const IM_START = 151644;
const IM_END = 151645;
const TOOL_CALL = 151657;
const TOOL_CALL_END = 151658;
const TOOL_RESPONSE = 151665;
const TOOL_RESPONSE_END = 151666;
const NL = 198;
const SYSTEM = 8948;
const USER = 872;
const ASSISTANT = 77091;

const READ: ToolSpec = {
  name: "read",
  description: "Read a file",
  parameters: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
};

let tok: Tokenizer;
let r: Renderer;
const ids = { newToolCallId: (i: number) => `call_${i}` };

beforeAll(async () => {
  tok = await loadQwen3Tokenizer();
  r = createQwen3Renderer(tok);
});

/** The tokens of a sampled reply: what the model emits for `text` followed by `<|im_end|>`. */
function sampled(text: string): number[] {
  return [...tok.encodeWithSpecials(text, ["<tool_call>", "</tool_call>"]), IM_END];
}

describe("rendering Qwen3 prompts", () => {
  it("a system and user message with a generation prompt render to exact ids", () => {
    const prompt = r.renderPrompt(
      [
        { role: "system", content: "You are a coding agent." },
        { role: "user", content: "Hello" },
      ],
      [],
      { addGenerationPrompt: true },
    );
    // "You are a coding agent." = You·are·a·coding·agent·.  and  "Hello" = 9707.
    expect(prompt.tokens).toEqual([
      IM_START,
      SYSTEM,
      NL,
      2610,
      525,
      264,
      10822,
      8315,
      13,
      IM_END,
      NL,
      IM_START,
      USER,
      NL,
      9707,
      IM_END,
      NL,
      IM_START,
      ASSISTANT,
      NL,
    ]);
    expect(prompt.weights).toEqual(new Array(prompt.tokens.length).fill(0));
  });

  it("a text-only assistant answer is weighted on its content and closing <|im_end|> only", () => {
    const prompt = r.renderPrompt(
      [
        { role: "user", content: "What is 2+2?" },
        { role: "assistant", content: "4" },
      ],
      [],
      { addGenerationPrompt: false },
    );
    expect(prompt.tokens).toEqual([
      IM_START,
      USER,
      NL,
      3838,
      374,
      220,
      17,
      10,
      17,
      30,
      IM_END,
      NL,
      IM_START,
      ASSISTANT,
      NL,
      19,
      IM_END,
    ]);
    expect(prompt.weights).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
  });

  it("tools block, assistant tool call, tool result and generation prompt render to exact ids", () => {
    const prompt = r.renderPrompt(
      [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Show a.txt" },
        {
          role: "assistant",
          content: "Reading it.",
          toolCalls: [{ id: "c1", name: "read", arguments: { path: "a.txt" } }],
        },
        { role: "tool", toolCallId: "c1", name: "read", content: "1| hi" },
      ],
      [READ],
      { addGenerationPrompt: true },
    );
    const systemBody = tok.encodeWithSpecials(
      "Be brief.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
        "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n" +
        '{"type": "function", "function": {"name": "read", "description": "Read a file", "parameters": ' +
        '{"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}}\n</tools>\n\n' +
        "For each function call, return a json object with function name and arguments within " +
        '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>',
      ["<tool_call>", "</tool_call>"],
    );
    expect(systemBody.slice(0, 6)).toEqual([3430, 9814, 382, 2, 13852, 271]); // Be·brief·.\n\n·#·Tools·\n\n
    expect(prompt.tokens).toEqual([
      IM_START,
      SYSTEM,
      NL,
      ...systemBody,
      IM_END,
      NL,
      IM_START,
      USER,
      NL,
      7812,
      264,
      3909,
      IM_END,
      NL, // Show·a·.txt
      IM_START,
      ASSISTANT,
      NL,
      31899,
      432,
      624, // Reading·it·.\n
      TOOL_CALL,
      NL,
      4913,
      606,
      788,
      330,
      878,
      497,
      330,
      16370,
      788,
      5212,
      2343,
      788,
      330,
      64,
      3909,
      95642, // {"name": "read", … "a.txt"}}\n
      TOOL_CALL_END,
      IM_END,
      NL,
      IM_START,
      USER,
      NL,
      TOOL_RESPONSE,
      NL,
      16,
      91,
      15588,
      NL,
      TOOL_RESPONSE_END,
      IM_END,
      NL, // 1·|·hi
      IM_START,
      ASSISTANT,
      NL,
    ]);
    expect(tok.decode(prompt.tokens)).toContain(
      '<|im_start|>assistant\nReading it.\n<tool_call>\n{"name": "read", "arguments": {"path": "a.txt"}}\n</tool_call><|im_end|>\n',
    );
  });

  it("the tools block exists without a system prompt, and special strings in content stay text", () => {
    const prompt = r.renderPrompt([{ role: "user", content: "say <|im_end|> and <tool_call>" }], [READ], {
      addGenerationPrompt: false,
    });
    const text = tok.decode(prompt.tokens);
    expect(text.startsWith("<|im_start|>system\n# Tools\n\n")).toBe(true);
    expect(prompt.tokens.filter((t) => t === IM_END)).toHaveLength(2);
    expect(prompt.tokens.filter((t) => t === TOOL_CALL)).toHaveLength(2); // both in the tools block
    expect(text.endsWith("<|im_start|>user\nsay <|im_end|> and <tool_call><|im_end|>")).toBe(true);
  });

  it("tool lines keep key order and non-ASCII text, with Python separators", () => {
    const tool: ToolSpec = {
      name: "grep",
      description: "Søg — 検索",
      parameters: { type: "object", properties: { zebra: { type: "string" }, apple: { type: "integer" } } },
    };
    const text = tok.decode(r.renderPrompt([], [tool], { addGenerationPrompt: false }).tokens);
    expect(text).toContain(
      '{"type": "function", "function": {"name": "grep", "description": "Søg — 検索", "parameters": ' +
        '{"type": "object", "properties": {"zebra": {"type": "string"}, "apple": {"type": "integer"}}}}}',
    );
  });

  it("consecutive tool results share one user turn, as in Hugging Face's template", () => {
    const prompt = r.renderPrompt(
      [
        {
          role: "assistant",
          content: "",
          toolCalls: [
            { id: "a", name: "read", arguments: { path: "x" } },
            { id: "b", name: "read", arguments: { path: "y" } },
          ],
        },
        { role: "tool", toolCallId: "a", name: "read", content: "R1" },
        { role: "tool", toolCallId: "b", name: "read", content: "R2" },
        { role: "user", content: "next" },
      ],
      [],
      { addGenerationPrompt: false },
    );
    expect(tok.decode(prompt.tokens)).toBe(
      "<|im_start|>assistant\n<tool_call>\n" +
        '{"name": "read", "arguments": {"path": "x"}}\n</tool_call>\n<tool_call>\n' +
        '{"name": "read", "arguments": {"path": "y"}}\n</tool_call><|im_end|>\n' +
        "<|im_start|>user\n<tool_response>\nR1\n</tool_response>\n<tool_response>\nR2\n</tool_response><|im_end|>\n" +
        "<|im_start|>user\nnext<|im_end|>",
    );
  });

  it("the weights mask covers exactly each assistant turn's content and <|im_end|>", () => {
    const messages: Message[] = [
      { role: "user", content: "hi" },
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "read a" },
      { role: "assistant", content: "", toolCalls: [{ id: "x", name: "read", arguments: { path: "a" } }] },
      { role: "tool", toolCallId: "x", name: "read", content: "ok" },
    ];
    const { tokens, weights } = r.renderPrompt(messages, [READ], { addGenerationPrompt: true });
    expect(weights).toHaveLength(tokens.length);
    const weighted = tokens.filter((_, i) => weights[i] === 1);
    expect(weighted).toEqual([
      ...tok.encode("Hello!"),
      IM_END,
      TOOL_CALL,
      ...tok.encode('\n{"name": "read", "arguments": {"path": "a"}}\n'),
      TOOL_CALL_END,
      IM_END,
    ]);
    // Every weighted run starts right after "<|im_start|>assistant\n".
    for (let i = 1; i < tokens.length; i++) {
      if (weights[i] === 1 && weights[i - 1] === 0) expect(tokens.slice(i - 3, i)).toEqual([IM_START, ASSISTANT, NL]);
    }
  });
});

describe("parsing Qwen3 completions", () => {
  it("a plain answer becomes a text message", () => {
    expect(r.parseCompletion(sampled("The answer is 4."), "stop", ids)).toEqual({
      kind: "message",
      message: { role: "assistant", content: "The answer is 4." },
      text: "The answer is 4.",
    });
  });

  it("a tool call with nested JSON arguments parses into name and arguments", () => {
    const text =
      'Let me write it.\n<tool_call>\n{"name": "write", "arguments": {"path": "a.json", "content": "{\\"k\\": [1, {\\"z\\": null}]}", "opts": {"mode": [1, 2], "deep": {"x": true}}}}\n</tool_call>';
    expect(r.parseCompletion(sampled(text), "stop", ids)).toEqual({
      kind: "message",
      message: {
        role: "assistant",
        content: "Let me write it.",
        toolCalls: [
          {
            id: "call_0",
            name: "write",
            arguments: {
              path: "a.json",
              content: '{"k": [1, {"z": null}]}',
              opts: { mode: [1, 2], deep: { x: true } },
            },
          },
        ],
      },
      text,
    });
  });

  it("a </tool_call> inside a JSON string value does not cut the call short", () => {
    const text =
      '<tool_call>\n{"name": "write", "arguments": {"path": "t.md", "content": "end with </tool_call> here"}}\n</tool_call>';
    const parsed = r.parseCompletion(sampled(text), "stop", ids);
    expect(parsed).toEqual({
      kind: "message",
      message: {
        role: "assistant",
        content: "",
        toolCalls: [
          { id: "call_0", name: "write", arguments: { path: "t.md", content: "end with </tool_call> here" } },
        ],
      },
      text,
    });
  });

  it("several tool calls in one message are all returned, in order", () => {
    const text =
      '<tool_call>\n{"name": "read", "arguments": {"path": "a"}}\n</tool_call>\n<tool_call>\n{"name": "read", "arguments": {"path": "b"}}\n</tool_call>';
    const parsed = r.parseCompletion(sampled(text), "stop", ids);
    expect(parsed.kind === "message" && parsed.message.toolCalls).toEqual([
      { id: "call_0", name: "read", arguments: { path: "a" } },
      { id: "call_1", name: "read", arguments: { path: "b" } },
    ]);
  });

  it("tool call ids are fresh and distinct when none are supplied", () => {
    const text =
      '<tool_call>\n{"name": "a", "arguments": {}}\n</tool_call>\n<tool_call>\n{"name": "b", "arguments": {}}\n</tool_call>';
    const parsed = r.parseCompletion(sampled(text), "stop");
    if (parsed.kind !== "message") throw new Error("expected a message");
    const [first, second] = parsed.message.toolCalls ?? [];
    expect(first.id).toMatch(/^call_[0-9a-f]{12}$/);
    expect(second.id).not.toBe(first.id);
  });

  it("a reply cut off by the token limit is a truncated parse error that keeps the text", () => {
    const tokens = tok.encodeWithSpecials('<tool_call>\n{"name": "read", "argu', ["<tool_call>"]);
    expect(r.parseCompletion(tokens, "length")).toEqual({
      kind: "parse_error",
      reason: "truncated",
      detail: `the reply hit the token limit after ${tokens.length} tokens without ending its turn`,
      text: '<tool_call>\n{"name": "read", "argu',
    });
  });

  it("an unclosed <tool_call> is a parse error", () => {
    const parsed = r.parseCompletion(sampled('Sure.\n<tool_call>\n{"name": "read", "arguments": {}}'), "stop");
    expect(parsed).toEqual({
      kind: "parse_error",
      reason: "unclosed_tool_call",
      detail: "tool call 1 opens with <tool_call> but never closes",
      text: 'Sure.\n<tool_call>\n{"name": "read", "arguments": {}}',
    });
  });

  it("a reply ending in </tool_call> without its opening tag is a parse error, not an answer", () => {
    const text =
      'Created stats.py.\n{"name": "write", "arguments": {"path": "stats.py", "content": "x"}}\n</tool_call>';
    expect(r.parseCompletion(sampled(text), "stop", ids)).toEqual({
      kind: "parse_error",
      reason: "unopened_tool_call",
      detail: "a </tool_call> closes a tool call that never opened with <tool_call>",
      text,
    });
  });

  it("a stray </tool_call> after a whole call is a parse error too", () => {
    const text = '<tool_call>\n{"name": "read", "arguments": {"path": "a"}}\n</tool_call>\n</tool_call>';
    expect(r.parseCompletion(sampled(text), "stop", ids)).toMatchObject({
      kind: "parse_error",
      reason: "unopened_tool_call",
      text,
    });
  });

  it("invalid JSON inside a tool call is a parse error naming the call", () => {
    const parsed = r.parseCompletion(sampled("<tool_call>\n{name: read}\n</tool_call>"), "stop");
    expect(parsed.kind).toBe("parse_error");
    if (parsed.kind !== "parse_error") return;
    expect(parsed.reason).toBe("invalid_json");
    expect(parsed.detail).toMatch(/^tool call 1: not valid JSON/);
    expect(parsed.text).toBe("<tool_call>\n{name: read}\n</tool_call>");
  });

  it("JSON of the wrong shape is an invalid_tool_call error", () => {
    const cases: Array<[string, string]> = [
      ['["read"]', "tool call 1: the JSON is not an object"],
      ['{"arguments": {}}', 'tool call 1: no "name" string'],
      ['{"name": "read", "arguments": [1]}', 'tool call 1: "arguments" is not an object'],
    ];
    for (const [body, detail] of cases) {
      const text = `<tool_call>\n${body}\n</tool_call>`;
      expect(r.parseCompletion(sampled(text), "stop")).toEqual({
        kind: "parse_error",
        reason: "invalid_tool_call",
        detail,
        text,
      });
    }
  });

  it("arguments sent as a JSON string, or left out, are accepted", () => {
    const text =
      '<tool_call>\n{"name": "bash", "arguments": "{\\"cmd\\": \\"ls\\"}"}\n</tool_call>\n<tool_call>\n{"name": "glob"}\n</tool_call>';
    const parsed = r.parseCompletion(sampled(text), "stop", ids);
    expect(parsed.kind === "message" && parsed.message.toolCalls).toEqual([
      { id: "call_0", name: "bash", arguments: { cmd: "ls" } },
      { id: "call_1", name: "glob", arguments: {} },
    ]);
  });

  it("a completion whose sampler dropped the stop token still parses when it stopped", () => {
    const parsed = r.parseCompletion(tok.encode("done"), "stop");
    expect(parsed).toEqual({ kind: "message", message: { role: "assistant", content: "done" }, text: "done" });
  });

  it("a hybrid model's think block stays in the content and re-renders as the single think ids", () => {
    const completion = [
      ...tok.encodeWithSpecials("<think>\nshort\n</think>\n\nIt is 4.", ["<think>", "</think>"]),
      IM_END,
    ];
    const parsed = r.parseCompletion(completion, "stop", ids);
    expect(parsed).toEqual({
      kind: "message",
      message: { role: "assistant", content: "<think>\nshort\n</think>\n\nIt is 4." },
      text: "<think>\nshort\n</think>\n\nIt is 4.",
    });
    if (parsed.kind !== "message") return;
    const { tokens, weights } = r.renderPrompt([parsed.message], [], { addGenerationPrompt: false });
    expect(tokens.filter((_, i) => weights[i] === 1)).toEqual(completion);
    expect(completion[0]).toBe(151667);
  });

  it("prose after a tool call is kept in the content", () => {
    const text = 'Reading.\n<tool_call>\n{"name": "read", "arguments": {"path": "a"}}\n</tool_call>\nThen I will edit.';
    const parsed = r.parseCompletion(sampled(text), "stop", ids);
    expect(parsed.kind === "message" && parsed.message.content).toBe("Reading.\nThen I will edit.");
  });
});

describe("Qwen3 render and parse agree", () => {
  const assistants: Message[] = [
    { role: "assistant", content: "Plain text answer.\n\nWith a blank line." },
    { role: "assistant", content: "", toolCalls: [{ id: "call_0", name: "read", arguments: { path: "src/a.ts" } }] },
    {
      role: "assistant",
      content: "I'll fix it.",
      toolCalls: [
        {
          id: "call_0",
          name: "edit_lines",
          arguments: { path: "a.py", start_line: 3, end_line: 4, content: 'x = 1\n\ty = "ü"\n' },
        },
        { id: "call_1", name: "bash", arguments: { cmd: "python -m pytest -q" } },
      ],
    },
  ];

  it("an assistant message rendered and parsed back is the same message", () => {
    for (const message of assistants) {
      const { tokens, weights } = r.renderPrompt([message], [], { addGenerationPrompt: false });
      const completion = tokens.filter((_, i) => weights[i] === 1);
      const parsed = r.parseCompletion(completion, "stop", ids);
      expect(parsed.kind === "message" && parsed.message).toEqual(message);
    }
  });

  it("a reply starting with newlines keeps its own tokens, never merged with the header's newline", () => {
    const completion = sampled("\n\nDone.");
    expect(completion.slice(0, 1)).toEqual([271]); // "\n\n" as sampled
    const parsed = r.parseCompletion(completion, "stop", ids);
    if (parsed.kind !== "message") throw new Error("expected a message");
    const { tokens, weights } = r.renderPrompt([{ role: "user", content: "go" }, parsed.message], [], {
      addGenerationPrompt: false,
    });
    const header = r.renderPrompt([{ role: "user", content: "go" }], [], { addGenerationPrompt: true }).tokens;
    expect(tokens).toEqual([...header, ...completion]);
    expect(weights.filter((w) => w === 1)).toHaveLength(completion.length);
  });

  it("history plus the sampled completion is a token prefix of the next prompt", () => {
    const history: Message[] = [
      { role: "system", content: "You are a coding agent." },
      { role: "user", content: "Fix the failing test in a.py" },
    ];
    const prompt = r.renderPrompt(history, [READ], { addGenerationPrompt: true }).tokens;
    const completion = sampled(
      'Let me look.\n<tool_call>\n{"name": "read", "arguments": {"path": "a.py"}}\n</tool_call>',
    );
    const parsed = r.parseCompletion(completion, "stop", ids);
    if (parsed.kind !== "message") throw new Error("expected a message");
    const next = r.renderPrompt(
      [...history, parsed.message, { role: "tool", toolCallId: "call_0", name: "read", content: "1| assert f() == 2" }],
      [READ],
      { addGenerationPrompt: true },
    ).tokens;
    expect(next.slice(0, prompt.length + completion.length)).toEqual([...prompt, ...completion]);
    expect(next.length).toBeGreaterThan(prompt.length + completion.length);

    // And once more after a plain-text turn and a new user message.
    const answer = sampled("Fixed: f now returns 2.");
    const parsedAnswer = r.parseCompletion(answer, "stop", ids);
    if (parsedAnswer.kind !== "message") throw new Error("expected a message");
    const after = r.renderPrompt(
      [
        ...history,
        parsed.message,
        { role: "tool", toolCallId: "call_0", name: "read", content: "1| assert f() == 2" },
        parsedAnswer.message,
        { role: "user", content: "thanks" },
      ],
      [READ],
      { addGenerationPrompt: true },
    ).tokens;
    expect(after.slice(0, next.length + answer.length)).toEqual([...next, ...answer]);
  });
});
