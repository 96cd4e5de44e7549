import { describe, expect, it } from "vitest";
import { applyHunks, formatHunk, linesOf, splitHunks, unifiedDiff } from "./hunks";

const before = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";
const after = "one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n";

describe("hunks", () => {
  it("keeps every line's terminator, so the lines join back to the same bytes", () => {
    for (const text of ["", "a", "a\n", "a\r\nb", "a\n\n\nb\r\n", "\n"]) expect(linesOf(text).join("")).toBe(text);
  });

  it("splits two separate changes into two hunks in file order", () => {
    const hunks = splitHunks(before, after);
    expect(hunks).toHaveLength(2);
    expect(hunks[0]).toMatchObject({ index: 0, beforeStart: 1, removed: ["two\n"], added: ["TWO\n"] });
    expect(hunks[1]).toMatchObject({ index: 1, beforeStart: 7, removed: [], added: ["eight\n"] });
  });

  it("applies exactly the accepted hunks", () => {
    const hunks = splitHunks(before, after);
    expect(applyHunks(before, hunks, [true, true])).toBe(after);
    expect(applyHunks(before, hunks, [false, false])).toBe(before);
    expect(applyHunks(before, hunks, [true, false])).toBe("one\nTWO\nthree\nfour\nfive\nsix\nseven\n");
    expect(applyHunks(before, hunks, [false, true])).toBe(before + "eight\n");
  });

  it("finds no hunk when nothing changes", () => {
    expect(splitHunks(before, before)).toEqual([]);
    expect(unifiedDiff(before, before)).toBe("");
  });

  it("treats a new file as one hunk of added lines", () => {
    const hunks = splitHunks("", "a\nb\n");
    expect(hunks).toHaveLength(1);
    expect(formatHunk(hunks[0]!)).toBe("@@ -0,0 +1,2 @@\n+a\n+b");
  });

  it("marks a last line without a newline, and a change of line ending is a change", () => {
    const hunks = splitHunks("a\nb", "a\nb\n");
    expect(hunks).toHaveLength(1);
    expect(formatHunk(hunks[0]!)).toBe("@@ -2,1 +2,1 @@\n-b\n\\ No newline at end of file\n+b");
    expect(splitHunks("a\r\n", "a\n")).toHaveLength(1);
  });

  it("refuses a choice list of the wrong length and hunks that do not belong to the file", () => {
    const hunks = splitHunks(before, after);
    expect(() => applyHunks(before, hunks, [true])).toThrow(/each of the 2 hunks/);
    expect(() => applyHunks("other\ntext\n", hunks, [true, true])).toThrow(/does not/);
  });

  it("reproduces any accepted subset for random edits (all gives after, none gives before)", () => {
    let seed = 17;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const words = ["a\n", "b\n", "c\n", "d\r\n", "e"];
    for (let round = 0; round < 300; round++) {
      const base = Array.from({ length: rand(12) }, () => words[rand(4)]!).join("");
      const changed = linesOf(base).flatMap((l) =>
        rand(4) === 0 ? [] : rand(5) === 0 ? [words[rand(5)]!, l] : [rand(6) === 0 ? words[rand(4)]! : l],
      );
      const target = changed.join("") + (rand(3) === 0 ? words[rand(5)]! : "");
      const hunks = splitHunks(base, target);
      expect(
        applyHunks(
          base,
          hunks,
          hunks.map(() => true),
        ),
      ).toBe(target);
      expect(
        applyHunks(
          base,
          hunks,
          hunks.map(() => false),
        ),
      ).toBe(base);
      const choice = hunks.map(() => rand(2) === 0);
      const partial = applyHunks(base, hunks, choice);
      // The partial result differs from `before` by exactly the accepted hunks' lines.
      const again = splitHunks(base, partial);
      expect(again.reduce((n, h) => n + h.added.length, 0)).toBeLessThanOrEqual(
        hunks.filter((_, i) => choice[i]).reduce((n, h) => n + h.added.length, 0),
      );
    }
  });

  it("stays fast and exact on a large file with a change at each end", () => {
    const big = Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join("");
    const edited = "first\n" + big.slice(big.indexOf("\n") + 1, big.lastIndexOf("line 19999")) + "last\n";
    const started = Date.now();
    const hunks = splitHunks(big, edited);
    expect(hunks).toHaveLength(2);
    expect(applyHunks(big, hunks, [false, true])).toBe(big.replace("line 19999\n", "last\n"));
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
