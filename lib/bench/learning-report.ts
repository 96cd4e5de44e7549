/**
 * The learning benchmark's flags and its JSON: configuration lists parsed from the command line
 * (`token:student,full_kl:student,token:ema`), and the printed report, one entry per scenario with
 * every run's before/after points, the goal's verdict, and a per-scenario best configuration, so
 * the output is one stable shape whatever the scenario file holds.
 */
import { LOSS_MODES, TEACHER_MODES } from "@/lib/config/fields";
import type { LossMode, TeacherMode } from "@/lib/sdpo";
import type { RunResult, ScenarioData } from "./learning";
import { round } from "./stats";

export function parseNumberList(text: string): number[] {
  const xs = text.split(",").map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x)))
    throw new Error(`expected a comma-separated list of numbers, got "${text}"`);
  return xs;
}

/** `loss:teacher` pairs; "self" is accepted for the student teacher. */
export function parseConfigs(text: string): Array<{ lossMode: LossMode; teacherMode: TeacherMode }> {
  return text.split(",").map((pair) => {
    const [loss, teacher = "student"] = pair.trim().split(":");
    const lossMode = LOSS_MODES.find((m) => m === loss);
    const teacherMode = TEACHER_MODES.find((m) => m === (teacher === "self" ? "student" : teacher));
    if (!lossMode) throw new Error(`unknown loss mode "${loss}" (one of ${LOSS_MODES.join(", ")})`);
    if (!teacherMode) throw new Error(`unknown teacher mode "${teacher}" (one of self, ${TEACHER_MODES.join(", ")})`);
    return { lossMode, teacherMode };
  });
}

export interface LearningReportInput {
  model: Record<string, unknown>;
  /** The configuration the app trains this model with by default; its runs are the headline. */
  appDefault?: {
    lossMode: LossMode;
    teacherMode: TeacherMode;
    learningRate: number;
    rehearsalCalls?: number;
    rehearsalWeight?: number;
  };
  options: Record<string, unknown>;
  results: Array<{ data: ScenarioData; runs: RunResult[] }>;
  seconds: number;
  loadavg: number[];
}

/** The run that best reaches the goal: the highest corrected rate at k = 3 among those within the unrelated budget, else overall. */
export function bestRun(runs: RunResult[]): RunResult | null {
  const at3 = (r: RunResult) => r.goal.correctedAfter ?? -1;
  const withinBudget = runs.filter((r) => r.goal.unrelatedDropPoints !== null && r.goal.unrelatedDropPoints <= 5);
  const pool = withinBudget.length > 0 ? withinBudget : runs;
  return pool.reduce<RunResult | null>((best, r) => (best === null || at3(r) > at3(best) ? r : best), null);
}

