"use client";
/**
 * ChartControls: the smoothing slider (0 to MAX_SMOOTHING) and the x-axis choice (step or wall time) that
 * every training chart page shares. Controlled: the parent owns the values.
 */
import { MAX_SMOOTHING } from "@/lib/charts/smoothing";
import { X_AXIS_MODES, type XAxisMode } from "@/lib/charts/series";

const AXIS_LABELS: Record<XAxisMode, string> = { step: "Step", wall: "Wall time" };

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
          onChange={(e) => {
            const mode = X_AXIS_MODES.find((m) => m === e.target.value);
            if (mode) onXAxis(mode);
          }}
          data-testid="x-axis-select"
        >
          {X_AXIS_MODES.map((mode) => (
            <option key={mode} value={mode}>
              {AXIS_LABELS[mode]}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}
