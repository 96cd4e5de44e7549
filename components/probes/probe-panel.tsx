"use client";
/**
 * What each step kept, beside loss and KL: "corrections kept" and "approved behaviour kept" per
 * step (scored on the user's own recent probes after the step), and the steps the guard flagged,
 * each with what changed. Reads the probe/* and guard/* keys of the steps' metrics.
 */
import { MetricChart } from "@/components/training/metric-chart";
import type { StepView, XAxisMode } from "@/lib/charts/series";
import { PROBE_CHARTS, PROBE_KEYS } from "@/lib/sdpo/probe-metrics";

type Scored = Pick<StepView, "id" | "step" | "metrics">;

const pct = (x: number | undefined) => (x === undefined ? "—" : `${Math.round(x * 100)}%`);

export function ProbeCharts({
  steps,
  height = 120,
  smoothing = 0,
  xAxis = "step",
}: {
  steps: StepView[];
  height?: number;
  smoothing?: number;
  xAxis?: XAxisMode;
}) {
  return (
    <MetricChart
      steps={steps}
      keys={PROBE_CHARTS.map((c) => c.key)}
      title="Kept after each step"
      height={height}
      smoothing={smoothing}
      xAxis={xAxis}
    />
  );
}

/** One line per flagged step: the numbers that tripped the guard, and whether it was undone. */
export function GuardFlags({ steps }: { steps: Scored[] }) {
  const flagged = steps.filter((s) => s.metrics?.[PROBE_KEYS.flagged] === 1);
  if (flagged.length === 0) return null;
  return (
    <ul className="flex flex-col gap-1 px-2 py-1.5 text-[12px]" data-testid="guard-flags">
      {flagged.map((s) => {
        const m = s.metrics!;
        const parts: string[] = [];
        if (m[PROBE_KEYS.dropPoints] !== undefined)
          parts.push(
            `approved behaviour kept fell ${m[PROBE_KEYS.dropPoints]} points (${pct(m[PROBE_KEYS.bestRecent])} → ${pct(m[PROBE_KEYS.approvedKept])})`,
          );
        const top = m[PROBE_KEYS.topFirstMoveShare];
        if (top !== undefined && top >= 0.75) parts.push(`${pct(top)} of probes now start with the same call`);
        return (
          <li
            key={s.id}
            className="text-warn"
            data-testid="guard-flag"
            data-step={s.step ?? ""}
            data-rolled-back={m[PROBE_KEYS.rolledBack] === 1}
          >
            Step #{s.step}: {parts.join("; ") || "flagged"}
            {m[PROBE_KEYS.rolledBack] === 1 ? " — undone" : ""}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * The stream's steps with the probe scores the conversation's own rows carry: a step's scores
 * arrive after it finished, which the stream (it re-sends a row only when its status moves) does
 * not pass on, while the conversation refetches on its "probe" event.
 */
export function withProbes(steps: StepView[], own: readonly Scored[]): StepView[] {
  const byId = new Map(own.map((s) => [s.id, s.metrics]));
  return steps.map((s) => {
    const extra = byId.get(s.id);
    return extra && extra[PROBE_KEYS.probes] !== undefined ? { ...s, metrics: { ...s.metrics, ...extra } } : s;
  });
}
