import { describe, expect, it } from "vitest";
import { once } from "node:events";
import { startTsWorker } from "@/lib/worker-threads";
import { loadQwen3Tokenizer, splitOnSpecials } from "./tokenizer";

const SPECIAL_IDS: Record<string, number> = {
  "<|endoftext|>": 151643,
  "<|im_start|>": 151644,
  "<|im_end|>": 151645,
  "<tool_call>": 151657,
  "</tool_call>": 151658,
  "<tool_response>": 151665,
  "</tool_response>": 151666,
  "<think>": 151667,
  "</think>": 151668,
};

describe("the Qwen3 tokenizer", () => {
  it("decodes an empty list to an empty string (a reply of only <|im_end|>)", async () => {
    const tok = await loadQwen3Tokenizer();
    expect(tok.decode([])).toBe("");
  });

  it("maps each special token to its single id and decodes it back", async () => {
    const tok = await loadQwen3Tokenizer();
    for (const [special, id] of Object.entries(SPECIAL_IDS)) {
      expect(tok.idOf(special)).toBe(id);
      expect(tok.decode([id])).toBe(special);
      expect(tok.encodeWithSpecials(special, [special])).toEqual([id]);
    }
  });

  it("encodes special-token strings inside plain text as text, never as their ids", async () => {
    const tok = await loadQwen3Tokenizer();
    const ids = tok.encode("<|im_start|>user\nhi<|im_end|>");
    expect(ids.some((id) => id >= 151643)).toBe(false);
    // "<", "|", "im", "_start", "|", ">" … as the byte-level BPE pieces.
    expect(ids).toEqual([27, 91, 318, 4906, 91, 29, 872, 198, 6023, 27, 91, 318, 6213, 91, 29]);
    expect(tok.decode(ids)).toBe("<|im_start|>user\nhi<|im_end|>");
  });

  it("adds no BOS or EOS and encodes well-known words to their Qwen ids", async () => {
    const tok = await loadQwen3Tokenizer();
    expect(tok.encode("")).toEqual([]);
    expect(tok.encode("hello")).toEqual([14990]);
    expect(tok.encode("user")).toEqual([872]);
    expect(tok.encode("assistant")).toEqual([77091]);
    expect(tok.encode("system")).toEqual([8948]);
    expect(tok.encode("\n")).toEqual([198]);
    // Qwen splits digits one by one, the space before a digit standing alone.
    expect(tok.encode("What is 2+2?")).toEqual([3838, 374, 220, 17, 10, 17, 30]);
  });

  it("round-trips code, unicode and whitespace through encode and decode", async () => {
    const tok = await loadQwen3Tokenizer();
    for (const text of [
      "def f(x):\n\treturn x  # 你好, ümlaut — ok\n\n\n",
      "   leading and trailing   ",
      "emoji 🦀 and \u00e9 (NFC) and </tool_call> as text",
    ]) {
      expect(tok.decode(tok.encode(text))).toBe(text);
    }
  });

  it("encodes specials as ids only where asked", async () => {
    const tok = await loadQwen3Tokenizer();
    expect(tok.encodeWithSpecials("a<tool_call>b<|im_end|>", ["<tool_call>"])).toEqual([
      ...tok.encode("a"),
      151657,
      ...tok.encode("b<|im_end|>"),
    ]);
    expect(() => tok.idOf("<|not_a_token|>")).toThrow(/no special token/);
  });

  it("is loaded once and shared", async () => {
    expect(await loadQwen3Tokenizer()).toBe(await loadQwen3Tokenizer());
  });

  it("works inside a worker thread", async () => {
    const worker = startTsWorker("lib/chat/tokenizer.worker-fixture.ts", { text: "<|im_end|> hello" });
    const [reply] = (await once(worker, "message")) as [{ ids: number[]; imEnd: number }];
    await worker.terminate();
    const tok = await loadQwen3Tokenizer();
    expect(reply).toEqual({ ids: tok.encode("<|im_end|> hello"), imEnd: 151645 });
  });
});

describe("splitOnSpecials", () => {
  it("keeps the text between specials and marks the specials", () => {
    expect(splitOnSpecials("x<a>y<b><a>", ["<a>", "<b>"])).toEqual([
      { text: "x", special: false },
      { text: "<a>", special: true },
      { text: "y", special: false },
      { text: "<b>", special: true },
      { text: "<a>", special: true },
    ]);
    expect(splitOnSpecials("", ["<a>"])).toEqual([]);
    expect(splitOnSpecials("plain", [])).toEqual([{ text: "plain", special: false }]);
  });
});
