import { describe, expect, it } from "vitest";
import { callSummary, defaultRulePattern } from "./summary";

describe("call summaries", () => {
  it("read like the original's ● lines", () => {
    expect([
      callSummary("bash", { cmd: "pytest -q" }),
      callSummary("edit_lines", { path: "a.py", start_line: 3, end_line: 5, content: "" }),
      callSummary("write", { path: "b.txt", content: "x" }),
      callSummary("grep", { pat: "def ", path: "src" }),
      callSummary("glob", { pat: "**/*.ts" }),
    ]).toEqual(["$ pytest -q", "a.py @ 3-5", "b.txt", "src def ", ". **/*.ts"]);
  });

  it("offer the path for file tools and the first word for bash as the rule pattern", () => {
    expect(defaultRulePattern("bash", { cmd: "  git status --short" })).toEqual({
      kind: "bash_prefix",
      pattern: "git",
    });
    expect(defaultRulePattern("edit", { path: "src/a.ts", old: "a", new: "b" })).toEqual({
      kind: "path",
      pattern: "src/a.ts",
    });
    expect(defaultRulePattern("glob", { pat: "*" })).toBeNull();
  });
});
