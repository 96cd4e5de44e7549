import { describe, expect, it } from "vitest";
import { replyReserve, replyTokens } from "./reply-tokens";

describe("reply tokens", () => {
  it("auto lets a reply use whatever the context leaves after the prompt", () => {
    expect(replyTokens({ maxTokens: undefined, contextWindow: 4096, promptTokens: 1000 })).toBe(3096);
  });

  it("a set limit caps the reply even when the context has more room", () => {
    expect(replyTokens({ maxTokens: 512, contextWindow: 4096, promptTokens: 1000 })).toBe(512);
  });

  it("a limit larger than the context still asks only for what fits", () => {
    expect(replyTokens({ maxTokens: 100_000, contextWindow: 4096, promptTokens: 3000 })).toBe(1096);
  });

  it("the prompt is trimmed to leave the reply half the context, or the whole limit when smaller", () => {
    expect(replyReserve({ maxTokens: undefined, contextWindow: 4096 })).toBe(2048);
    expect(replyReserve({ maxTokens: 100_000, contextWindow: 4096 })).toBe(2048);
    expect(replyReserve({ maxTokens: 256, contextWindow: 4096 })).toBe(256);
  });

  it("a prompt that already fills the context leaves no reply rather than a negative one", () => {
    expect(replyTokens({ maxTokens: undefined, contextWindow: 2048, promptTokens: 2100 })).toBe(0);
  });
});
