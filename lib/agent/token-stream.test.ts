import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadQwen3Tokenizer, type Tokenizer } from "@/lib/chat";
import { IncrementalDecoder, TokenStream } from "./token-stream";

let tok: Tokenizer;
beforeAll(async () => {
  tok = await loadQwen3Tokenizer();
});

const decode = (ids: number[]) => tok.decode(ids);

describe("the incremental decoder", () => {
  it("hands out multi-byte characters whole, and its pieces join to the decoded text", () => {
    const text = "Déjà vu: 量子 🎉🧪 done";
    const ids = tok.encode(text);
    // The emoji spans byte tokens, so some prefix of the ids ends in half a character.
    expect(ids.some((_, i) => decode(ids.slice(0, i + 1)).endsWith("\uFFFD"))).toBe(true);
    const decoder = new IncrementalDecoder(decode);
    const pieces: string[] = [];
    for (const id of ids) {
      decoder.push([id]);
      pieces.push(decoder.take());
    }
    pieces.push(decoder.rest());
    expect(pieces.filter((p) => p.includes("\uFFFD"))).toEqual([]);
    expect(pieces.join("")).toBe(text);
  });

  it("stops at the first stop token, as the reply's text does", () => {
    const end = tok.idOf("<|im_end|>");
    const decoder = new IncrementalDecoder(decode, [end]);
    decoder.push([...tok.encode("Hi!"), end, ...tok.encode(" more")]);
    expect(decoder.take() + decoder.rest()).toBe("Hi!");
  });

  it("a character left unfinished when sampling ends is still handed out by rest", () => {
    const ids = tok.encode("🎉");
    const decoder = new IncrementalDecoder(decode);
    decoder.push(ids.slice(0, -1));
    expect(decoder.take()).toBe("");
    expect(decoder.rest()).toBe(decode(ids.slice(0, -1)));
  });
});

describe("the token stream", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function recorder() {
    const published: string[] = [];
    return { published, publish: async (delta: string) => void published.push(delta) };
  }

  it("publishes the first delta at once, then at most one per interval, and the rest on end", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const { published, publish } = recorder();
    const stream = new TokenStream({ decode, publish, intervalMs: 50 });
    const [a, b, c, d] = ["one", " two", " three", " four"].map((w) => tok.encode(w));
    stream.onTokens(a!);
    await vi.advanceTimersByTimeAsync(0);
    expect(published).toEqual(["one"]);
    stream.onTokens(b!);
    stream.onTokens(c!);
    await vi.advanceTimersByTimeAsync(49);
    expect(published).toEqual(["one"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(published).toEqual(["one", " two three"]);
    stream.onTokens(d!);
    await stream.end();
    expect(published).toEqual(["one", " two three", " four"]);
  });

  it("publishes one delta after another, never two at once, and nothing after end", async () => {
    const started: string[] = [];
    let running = 0;
    let overlapped = false;
    const publish = async (delta: string) => {
      started.push(delta);
      overlapped ||= running > 0;
      running++;
      await new Promise((r) => setTimeout(r, 20));
      running--;
    };
    const stream = new TokenStream({ decode, publish, intervalMs: 1 });
    for (const w of ["a", " b", " c", " d"]) {
      stream.onTokens(tok.encode(w));
      await new Promise((r) => setTimeout(r, 5));
    }
    await stream.end();
    stream.onTokens(tok.encode(" late"));
    await new Promise((r) => setTimeout(r, 30));
    expect(overlapped).toBe(false);
    expect(started.join("")).toBe("a b c d");
  });

  it("a delta that fails to publish is reported and the later ones still go out", async () => {
    const published: string[] = [];
    const errors: unknown[] = [];
    const publish = async (delta: string) => {
      if (delta === "first") throw new Error("database busy");
      published.push(delta);
    };
    const stream = new TokenStream({ decode, publish, intervalMs: 1_000, onError: (e) => errors.push(e) });
    stream.onTokens(tok.encode("first"));
    stream.onTokens(tok.encode(" second"));
    await stream.end();
    expect(published).toEqual([" second"]);
    expect(errors).toEqual([new Error("database busy")]);
  });
});
