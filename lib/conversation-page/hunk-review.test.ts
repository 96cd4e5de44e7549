import { describe, expect, it } from "vitest";
import { ALL_HUNKS_REJECTED, hunkOutcome } from "./hunk-review";

const before = "one\ntwo\nthree\nfour\nfive\nsix\nseven\n";
const after = "one\nTWO\nthree\nfour\nfive\nsix\nseven\neight\n";

describe("a reviewer's hunk choices", () => {
  it("approve when all are accepted, deny (with their reasons) when all are rejected, and apply the accepted ones otherwise", () => {
    expect(hunkOutcome(before, after, [{ accept: true }, { accept: true }])).toEqual({ kind: "approve" });
    expect(hunkOutcome(before, after, [{ accept: false }, { accept: false }])).toEqual({
      kind: "deny",
      correction: ALL_HUNKS_REJECTED,
    });
    expect(hunkOutcome(before, after, [{ accept: false, correction: "keep lower case" }, { accept: false }])).toEqual({
      kind: "deny",
      correction: "Hunk 1: keep lower case",
    });
    const partial = hunkOutcome(before, after, [{ accept: true }, { accept: false, correction: " no eighth line " }]);
    expect(partial).toEqual({
      kind: "partial",
      text: "one\nTWO\nthree\nfour\nfive\nsix\nseven\n",
      hunks: 2,
      rejected: [{ number: 2, diff: "@@ -7,0 +8,1 @@\n+eight", correction: "no eighth line" }],
    });
    expect(hunkOutcome(before, after, [{ accept: true }])).toMatchObject({ kind: "mismatch" });
  });
});
