"use client";
/**
 * ChartControls: the smoothing slider (0–0.99) and the x-axis choice (step or wall time) that
 * every training chart page shares. Controlled: the parent owns the values.
 */
import { MAX_SMOOTHING } from "@/lib/charts/smoothing";
import type { XAxisMode } from "@/lib/charts/series";

export function ChartControls({
  smoothing,
  onSmoothing,
  xAxis,
  onXAxis,
}: {
  smoothing: number;
  onSmoothing: (v: number) => void;
  xAxis: XAxisMode;
  onXAxis: (v: XAxisMode) => void;
}) {
  return (
    <>
      <label className="flex items-center gap-2">
        <span className="label">Smoothing</span>
        <input
          type="range"
          min={0}
          max={MAX_SMOOTHING}
          step={0.01}
          value={smoothing}
          onChange={(e) => onSmoothing(Number(e.target.value))}
          data-testid="smoothing-slider"
        />
        <span className="w-8 font-mono">{smoothing.toFixed(2)}</span>
      </label>
      <label className="flex items-center gap-2">
        <span className="label">X axis</span>
        <select
          className="input"
          value={xAxis}
          onChange={(e) => onXAxis(e.target.value as XAxisMode)}
          data-testid="x-axis-select"
        >
          <option value="step">Step</option>
          <option value="wall">Wall time</option>
        </select>
      </label>
    </>
  );
}
