import { describe, expect, it } from "vitest";
import { matchesPrefix, parseCommand } from "./bash-parse";

describe("parseCommand", () => {
  it("splits on pipes, ;, &&, ||, & and newlines, and unquotes words", () => {
    expect(parseCommand("ls -la | grep 'a b' && echo \"x;y\" ; pwd || true & date\nwhoami")).toEqual({
      segments: [["ls", "-la"], ["grep", "a b"], ["echo", "x;y"], ["pwd"], ["true"], ["date"], ["whoami"]],
      risks: [],
    });
  });

  it("keeps escaped spaces and separators inside a word", () => {
    expect(parseCommand("echo a\\ b\\;c").segments).toEqual([["echo", "a b;c"]]);
  });

  it("drops comments", () => {
    expect(parseCommand("git log # ; rm -rf /")).toEqual({ segments: [["git", "log"]], risks: [] });
  });

  it.each([
    ["git show > ~/.ssh/key", "redirect >"],
    ["git show >> notes", "redirect >>"],
    ["sort < input", "redirect <"],
    ["make 2> err.log", "redirect >"],
    ["make 2>&1", "redirect >&"],
    ["ls &> all.log", "redirect &>"],
    ["cat <<EOF\nhi\nEOF", "here-document <<"],
    ["echo $(whoami)", "command substitution $(…)"],
    ['echo "$(whoami)"', "command substitution $(…)"],
    ["echo `whoami`", "command substitution `…`"],
    ["(cd /; rm -rf x)", "subshell ( … )"],
    ["diff <(ls a) <(ls b)", "process substitution"],
    ["{ ls; }", "command group { … }"],
    ['eval "$CMD"', "eval runs a string as a command"],
    ["source ./script.sh", "source runs a string as a command"],
    ["sh -c 'rm -rf /'", "sh -c runs a string as a command"],
    ["env FOO=1 /bin/bash -lc id", "/bin/bash -c runs a string as a command"],
    ["echo 'unterminated", "unterminated quote"],
  ])("%j is risky: %s", (command, risk) => {
    expect(parseCommand(command).risks).toContain(risk);
  });
});

describe("matchesPrefix", () => {
  it("matches whole words from the start", () => {
    expect(matchesPrefix(["git", "status", "-s"], "git status")).toBe(true);
    expect(matchesPrefix(["git", "statusx"], "git status")).toBe(false);
    expect(matchesPrefix(["git"], "git status")).toBe(false);
    expect(matchesPrefix(["ls"], "  ")).toBe(false);
  });
});
