import { describe, expect, it } from "vitest";
import { deniedToolResult, failureCorrectionMessage, TOOL_ERROR_PREFIX, toolResultText } from "./tool-messages";

describe("tool messages", () => {
  it("a denied call's tool message is a compact JSON record carrying the correction", () => {
    const text = deniedToolResult({ correction: '  Use edit_lines on "line 3".  ' });
    expect(text).toBe('{"denied":true,"correction":"Use edit_lines on \\"line 3\\"."}');
    expect(JSON.parse(text)).toEqual({ denied: true, correction: 'Use edit_lines on "line 3".' });
  });

  it("an executed call's message is its output, marked when the tool failed", () => {
    expect(toolResultText({ output: "ok", success: true })).toBe("ok");
    expect(toolResultText({ output: "file not found: a.py", success: false })).toBe(
      `${TOOL_ERROR_PREFIX}file not found: a.py`,
    );
  });

  it("a correction after a tool failure is a user message that says it is a correction", () => {
    expect(failureCorrectionMessage({ correction: "Run python3 -m unittest instead.\n" })).toBe(
      "Correction: Run python3 -m unittest instead.",
    );
  });
});
