"use client";
/**
 * StepStatus: a table of training steps, newest first: status (queued, running, done, failed
 * with its error), optimizer step, when it was queued, how long it ran, and its headline loss and
 * KL to teacher (named as everywhere else, lib/sdpo/metric-names.ts). A failed step's error gets
 * its own full-width line under the step, so a narrow panel never squeezes it into a cell.
 *
 * Props:
 *   steps   StepView[] in queue order (from useTrainingStream)
 *   limit   rows shown (default 50; the count of the rest is stated, never silently dropped)
 *   narrow  the training panel's column: no queued time, the columns that matter with room to read
 */
import type { StepView } from "@/lib/charts/series";
import { formatMetric, headline } from "@/lib/sdpo/metric-names";

const STATUS_CLASS: Record<StepView["status"], string> = {
  queued: "text-muted",
  running: "text-warn",
  done: "text-ok",
  failed: "text-danger",
};

const LOSS = headline("loss");
const KL = headline("kl");

function seconds(from: string | null, to: string | null): string {
  if (!from || !to) return "";
  return `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)} s`;
}

function metric(value: number | undefined): string {
  return value === undefined ? "" : formatMetric(value);
}

export function StepStatus({
  steps,
  limit = 50,
  narrow = false,
}: {
  steps: StepView[];
  limit?: number;
  narrow?: boolean;
}) {
  const shown = steps.slice(-limit).reverse();
  if (steps.length === 0) {
    return (
      <p className="panel p-3 text-muted" data-testid="step-status-empty">
        No training steps yet. Each correction you give the agent queues one.
      </p>
    );
  }
  const cell = narrow ? "px-2 py-1.5" : "px-3 py-1.5";
  const columns = narrow ? 5 : 6;
  return (
    <section className="panel" data-testid="step-status">
      <table className="w-full text-left tabular-nums">
        <thead className="text-muted">
          <tr className="border-b border-border">
            <th className={`${cell} font-normal`}>Step</th>
            <th className={`${cell} font-normal`}>Status</th>
            {!narrow && <th className={`${cell} font-normal`}>Queued</th>}
            <th className={`${cell} font-normal`}>Ran</th>
            <th className={`${cell} text-right font-normal`} title={LOSS.explanation}>
              {LOSS.name}
            </th>
            <th className={`${cell} text-right font-normal`} title={KL.explanation}>
              {KL.name}
            </th>
          </tr>
        </thead>
        {shown.map((s) => (
          <tbody
            key={s.id}
            className="border-b border-border last:border-b-0"
            data-testid="step-row"
            data-status={s.status}
          >
            <tr>
              <td className={`${cell} font-mono`}>{s.step !== null ? `#${s.step}` : ""}</td>
              <td className={`${cell} ${STATUS_CLASS[s.status]}`}>{s.status}</td>
              {!narrow && <td className={`${cell} text-muted`}>{s.queuedAt.slice(0, 19).replace("T", " ")}</td>}
              <td className={`${cell} whitespace-nowrap text-muted`}>{seconds(s.startedAt, s.finishedAt)}</td>
              <td className={`${cell} text-right font-mono`}>{metric(s.metrics?.[LOSS.key])}</td>
              <td className={`${cell} text-right font-mono`}>{metric(s.metrics?.[KL.key])}</td>
            </tr>
            {s.error && (
              <tr>
                <td colSpan={columns} className={`${cell} pt-0 text-danger`} data-testid="step-error">
                  {s.error}
                </td>
              </tr>
            )}
          </tbody>
        ))}
      </table>
      {steps.length > shown.length && (
        <p className="border-t border-border px-3 py-1.5 text-muted">
          Showing the latest {shown.length} of {steps.length} steps; the export has them all.
        </p>
      )}
    </section>
  );
}