export function learningReport(input: LearningReportInput) {
  return {
    benchmark: "learning",
    model: input.model,
    options: input.options,
    goal: "after 3 corrections the corrected behaviour appears in >= 80% of fresh conversations (from <= 30%), unrelated success drops by <= 5 points",
    lastingGoal:
      "the corrected move appears in >= 80% of fresh conversations after 3 corrections, and unrelated success at k = 20 is within 5 points of k = 0",
    appDefault: input.appDefault ?? null,
    scenarios: input.results.map(({ data, runs }) => {
      const best = bestRun(runs);
      const d = input.appDefault;
      const asDefault = d
        ? runs.find(
            (r) =>
              r.lossMode === d.lossMode &&
              r.teacherMode === d.teacherMode &&
              r.learningRate === d.learningRate &&
              (r.rehearsalCalls ?? 0) === (d.rehearsalCalls ?? 0) &&
              ((d.rehearsalCalls ?? 0) ? r.rehearsalWeight === d.rehearsalWeight : true),
          )
        : undefined;
      return {
        id: data.scenario.id,
        description: data.scenario.description,
        conversations: data.evaluation.length,
        evaluationTasks: new Set(data.evaluation.map((p) => p.seed)).size,
        trainingTasks: data.training.map((t) => ({ seed: t.point.seed, family: t.point.family })),
        unrelatedTasks: data.unrelated.length,
        unrelatedFamilies: [...new Set(data.unrelated.map((p) => p.family))],
        runs: runs.map((r) => ({
          lossMode: r.lossMode,
          teacherMode: r.teacherMode,
          learningRate: r.learningRate,
          ...(r.emaTau !== undefined ? { emaTau: r.emaTau } : {}),
          ...(r.teacherRefreshEvery !== undefined ? { teacherRefreshEvery: r.teacherRefreshEvery } : {}),
          ...(r.rehearsalCalls !== undefined
            ? { rehearsalCalls: r.rehearsalCalls, rehearsalWeight: r.rehearsalWeight }
            : {}),
          rank: r.rank,
          points: r.points,
          goal: r.goal,
          lasting: r.lasting,
          /** Corrections whose SDPO step ran; a skipped one (see its reason) changed nothing. */
          trainedSteps: r.corrections.filter((c) => c.skipped === undefined).length,
          corrections: r.corrections,
          seconds: r.seconds,
        })),
        appDefault: asDefault
          ? {
              lossMode: asDefault.lossMode,
              teacherMode: asDefault.teacherMode,
              learningRate: asDefault.learningRate,
              ...(asDefault.rehearsalCalls !== undefined
                ? { rehearsalCalls: asDefault.rehearsalCalls, rehearsalWeight: asDefault.rehearsalWeight }
                : {}),
              points: asDefault.points,
              goal: asDefault.goal,
              lasting: asDefault.lasting,
            }
          : null,
        best: best
          ? { lossMode: best.lossMode, teacherMode: best.teacherMode, learningRate: best.learningRate, goal: best.goal }
          : null,
      };
    }),
    seconds: round(input.seconds, 1),
    loadavg: input.loadavg.map((x) => round(x, 2)),
  };
}

export type LearningReport = ReturnType<typeof learningReport>;
type ReportScenario = LearningReport["scenarios"][number];

/**
 * One report from several runs of the benchmark on the same model and options that each measured
 * part of the table (`--only`, `--configs`), run side by side: each scenario's runs together, its
 * app default from the part that ran it, the best run chosen again over all of them. Every run
 * keeps its own seconds; the whole takes the longest part's, and each part's load average is kept.
 */
export function mergeReports(parts: readonly LearningReport[]): LearningReport & { parts: unknown[] } {
  if (parts.length === 0) throw new Error("nothing to merge");
  const byId = new Map<string, ReportScenario>();
  for (const part of parts) {
    for (const s of part.scenarios) {
      const seen = byId.get(s.id);
      if (!seen) byId.set(s.id, { ...s, runs: [...s.runs] });
      else {
        if (seen.conversations !== s.conversations || seen.unrelatedTasks !== s.unrelatedTasks)
          throw new Error(`scenario ${s.id} was measured on different conversations in different parts`);
        seen.runs.push(...s.runs);
        seen.appDefault ??= s.appDefault;
      }
    }
  }
  const scenarios = [...byId.values()].map((s) => {
    const best = bestRun(s.runs as unknown as RunResult[]);
    return {
      ...s,
      best: best
        ? { lossMode: best.lossMode, teacherMode: best.teacherMode, learningRate: best.learningRate, goal: best.goal }
        : null,
    };
  });
  return {
    ...parts[0]!,
    scenarios,
    seconds: Math.max(...parts.map((p) => p.seconds)),
    loadavg: parts[parts.length - 1]!.loadavg,
    parts: parts.map((p) => ({
      scenarios: p.scenarios.map((s) => s.id),
      configs: p.options.configs,
      options: p.options,
      seconds: p.seconds,
      loadavg: p.loadavg,
    })),
  };
}
