"use client";
/**
 * MetricChart: one panel plotting metric keys of training steps, smoothed with the raw line kept
 * faint, downsampled above ~2,000 points by per-bucket min/max so spikes stay visible.
 *
 * Props:
 *   steps      StepView[] (from useTrainingStream); only finished steps that logged a key are plotted
 *   keys       metric keys to draw, e.g. ["loss"] or ["entropy/student", "entropy/teacher"]
 *   title      heading (default: the keys joined)
 *   smoothing  debiased-EMA weight in [0, MAX_SMOOTHING] (default DEFAULT_SMOOTHING)
 *   xAxis      "step" (optimizer step, default) or "wall" (finish time)
 *   height     chart height in px (default 220)
 */
import { useMemo } from "react";
import { metricLine, type StepView, type XAxisMode } from "@/lib/charts/series";
import { DEFAULT_SMOOTHING } from "@/lib/charts/smoothing";
import { metricLabel } from "@/lib/sdpo/metric-names";
import { LinesChart } from "./lines-chart";

export function MetricChart({
  steps,
  keys,
  title,
  smoothing = DEFAULT_SMOOTHING,
  xAxis = "step",
  height = 220,
}: {
  steps: StepView[];
  keys: readonly string[];
  title?: string;
  smoothing?: number;
  xAxis?: XAxisMode;
  height?: number;
}) {
  const lines = useMemo(
    () =>
      keys
        .map((key) => metricLine(steps, key, { xAxis, smoothing }))
        .filter((l) => l.raw.length > 0)
        .map((l) => ({ id: l.key, label: metricLabel(l.key), points: l.smoothed, raw: l.raw })),
    [steps, keys, xAxis, smoothing],
  );
  const heading = title ?? keys.map(metricLabel).join(", ");
  const slug = keys.join("-").replaceAll("/", "_");
  // How many measured points are drawn: an SVG line gives no count a test or a reader can check.
  const points = lines.reduce((n, l) => n + l.raw.length, 0);
  return (
    <section className="panel flex flex-col gap-1 p-2" data-testid={`metric-chart-${slug}`} data-points={points}>
      <h3 className="label px-1">{heading}</h3>
      {lines.length === 0 ? (
        <p className="flex items-center justify-center text-muted" style={{ height }} data-testid="metric-chart-empty">
          No finished steps with {keys.map(metricLabel).join(" or ")} yet.
        </p>
      ) : (
        <LinesChart lines={lines} xAxis={xAxis} height={height} />
      )}
    </section>
  );
}
