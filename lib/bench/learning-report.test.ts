import { describe, expect, it } from "vitest";
import { type LearningReport, mergeReports } from "./learning-report";

const goal = (correctedAfter: number, unrelatedDropPoints: number) => ({ correctedAfter, unrelatedDropPoints });
const run = (teacherMode: string, correctedAfter: number, drop: number) => ({
  lossMode: "token",
  teacherMode,
  learningRate: 0.002,
  goal: goal(correctedAfter, drop),
  points: [],
  seconds: 10,
});
const scenario = (id: string, runs: unknown[], appDefault: unknown = null, conversations = 32) => ({
  id,
  conversations,
  unrelatedTasks: 48,
  runs,
  appDefault,
  best: null,
});
const part = (scenarios: unknown[], seconds: number, configs: string[]) =>
  ({
    benchmark: "learning",
    options: { n: 32, configs },
    scenarios,
    seconds,
    loadavg: [seconds, 0, 0],
  }) as unknown as LearningReport;

describe("merging parts of the learning table measured side by side", () => {
  it("puts each scenario's runs together, keeps the part's app default and picks the best run again", () => {
    const a = part([scenario("s1", [run("frozen", 0.9, 2)], { teacherMode: "frozen" })], 300, ["token:frozen"]);
    const b = part([scenario("s1", [run("student", 1, 20), run("ema", 0.95, 4)])], 500, ["token:student", "token:ema"]);
    const merged = mergeReports([a, b]);
    expect(merged.scenarios).toHaveLength(1);
    const s1 = merged.scenarios[0]!;
    expect(s1.runs.map((r) => r.teacherMode)).toEqual(["frozen", "student", "ema"]);
    expect(s1.appDefault).toEqual({ teacherMode: "frozen" });
    // Within the 5-point budget the higher rate at k = 3 wins: ema, not the student that lost 20 points.
    expect(s1.best?.teacherMode).toBe("ema");
    expect(merged.seconds).toBe(500);
    expect(merged.parts.map((p) => (p as { seconds: number }).seconds)).toEqual([300, 500]);
  });

  it("keeps scenarios measured in different parts apart", () => {
    const merged = mergeReports([
      part([scenario("s1", [run("frozen", 1, 0)])], 1, []),
      part([scenario("s2", [])], 2, []),
    ]);
    expect(merged.scenarios.map((s) => s.id)).toEqual(["s1", "s2"]);
  });

  it("refuses parts that measured one scenario on different conversations, and an empty list", () => {
    const a = part([scenario("s1", [], null, 32)], 1, []);
    const b = part([scenario("s1", [], null, 16)], 1, []);
    expect(() => mergeReports([a, b])).toThrow(/different conversations/);
    expect(() => mergeReports([])).toThrow(/nothing to merge/);
  });
});
