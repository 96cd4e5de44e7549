/**
 * What the training charts plot: the series a user can pick (each a list of metric keys, as
 * the trainer logs them), and the step → line transformation every chart shares: keep finished
 * steps that logged the key, order by the x axis (optimizer step or wall time), smooth with the
 * debiased EMA, then downsample by min/max on the raw values so no spike disappears.
 */
import type { TrainingStepStatus } from "@/lib/db/enums";
import { headline } from "@/lib/sdpo/metric-names";
import { PROBE_KEYS } from "@/lib/sdpo/probe-metrics";
import { DEFAULT_MAX_POINTS, downsampleIndices } from "./downsample";
import { debiasedEma } from "./smoothing";

// The headline series carry the headline metrics' names (lib/sdpo/metric-names.ts), as the training panel does.
export const SERIES = [
  { id: "loss", label: headline("loss").name, keys: ["loss"] },
  { id: "sdpo_kl", label: headline("kl").name, keys: ["sdpo_kl"] },
  { id: "advantages", label: "Advantages", keys: ["credit/adv_mean", "credit/adv_abs_mean"] },
  { id: "entropy", label: "Entropy", keys: ["entropy/student", "entropy/teacher"] },
  { id: "tokens", label: headline("tokens").name, keys: ["sdpo_tokens"] },
  { id: "step_time", label: `${headline("step_time").name} (s)`, keys: ["time/total"] },
  { id: "probes", label: "Kept after each step", keys: [PROBE_KEYS.correctionsKept, PROBE_KEYS.approvedKept] },
] as const;
export type SeriesId = (typeof SERIES)[number]["id"];

export function seriesById(id: string): (typeof SERIES)[number] | undefined {
  return SERIES.find((s) => s.id === id);
}

/** Every metric key of every series, for a metric picker. */
export const SERIES_KEYS: readonly string[] = SERIES.flatMap((s) => s.keys);

/** What a chart's x axis counts: the step, or the wall-clock time a step finished. */
export const X_AXIS_MODES = ["step", "wall"] as const;
export type XAxisMode = (typeof X_AXIS_MODES)[number];

/** A training step as the browser sees it (the JSON the SSE route and the pages send). */
export type StepView = {
  id: string;
  policyId: string;
  step: number | null;
  status: TrainingStepStatus;
  error: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  metrics: Record<string, number> | null;
};

/** What plotting needs of a step: the team view sends admins only this, never ids or errors. */
export type PlottedStep = Pick<StepView, "status" | "step" | "finishedAt" | "metrics">;

export type Point = { x: number; y: number };
export type ChartLine = { key: string; label: string; smoothed: Point[]; raw: Point[] };

export function xOf(step: PlottedStep, mode: XAxisMode): number | null {
  switch (mode) {
    case "step":
      return step.step;
    case "wall":
      return step.finishedAt ? Date.parse(step.finishedAt) : null;
    default: {
      const never: never = mode;
      throw new Error(`unknown x axis ${String(never)}`);
    }
  }
}

/** One metric of `steps` as a smoothed line plus its raw values, at most `maxPoints` each. */
export function metricLine(
  steps: readonly PlottedStep[],
  key: string,
  options: { xAxis: XAxisMode; smoothing: number; maxPoints?: number; label?: string },
): ChartLine {
  const raw: Point[] = [];
  for (const s of steps) {
    const x = xOf(s, options.xAxis);
    const y = s.metrics?.[key];
    if (s.status === "done" && x !== null && typeof y === "number") raw.push({ x, y });
  }
  raw.sort((a, b) => a.x - b.x);
  const smoothedY = debiasedEma(
    raw.map((p) => p.y),
    options.smoothing,
  );
  const keep = downsampleIndices(
    raw.map((p) => p.y),
    options.maxPoints ?? DEFAULT_MAX_POINTS,
  );
  return {
    key,
    label: options.label ?? key,
    raw: keep.map((i) => raw[i]!),
    smoothed: keep.map((i) => ({ x: raw[i]!.x, y: smoothedY[i]! })),
  };
}

/** Merges updated steps into a list by id, keeping queue order (new ids go last). */
export function mergeSteps(current: readonly StepView[], updates: readonly StepView[]): StepView[] {
  const byId = new Map(updates.map((s) => [s.id, s]));
  const merged = current.map((s) => byId.get(s.id) ?? s);
  const known = new Set(current.map((s) => s.id));
  for (const s of updates) if (!known.has(s.id)) merged.push(s);
  return merged;
}
