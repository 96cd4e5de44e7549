"use client";
/**
 * The per-user training dashboard: live steps from useTrainingStream, a series picker, the shared
 * smoothing and x-axis controls, one MetricChart per picked series, export links (CSV, JSON) and
 * the StepStatus table, with each policy's adapter timeline (undo, restore, reset) above it. A
 * user with several policies picks one (all by default). The stream's snapshot carries the whole
 * history (up to 10,000 steps; charts downsample what they draw).
 */
import { useState } from "react";
import { AdapterTimeline } from "@/components/history/adapter-timeline";
import { useTrainingStream } from "@/hooks/use-training-stream";
import { SERIES, type SeriesId, type XAxisMode } from "@/lib/charts/series";
import { DEFAULT_SMOOTHING } from "@/lib/charts/smoothing";
import { ChartControls } from "./chart-controls";
import { MetricChart } from "./metric-chart";
import { StepStatus } from "./step-status";

const DEFAULT_SERIES: SeriesId[] = ["loss", "sdpo_kl", "probes", "advantages", "entropy"];
const HISTORY = 10_000;

export function TrainingDashboard({ policies }: { policies: { id: string; name: string }[] }) {
  const [policyId, setPolicyId] = useState<string>("");
  const [picked, setPicked] = useState<Set<SeriesId>>(() => new Set(DEFAULT_SERIES));
  const [smoothing, setSmoothing] = useState(DEFAULT_SMOOTHING);
  const [xAxis, setXAxis] = useState<XAxisMode>("step");
  const { steps, status } = useTrainingStream({ policyId: policyId || undefined, replay: HISTORY });

  const toggle = (id: SeriesId) =>
    setPicked((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <div className="flex flex-col gap-3">
      <div className="panel flex flex-wrap items-center gap-x-5 gap-y-2 p-2">
        <fieldset className="flex flex-wrap items-center gap-3" data-testid="series-picker">
          <legend className="sr-only">Series</legend>
          {SERIES.map((s) => (
            <label key={s.id} className="flex items-center gap-1">
              <input
                type="checkbox"
                checked={picked.has(s.id)}
                onChange={() => toggle(s.id)}
                data-testid={`series-${s.id}`}
              />
              {s.label}
            </label>
          ))}
        </fieldset>
        <ChartControls smoothing={smoothing} onSmoothing={setSmoothing} xAxis={xAxis} onXAxis={setXAxis} />
        {policies.length > 1 && (
          <select
            className="input"
            value={policyId}
            onChange={(e) => setPolicyId(e.target.value)}
            data-testid="policy-select"
          >
            <option value="">All policies</option>
            {policies.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        )}
        <div className="ml-auto flex items-center gap-2">
          <span className="text-muted" data-testid="stream-status">
            {status}
          </span>
          <a className="btn" href="/api/training-steps/export?format=csv" download data-testid="export-csv">
            CSV
          </a>
          <a className="btn" href="/api/training-steps/export?format=json" download data-testid="export-json">
            JSON
          </a>
        </div>
      </div>
      {steps.length === 0 && status === "connecting" ? (
        <p className="panel p-6 text-center text-muted" data-testid="dashboard-loading">
          Loading training steps…
        </p>
      ) : steps.length === 0 ? (
        <p className="panel p-6 text-center text-muted" data-testid="dashboard-empty">
          No training yet. When you deny a tool call with a correction, the agent trains on it and its curves appear
          here.
        </p>
      ) : (
        <div className="grid grid-cols-1 gap-3 lg:grid-cols-2">
          {SERIES.filter((s) => picked.has(s.id)).map((s) => (
            <MetricChart key={s.id} steps={steps} keys={s.keys} title={s.label} smoothing={smoothing} xAxis={xAxis} />
          ))}
        </div>
      )}
      {(policyId ? policies.filter((p) => p.id === policyId) : policies).map((p) => (
        <div key={p.id} className="panel" data-testid="dashboard-timeline" data-policy={p.name}>
          <AdapterTimeline policyId={p.id} refreshKey={steps.map((s) => `${s.id}:${s.status}`).join(",")} />
        </div>
      ))}
      <h2 className="label">Steps</h2>
      <StepStatus steps={steps} />
    </div>
  );
}
