import { describe, expect, it } from "vitest";
import type { Message } from "@/lib/chat/types";
import { DEFAULT_TEMPLATES } from "./config";
import { buildReprompt, buildTeacherMessages } from "./teacher";

const options = {
  templates: DEFAULT_TEMPLATES,
  maxRepromptChars: 10_240,
  removeThinkingFromDemonstration: false,
  includeEnvironmentFeedback: true,
};
const prompt: Message[] = [
  { role: "system", content: "You are a coding agent." },
  { role: "user", content: "Fix the failing test" },
  { role: "user", content: "Retry: output exactly ONE tool call." },
];

describe("the teacher context", () => {
  it("is the student's prompt plus one user message with the original task, solution, correction, tool output and instruction", () => {
    const messages = buildTeacherMessages(
      {
        promptMessages: prompt,
        task: "Fix the failing test",
        feedback: "read the file first",
        solution: 'read({"path":"a.ts"})',
        environmentFeedback: "ENOENT: a.tsx",
      },
      options,
    );
    expect(messages.slice(0, 3)).toEqual(prompt);
    expect(messages[3]).toEqual({
      role: "user",
      content:
        'Fix the failing test\n\nCorrect solution:\n\nread({"path":"a.ts"})' +
        "\n\nThe following is feedback from your unsuccessful earlier attempt:\n\nread the file first" +
        "\n\nEnvironment output:\n\nENOENT: a.tsx\n\nCorrectly solve the original question.",
    });
  });

  it("curly braces in a correction survive the template", () => {
    const text = buildReprompt({ task: "t", feedback: "use {solution} and {task} literally" }, options);
    expect(text).toContain("use {solution} and {task} literally");
  });

  it("truncation trims the task slot and never cuts the correction or the instruction", () => {
    const feedback = "the correction, kept whole";
    const text = buildReprompt({ task: "x".repeat(5000), feedback }, { ...options, maxRepromptChars: 300 });
    expect(text.length).toBe(300);
    expect(text).toContain(feedback);
    expect(text.endsWith("Correctly solve the original question.")).toBe(true);
    expect(text.startsWith("xxx")).toBe(true);
  });

  it("a correction longer than the limit is still kept whole", () => {
    const feedback = "f".repeat(400);
    const text = buildReprompt(
      { task: "task", feedback, environmentFeedback: "e".repeat(100) },
      { ...options, maxRepromptChars: 300 },
    );
    expect(text).toContain(feedback);
  });

  it("tool output is left out when environment feedback is switched off", () => {
    const text = buildReprompt(
      { task: "t", feedback: "f", environmentFeedback: "boom" },
      { ...options, includeEnvironmentFeedback: false },
    );
    expect(text).not.toContain("boom");
  });
});
