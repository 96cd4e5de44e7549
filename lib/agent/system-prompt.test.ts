import { describe, expect, it } from "vitest";
import { loadQwen3Tokenizer } from "@/lib/chat/tokenizer";
import { TOOL_NAMES } from "@/lib/tools/names";
import { buildSystemPrompt } from "./system-prompt";

describe("buildSystemPrompt", () => {
  it("is short: between 60 and 120 Qwen3 tokens", async () => {
    const tokenizer = await loadQwen3Tokenizer();
    const n = tokenizer.encode(buildSystemPrompt({ cwd: "/workspace" })).length;
    expect(n).toBeGreaterThanOrEqual(60);
    expect(n).toBeLessThanOrEqual(120);
  });

  it("names the working directory and every tool, and asks for one tool call per message", () => {
    const prompt = buildSystemPrompt({ cwd: "/home/ada/project" });
    expect(prompt).toContain("Working directory: /home/ada/project");
    for (const name of TOOL_NAMES) expect(prompt).toContain(name);
    expect(prompt).toMatch(/one tool call per message/);
  });
});
