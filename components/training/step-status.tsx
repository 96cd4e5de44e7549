"use client";
/**
 * StepStatus: a table of training steps, newest first: status (queued, running, done, failed
 * with its error), optimizer step, when it was queued, how long it ran, and its loss and KL.
 *
 * Props:
 *   steps  StepView[] in queue order (from useTrainingStream)
 *   limit  rows shown (default 50; the count of the rest is stated, never silently dropped)
 */
import type { StepView } from "@/lib/charts/series";

const STATUS_CLASS: Record<StepView["status"], string> = {
  queued: "text-muted",
  running: "text-warn",
  done: "text-ok",
  failed: "text-danger",
};

function seconds(from: string | null, to: string | null): string {
  if (!from || !to) return "";
  return `${((Date.parse(to) - Date.parse(from)) / 1000).toFixed(1)} s`;
}

function metric(value: number | undefined): string {
  return value === undefined ? "" : Number(value.toPrecision(4)).toString();
}

export function StepStatus({ steps, limit = 50 }: { steps: StepView[]; limit?: number }) {
  const shown = steps.slice(-limit).reverse();
  if (steps.length === 0) {
    return (
      <p className="panel p-3 text-muted" data-testid="step-status-empty">
        No training steps yet. Each correction you give the agent queues one.
      </p>
    );
  }
  return (
    <section className="panel" data-testid="step-status">
      <table className="w-full text-left">
        <thead className="text-muted">
          <tr>
            <th className="px-3 py-1.5 font-normal">Status</th>
            <th className="px-3 py-1.5 font-normal">Step</th>
            <th className="px-3 py-1.5 font-normal">Queued</th>
            <th className="px-3 py-1.5 font-normal">Ran</th>
            <th className="px-3 py-1.5 font-normal">loss</th>
            <th className="px-3 py-1.5 font-normal">sdpo_kl</th>
            <th className="px-3 py-1.5 font-normal">Error</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-border">
          {shown.map((s) => (
            <tr key={s.id} data-testid="step-row" data-status={s.status}>
              <td className={`px-3 py-1 ${STATUS_CLASS[s.status]}`}>{s.status}</td>
              <td className="px-3 py-1 font-mono">{s.step ?? ""}</td>
              <td className="px-3 py-1 text-muted">{s.queuedAt.slice(0, 19).replace("T", " ")}</td>
              <td className="px-3 py-1 text-muted">{seconds(s.startedAt, s.finishedAt)}</td>
              <td className="px-3 py-1 font-mono">{metric(s.metrics?.loss)}</td>
              <td className="px-3 py-1 font-mono">{metric(s.metrics?.sdpo_kl)}</td>
              <td className="max-w-md truncate px-3 py-1 text-danger" title={s.error ?? undefined}>
                {s.error ?? ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {steps.length > shown.length && (
        <p className="border-t border-border px-3 py-1.5 text-muted">
          Showing the latest {shown.length} of {steps.length} steps; the export has them all.
        </p>
      )}
    </section>
  );
}
