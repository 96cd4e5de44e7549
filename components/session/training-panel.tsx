"use client";
/**
 * Training beside the conversation: the state of this conversation's current step (queued,
 * running, done, failed) from its own stream's training_step events; KL, loss and advantage over
 * every step of the conversation's policy (the weights the agent samples from), live through
 * useTrainingStream; the recent steps; and every metric of the last finished one.
 */
import { MetricChart } from "@/components/training/metric-chart";
import { StepStatus } from "@/components/training/step-status";
import { useTrainingStream } from "@/hooks/use-training-stream";
import type { StepView } from "@/lib/charts/series";
import type { TrainingStep } from "@/lib/db/schema";

/** A step as the page knows it: its row, updated by the stream's training_step events. */
export type StepState = Pick<TrainingStep, "id" | "status" | "step" | "lossFn" | "error" | "metrics">;

const CHARTS = [
  { key: "sdpo_kl", title: "KL (student ‖ teacher)", testId: "kl-chart" },
  { key: "loss", title: "loss", testId: "loss-chart" },
  { key: "credit/adv_mean", title: "advantage (mean)", testId: "advantage-chart" },
] as const;

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(3) : v.toFixed(4);
}

export function TrainingPanel({ steps, policyId, initial }: { steps: StepState[]; policyId: string | null; initial: StepView[] }) {
  const current = steps.at(-1) ?? null;
  const live = useTrainingStream({ initial, ...(policyId ? { policyId } : {}) });
  const policySteps = policyId ? live.steps : initial;
  const last = policySteps.filter((s) => s.status === "done" && s.metrics).at(-1) ?? null;
  return (
    <div className="flex h-full min-h-0 flex-col overflow-auto" data-testid="training-panel" data-stream={live.status}>
      <h2 className="border-b border-border px-2 py-1 text-xs font-medium uppercase tracking-wide text-muted">Training</h2>
      <div className="border-b border-border px-2 py-1.5 text-[12px]" data-testid="training-status" data-status={current?.status ?? "none"}>
        {current ? (
          <>
            <span className={current.status === "failed" ? "text-danger" : current.status === "done" ? "text-ok" : "text-warn"}>{current.status}</span>
            {current.step !== null ? ` · step #${current.step}` : ""} · {current.lossFn}
            {current.status === "done" && current.metrics?.loss !== undefined && <span className="text-muted"> · L={fmt(current.metrics.loss)}</span>}
            {current.status === "done" && current.metrics?.sdpo_kl !== undefined && <span className="text-muted"> · kl={fmt(current.metrics.sdpo_kl)}</span>}
            {current.error && <p className="text-danger">{current.error}</p>}
          </>
        ) : (
          <span className="text-muted">No training yet: a denial, an edit or a failure correction trains one step.</span>
        )}
      </div>
      {CHARTS.map((c) => (
        <div key={c.key} className="border-b border-border" data-testid={c.testId}>
          <MetricChart steps={policySteps} keys={[c.key]} title={c.title} height={110} />
        </div>
      ))}
      <div className="overflow-x-auto border-b border-border text-[11px]" data-testid="recent-steps">
        <StepStatus steps={policySteps} limit={5} />
      </div>
      <div className="px-2 py-1" data-testid="last-metrics">
        <p className="text-[11px] text-muted">Last step&apos;s metrics{last?.step != null ? ` (#${last.step})` : ""}</p>
        {last?.metrics ? <MetricsTable metrics={last.metrics} /> : <p className="text-[11px] text-muted">none yet</p>}
      </div>
    </div>
  );
}

export function MetricsTable({ metrics }: { metrics: Record<string, number> }) {
  return (
    <table className="w-full font-mono text-[11px]">
      <tbody>
        {Object.keys(metrics)
          .sort()
          .map((k) => (
            <tr key={k}>
              <td className="pr-2 text-muted">{k}</td>
              <td className="text-right">{fmt(metrics[k]!)}</td>
            </tr>
          ))}
      </tbody>
    </table>
  );
}
