import { describe, expect, it } from "vitest";
import { languageForPath } from "./language";

describe("languageForPath", () => {
  it("names the viewer's languages by extension, case-insensitively, and plain text otherwise", () => {
    const paths = [
      "a/b.py",
      "x.TS",
      "c.tsx",
      "d.mjs",
      "e.json",
      "README.md",
      "s.css",
      "i.html",
      "run.sh",
      ".bashrc",
      ".gitignore",
      "Makefile",
      "noext",
      "x.rs",
    ];
    expect(Object.fromEntries(paths.map((p) => [p, languageForPath(p)]))).toEqual({
      "a/b.py": "python",
      "x.TS": "typescript",
      "c.tsx": "typescript",
      "d.mjs": "javascript",
      "e.json": "json",
      "README.md": "markdown",
      "s.css": "css",
      "i.html": "html",
      "run.sh": "shell",
      ".bashrc": "shell",
      ".gitignore": "plaintext",
      Makefile: "plaintext",
      noext: "plaintext",
      "x.rs": "plaintext",
    });
  });
});
