import { describe, expect, it } from "vitest";
import { isIgnored, parseGitignore, type IgnoreLevel } from "./gitignore";
import { matchGlob } from "./glob-match";

const root = (text: string): IgnoreLevel[] => [{ base: "", rules: parseGitignore(text) }];

describe("gitignore rules", () => {
  it.each([
    ["*.log", "a.log", false, true],
    ["*.log", "deep/dir/a.log", false, true],
    ["*.log\n!keep.log", "keep.log", false, false],
    ["build/", "build", true, true],
    ["build/", "build", false, false],
    ["build/", "src/build", true, true],
    ["/top", "top", false, true],
    ["/top", "sub/top", false, false],
    ["doc/*.txt", "doc/a.txt", false, true],
    ["doc/*.txt", "doc/x/a.txt", false, false],
    ["doc/**/*.txt", "doc/x/y/a.txt", false, true],
    ["**/cache", "a/b/cache", true, true],
    ["logs/**", "logs/x/y", false, true],
    ["# comment\n\n  ", "# comment", false, false],
    ["\\#hash", "#hash", false, true],
    ["\\!bang", "!bang", false, true],
    ["a?c", "abc", false, true],
    ["[ab].txt", "b.txt", false, true],
    ["[!ab].txt", "b.txt", false, false],
    ["trailing   ", "trailing", false, true],
  ])("%j ignores %j (dir %s): %s", (text, rel, isDir, expected) => {
    expect(isIgnored(root(text), rel, isDir)).toBe(expected);
  });

  it("a deeper .gitignore applies below its folder and overrides the root's", () => {
    const levels: IgnoreLevel[] = [
      { base: "", rules: parseGitignore("*.tmp") },
      { base: "sub", rules: parseGitignore("!keep.tmp\n/local") },
    ];
    expect(isIgnored(levels, "sub/keep.tmp", false)).toBe(false);
    expect(isIgnored(levels, "keep.tmp", false)).toBe(true);
    expect(isIgnored(levels, "sub/local", false)).toBe(true);
    expect(isIgnored(levels, "local", false)).toBe(false);
  });
});

describe("glob patterns", () => {
  it.each([
    ["**/*.ts", "a.ts", true],
    ["**/*.ts", "src/deep/a.ts", true],
    ["*.ts", "src/a.ts", false],
    ["src/**", "src/a/b", true],
    ["src/*.{ts,tsx}", "src/a.tsx", true],
    ["src/?.ts", "src/ab.ts", false],
    ["a.b", "axb", false],
  ])("%j matches %j: %s", (pattern, rel, expected) => {
    expect(matchGlob(pattern, rel)).toBe(expected);
  });
});
