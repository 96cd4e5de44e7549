import { describe, expect, it } from "vitest";
import { proposingLabel, replyDisplay } from "./reply-display";

describe("how the page shows a reply's raw text", () => {
  it("a plain answer is shown as it is", () => {
    expect(replyDisplay("The tests pass now.")).toEqual({ prose: "The tests pass now.", call: null });
  });

  it("a Qwen3 tool call shows its prose and the tool's name, never its JSON", () => {
    const text =
      'I will write it.\n<tool_call>\n{"name": "write", "arguments": {"path": "stats.py", "content": "x"}}\n</tool_call>';
    expect(replyDisplay(text)).toEqual({ prose: "I will write it.", call: { name: "write" } });
  });

  it("a call still streaming shows 'proposing a call…' until its name has arrived", () => {
    expect(replyDisplay('<tool_call>\n{"na')).toEqual({ prose: "", call: { name: null } });
    expect(proposingLabel(replyDisplay('<tool_call>\n{"na').call!)).toBe("proposing a call…");
    expect(proposingLabel(replyDisplay('<tool_call>\n{"name": "bash", "argu').call!)).toBe("proposing bash…");
  });

  it("a Qwen3.5 XML call shows the function's name", () => {
    expect(
      replyDisplay(
        "Reading.\n\n<tool_call>\n<function=read>\n<parameter=path>\na.txt\n</parameter>\n</function>\n</tool_call>",
      ),
    ).toEqual({ prose: "Reading.", call: { name: "read" } });
  });

  it("a call written without its opening tag is hidden too, from its JSON line on", () => {
    expect(
      replyDisplay('Created stats.py.\n{"name": "write", "arguments": {"path": "stats.py"}}\n</tool_call>'),
    ).toEqual({ prose: "Created stats.py.", call: { name: "write" } });
    expect(replyDisplay("Done.</tool_call>")).toEqual({ prose: "Done.", call: { name: null } });
  });

  it("the first characters of a tag still arriving are held back", () => {
    expect(replyDisplay("Let me look.\n<tool_")).toEqual({ prose: "Let me look.", call: null });
  });
});
