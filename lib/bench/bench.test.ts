import path from "node:path";
import { describe, expect, it } from "vitest";
import { fillCorrection } from "@/lib/curriculum/habits";
import { detectHabit, loadScenarios } from "@/lib/curriculum/scenarios";
import { projectPath } from "@/lib/paths";
import { decisionIndex, scenarioDecisionPoint } from "./decision-points";
import type { RunResult, ScenarioData } from "./learning";
import { bestRun, learningReport, parseConfigs, parseNumberList } from "./learning-report";
import { lastLogStep } from "./model-snapshot";
import { matchesIdeal, matchesIdealMove, partialCall } from "./proposals";
import { goalVerdict, lastingVerdict, percentile, rate, summarise, type LearningPoint } from "./stats";

const scenariosFile = projectPath(path.join("bench", "scenarios", "default.json"));

describe("benchmark arithmetic", () => {
  it("a rate is the share of true flags, and zero over no conversations", () => {
    expect(rate([true, false, true, true])).toBe(0.75);
    expect(rate([true, false, false])).toBe(0.333);
    expect(rate([])).toBe(0);
  });

  it("percentiles use the nearest rank", () => {
    const xs = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 95)).toBe(10);
    expect(percentile([2], 95)).toBe(2);
    expect(summarise([1, 2, 3])).toMatchObject({ p50: 2, p95: 3, mean: 2, min: 1, max: 3, n: 3 });
  });

  it("the goal is reached at k = 3 only with >= 80 % corrected and an unrelated drop of at most 5 points", () => {
    const at = (k: number, correctedRate: number, unrelatedSuccess: number): LearningPoint => ({
      k,
      correctedRate,
      habitRate: 1 - correctedRate,
      unrelatedSuccess,
    });
    expect(goalVerdict([at(0, 0.2, 0.5), at(1, 0.5, 0.5), at(3, 0.85, 0.46)])).toEqual({
      correctedBefore: 0.2,
      correctedAfter: 0.85,
      unrelatedDropPoints: 4,
      startsLow: true,
      reached: true,
      correctedMoveBefore: null,
      correctedMoveAfter: null,
      reachedIgnoringPaths: null,
    });
    expect(goalVerdict([at(0, 0.2, 0.5), at(3, 0.85, 0.4)]).reached).toBe(false);
    expect(goalVerdict([at(0, 0.2, 0.5), at(3, 0.75, 0.5)]).reached).toBe(false);
    expect(goalVerdict([at(0, 0.2, 0.5), at(1, 0.9, 0.5)])).toMatchObject({ correctedAfter: null, reached: false });
  });

  it("learning lasts only with the corrected move at k = 3 and unrelated success within 5 points of k = 0 at k = 20", () => {
    const at = (k: number, move: number, unrelated: number): LearningPoint => ({
      k,
      correctedRate: move,
      correctedMoveRate: move,
      habitRate: 1 - move,
      unrelatedSuccess: unrelated,
    });
    expect(lastingVerdict([at(0, 0.1, 0.4), at(3, 0.9, 0.4), at(20, 0.85, 0.36)])).toEqual({
      correctedMoveAtK3: 0.9,
      unrelatedDropPointsAtK20: 4,
      correctedMoveAtLastK: 0.85,
      reached: true,
    });
    expect(lastingVerdict([at(0, 0.1, 0.4), at(3, 0.9, 0.4), at(20, 0.85, 0.3)]).reached).toBe(false);
    expect(lastingVerdict([at(0, 0.1, 0.4), at(3, 0.7, 0.4), at(20, 0.85, 0.4)]).reached).toBe(false);
    expect(lastingVerdict([at(0, 0.1, 0.4), at(3, 0.9, 0.4)])).toMatchObject({
      unrelatedDropPointsAtK20: null,
      reached: false,
    });
  });

  it("the goal judged on the move alone is reported beside the strict one, under the same unrelated budget", () => {
    const at = (
      k: number,
      correctedRate: number,
      correctedMoveRate: number,
      unrelatedSuccess: number,
    ): LearningPoint => ({ k, correctedRate, correctedMoveRate, habitRate: 0, unrelatedSuccess });
    expect(goalVerdict([at(0, 0, 0.3, 0.5), at(3, 0.1, 0.9, 0.5)])).toMatchObject({
      reached: false,
      correctedMoveBefore: 0.3,
      correctedMoveAfter: 0.9,
      reachedIgnoringPaths: true,
    });
    expect(goalVerdict([at(0, 0, 0.3, 0.5), at(3, 0.1, 0.9, 0.4)]).reachedIgnoringPaths).toBe(false);
  });
});

