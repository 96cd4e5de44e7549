import { describe, expect, it } from "vitest";
import { describeReason, judgeStep } from "./guard";
import type { ProbeScores } from "./probes";

const scores = (over: Partial<ProbeScores>): ProbeScores => ({
  correctionsKept: 1,
  deniedReturned: 0,
  approvedKept: 1,
  topFirstMove: 'read({"path":"a.py"})',
  topFirstMoveShare: 0.25,
  distinctReferences: 4,
  probes: 8,
  outcomes: [],
  ...over,
});
const warn = { dropPoints: 10, action: "warn" as const };

describe("the guard", () => {
  it("flags approved behaviour kept falling more than the threshold below its best recent value", () => {
    expect(judgeStep({ scores: scores({ approvedKept: 0.875 }), earlier: [1, 0.9], settings: warn })).toEqual({
      flagged: true,
      reasons: [{ kind: "approved_drop", bestRecent: 1, now: 0.875, points: 12.5 }],
      action: "warn",
    });
  });

  it("lets a drop of exactly the threshold pass, and forgives a peak older than five steps", () => {
    expect(judgeStep({ scores: scores({ approvedKept: 0.9 }), earlier: [1], settings: warn }).flagged).toBe(false);
    expect(
      judgeStep({ scores: scores({ approvedKept: 0.7 }), earlier: [1, 0.75, 0.75, 0.75, 0.75, 0.75], settings: warn })
        .flagged,
    ).toBe(false);
    expect(judgeStep({ scores: scores({ approvedKept: 0.7 }), earlier: [], settings: warn }).flagged).toBe(false);
  });

  it("flags first moves collapsed onto one answer across probes whose own calls differ", () => {
    const collapsed = scores({ topFirstMove: 'bash({"cmd":"node --test"})', topFirstMoveShare: 0.875 });
    expect(judgeStep({ scores: collapsed, earlier: [], settings: { dropPoints: 10, action: "reject" } })).toEqual({
      flagged: true,
      reasons: [
        { kind: "collapse", firstMove: 'bash({"cmd":"node --test"})', share: 0.875, probes: 8, distinctReferences: 4 },
      ],
      action: "reject",
    });
    expect(
      describeReason({
        kind: "collapse",
        firstMove: 'bash({"cmd":"node --test"})',
        share: 0.875,
        probes: 8,
        distinctReferences: 4,
      }),
    ).toBe('7 of 8 probes (4 different calls) now start with bash({"cmd":"node --test"}).');
  });

  it("does not call it collapse when the probes' own calls agree, or there are too few probes", () => {
    expect(
      judgeStep({ scores: scores({ topFirstMoveShare: 1, distinctReferences: 1 }), earlier: [], settings: warn })
        .flagged,
    ).toBe(false);
    expect(
      judgeStep({
        scores: scores({ topFirstMoveShare: 1, probes: 3, distinctReferences: 3 }),
        earlier: [],
        settings: warn,
      }).flagged,
    ).toBe(false);
  });

  it("says what changed in a sentence", () => {
    expect(describeReason({ kind: "approved_drop", bestRecent: 1, now: 0.75, points: 25 })).toBe(
      "Approved behaviour kept fell 25 points, from 100% to 75%.",
    );
  });
});
