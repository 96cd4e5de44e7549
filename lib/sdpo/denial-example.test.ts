import { describe, expect, it } from "vitest";
import { fitToWindow } from "./denial-example";
import type { DenialExample } from "./train-step";

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const example: DenialExample = {
  promptTokens: range(10),
  teacherPromptTokens: range(14),
  completionTokens: range(8, 100),
  samplingLogprobs: range(8).map((i) => -i / 10),
  hasSolution: false,
};

describe("fitToWindow", () => {
  it("keeps a denial that fits behind the teacher's prompt as it is", () => {
    expect(fitToWindow(example, 22)).toBe(example);
  });

  it("cuts a reply that no longer fits behind the teacher's longer prompt to its first tokens, log-probs alike", () => {
    const cut = fitToWindow(example, 20)!;
    expect(cut.completionTokens).toEqual(range(6, 100));
    expect(cut.samplingLogprobs).toEqual(example.samplingLogprobs.slice(0, 6));
    expect(cut.teacherPromptTokens).toBe(example.teacherPromptTokens);
    expect(cut.promptTokens.length + cut.completionTokens.length).toBeLessThanOrEqual(20);
  });

  it("gives nothing to train on when not one token fits", () => {
    expect(fitToWindow(example, 14)).toBeNull();
  });
});
