"use client";
/**
 * The admin's team view: one line per user for one selected metric (a user who has not trained yet
 * still gets a row in the table), with the shared smoothing and x-axis controls. It receives metrics only (user email, step, finish time, metric values):
 * no ids, errors, files or conversations of other users ever reach the browser.
 */
import { useMemo, useState } from "react";
import { metricLine, type PlottedStep, SERIES_KEYS, type XAxisMode } from "@/lib/charts/series";
import { DEFAULT_SMOOTHING } from "@/lib/charts/smoothing";
import { formatMetric, metricLabel } from "@/lib/sdpo/metric-names";
import { ChartControls } from "./chart-controls";
import { LinesChart } from "./lines-chart";

export type TeamMember = { email: string; steps: PlottedStep[] };

export function TeamView({ members }: { members: TeamMember[] }) {
  const keys = useMemo(() => {
    const logged = new Set(members.flatMap((m) => m.steps.flatMap((s) => Object.keys(s.metrics ?? {}))));
    return [...SERIES_KEYS.filter((k) => logged.has(k)), ...[...logged].filter((k) => !SERIES_KEYS.includes(k)).sort()];
  }, [members]);
  const [metric, setMetric] = useState<string>(() => keys[0] ?? "loss");
  const [smoothing, setSmoothing] = useState(DEFAULT_SMOOTHING);
  const [xAxis, setXAxis] = useState<XAxisMode>("step");
  const lines = useMemo(
    () =>
      members
        .map((m) => ({ email: m.email, line: metricLine(m.steps, metric, { xAxis, smoothing }) }))
        .filter((m) => m.line.raw.length > 0)
        .map((m) => ({ id: m.email, label: m.email, points: m.line.smoothed, raw: m.line.raw })),
    [members, metric, xAxis, smoothing],
  );

  return (
    <div className="flex flex-col gap-3">
      <div className="panel flex flex-wrap items-center gap-x-5 gap-y-2 p-2">
        <label className="flex items-center gap-2">
          <span className="label">Metric</span>
          <select
            className="input"
            value={metric}
            onChange={(e) => setMetric(e.target.value)}
            data-testid="team-metric-select"
          >
            {(keys.length > 0 ? keys : ["loss"]).map((k) => (
              <option key={k} value={k}>
                {metricLabel(k)}
              </option>
            ))}
          </select>
        </label>
        <ChartControls smoothing={smoothing} onSmoothing={setSmoothing} xAxis={xAxis} onXAxis={setXAxis} />
      </div>
      <section className="panel p-2" data-testid="team-chart">
        {lines.length === 0 ? (
          <p className="p-6 text-center text-muted" data-testid="team-empty">
            No one has finished a training step with {metricLabel(metric)} yet.
          </p>
        ) : (
          <LinesChart lines={lines} xAxis={xAxis} height={360} />
        )}
      </section>
      <table className="panel w-full text-left" data-testid="team-table">
        <thead className="text-muted">
          <tr>
            <th className="px-3 py-1.5 font-normal">User</th>
            <th className="px-3 py-1.5 font-normal">Finished steps</th>
            <th className="px-3 py-1.5 font-normal">Latest {metricLabel(metric)}</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-border">
          {members.map((m) => {
            const last = m.steps.findLast((s) => typeof s.metrics?.[metric] === "number");
            return (
              <tr key={m.email} data-testid="team-row">
                <td className="px-3 py-1 font-mono text-xs">{m.email}</td>
                <td className="px-3 py-1">{m.steps.length}</td>
                <td className="px-3 py-1 font-mono">{last ? formatMetric(last.metrics![metric]!) : ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