describe("benchmark inputs", () => {
  it("every default scenario's corrections fill all their placeholders from each held-out task's values", async () => {
    const file = await loadScenarios(scenariosFile);
    for (const scenario of file.scenarios) {
      for (const task of scenario.tasks) {
        for (const template of scenario.corrections) {
          const text = fillCorrection(template, task.values);
          expect(text).not.toMatch(/\{\w+\}/);
          for (const [key, value] of Object.entries(task.values))
            if (template.includes(`{${key}}`)) expect(text).toContain(value);
        }
      }
    }
  });

  it("configurations parse as loss:teacher pairs, with self meaning the student", () => {
    expect(parseConfigs("token:student,full_kl:self,token:ema")).toEqual([
      { lossMode: "token", teacherMode: "student" },
      { lossMode: "full_kl", teacherMode: "student" },
      { lossMode: "token", teacherMode: "ema" },
    ]);
    expect(() => parseConfigs("tokens:student")).toThrow(/unknown loss mode/);
    expect(() => parseConfigs("token:teacher")).toThrow(/unknown teacher mode/);
    expect(parseNumberList("1e-5, 1e-3")).toEqual([1e-5, 1e-3]);
    expect(() => parseNumberList("1,x")).toThrow();
  });

  it("the decision step is the first call on the task's command or path", () => {
    const steps = [
      { kind: "call" as const, call: { name: "grep" as const, arguments: { pat: "X" } }, expect: "ok" as const },
      { kind: "call" as const, call: { name: "read" as const, arguments: { path: "a.py" } }, expect: "ok" as const },
      {
        kind: "call" as const,
        call: { name: "edit" as const, arguments: { path: "a.py", old: "1", new: "2" } },
        expect: "ok" as const,
      },
      {
        kind: "call" as const,
        call: { name: "bash" as const, arguments: { cmd: "node --test" } },
        expect: "ok" as const,
      },
    ];
    expect(decisionIndex(steps, { path: "a.py" })).toBe(1);
    expect(decisionIndex(steps, { path: "a.py", tool: "edit" })).toBe(2);
    expect(decisionIndex(steps, { command: "node --test", wrong: "jest" })).toBe(3);
    expect(decisionIndex(steps, {})).toBe(0);
  });

  it("a write_instead_of_edit decision point follows a real read of the file, and its planned habit call is what the detector flags", async () => {
    const file = await loadScenarios(scenariosFile);
    const scenario = file.scenarios.find((s) => s.id === "write_instead_of_edit")!;
    const task = scenario.tasks.find((t) => t.family === "read_edit")!;
    const point = await scenarioDecisionPoint(scenario, task);
    const path = task.values.path!;
    expect(point.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"]);
    expect(point.messages[3]!.content).toContain("DEFAULT_");
    expect(point.ideal).toMatchObject({ name: "edit", arguments: { path } });
    expect(point.wrong).toMatchObject({ name: "write", arguments: { path } });
    expect(detectHabit(scenario.detector, point.wrong!, point.detection)).toBe(true);
    expect(detectHabit(scenario.detector, point.ideal!, point.detection)).toBe(false);
  });
});

describe("judging proposals", () => {
  it("a proposal matches the ideal call by tool and key arguments only", () => {
    const ideal = { name: "edit" as const, arguments: { path: "src/a.js", old: "x = 1", new: "x = 2" } };
    expect(matchesIdeal({ name: "edit", arguments: { path: "./src/a.js", old: "x=1", new: "x=2" } }, ideal)).toBe(true);
    expect(matchesIdeal({ name: "edit", arguments: { path: "src/b.js", old: "x = 1", new: "x = 2" } }, ideal)).toBe(
      false,
    );
    expect(matchesIdeal({ name: "write", arguments: { path: "src/a.js", content: "" } }, ideal)).toBe(false);
    expect(matchesIdeal(null, null)).toBe(true);
    expect(
      matchesIdeal(
        { name: "bash", arguments: { cmd: "node --test " } },
        { name: "bash", arguments: { cmd: "node --test" } },
      ),
    ).toBe(true);
  });

  it("the ideal move ignores which path a call names but not its tool, command or pattern", () => {
    const ideal = { name: "edit" as const, arguments: { path: "src/a.js", old: "x = 1", new: "x = 2" } };
    expect(matchesIdealMove({ name: "edit", arguments: { path: "src/b.js", old: "y", new: "z" } }, ideal)).toBe(true);
    expect(matchesIdealMove({ name: "write", arguments: { path: "src/a.js", content: "" } }, ideal)).toBe(false);
    expect(
      matchesIdealMove(
        { name: "bash", arguments: { cmd: "jest" } },
        { name: "bash", arguments: { cmd: "python3 -m unittest" } },
      ),
    ).toBe(false);
    expect(
      matchesIdealMove(
        { name: "grep", arguments: { pat: "foo", path: "x" } },
        { name: "grep", arguments: { pat: "foo", path: "y" } },
      ),
    ).toBe(true);
    expect(matchesIdealMove(null, null)).toBe(true);
  });

  it("a reply cut off inside a write still names its tool and path", () => {
    expect(
      partialCall('<tool_call>\n{"name": "write", "arguments": {"path": "a/b.py", "content": "def f():\\n    ret'),
    ).toEqual({ name: "write", arguments: { path: "a/b.py" } });
    expect(partialCall("no call here")).toBeNull();
  });

  it("the checkpoint's step is the training log's last step line, final once it has its end record", () => {
    expect(lastLogStep('{"event":"start"}\n{"step":1,"loss":2}\n{"step":2,"loss":1}\n{"step":')).toEqual({
      step: 2,
      final: false,
    });
    expect(lastLogStep('{"step":5,"loss":1}\n{"event":"end","step":5}\n')).toEqual({ step: 5, final: true });
  });
});

describe("the learning report", () => {
  it("has one entry per scenario with every run's points, its goal verdict and the best configuration", () => {
    const point = {
      messages: [],
      task: "t",
      ideal: null,
      wrong: null,
      detection: { existingFiles: new Set<string>(), readPaths: new Set<string>() },
      family: "run_tests",
      seed: 7,
    };
    const data = {
      scenario: { id: "s", description: "d", detector: { tool: ["bash"], args: {} }, corrections: ["c"], tasks: [] },
      evaluation: [point, point],
      training: [{ point, values: {} }],
      unrelated: [{ ...point, family: "find_file" }],
    } as ScenarioData;
    const run = (learningRate: number, after: number): RunResult => {
      const points = [
        { k: 0, correctedRate: 0.1, habitRate: 0.9, unrelatedSuccess: 0.5 },
        { k: 3, correctedRate: after, habitRate: 1 - after, unrelatedSuccess: 0.5 },
      ];
      return {
        lossMode: "token",
        teacherMode: "student",
        learningRate,
        rank: 32,
        points,
        goal: goalVerdict(points),
        lasting: lastingVerdict(points),
        corrections: [],
        seconds: 1,
      };
    };
    const runs = [run(1e-5, 0.1), run(1e-3, 0.9)];
    expect(bestRun(runs)?.learningRate).toBe(1e-3);
    const report = learningReport({
      model: { name: "m" },
      options: { n: 2 },
      results: [{ data, runs }],
      seconds: 4.5678,
      loadavg: [1.234, 2, 3],
    });
    expect(report).toMatchObject({ benchmark: "learning", seconds: 4.6, loadavg: [1.23, 2, 3] });
    expect(report.scenarios).toHaveLength(1);
    const s = report.scenarios[0]!;
    expect(s).toMatchObject({
      id: "s",
      conversations: 2,
      evaluationTasks: 1,
      trainingTasks: [{ seed: 7, family: "run_tests" }],
      unrelatedFamilies: ["find_file"],
    });
    expect(s.runs.map((r) => [r.learningRate, r.goal.reached])).toEqual([
      [1e-5, false],
      [1e-3, true],
    ]);
    expect(s.runs.map((r) => r.trainedSteps)).toEqual([0, 0]);
    expect(s.best).toMatchObject({ learningRate: 1e-3, goal: { reached: true } });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(s.appDefault).toBeNull();
    const withDefault = learningReport({
      model: { name: "m" },
      appDefault: { lossMode: "token", teacherMode: "student", learningRate: 1e-5 },
      options: {},
      results: [{ data, runs }],
      seconds: 1,
      loadavg: [],
    });
    expect(withDefault.appDefault).toEqual({ lossMode: "token", teacherMode: "student", learningRate: 1e-5 });
    expect(withDefault.scenarios[0]!.appDefault).toMatchObject({
      learningRate: 1e-5,
      points: runs[0]!.points,
      goal: { correctedAfter: 0.1, reached: false },
    });
  });
});
