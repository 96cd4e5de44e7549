"use client";
/**
 * Training beside the conversation: the state of this conversation's current step (queued,
 * running, done, failed) from its own stream's training_step events; KL to teacher, loss and mean
 * advantage over every step of the conversation's policy (the weights the agent samples from),
 * live through useTrainingStream; the recent steps; and the last finished step's headline
 * numbers, named and explained, with every raw key it logged behind a disclosure; then the
 * adapter's versions, to undo, restore or reset.
 */
import { AdapterTimeline } from "@/components/history/adapter-timeline";
import { GuardFlags, ProbeCharts, withProbes } from "@/components/probes/probe-panel";
import { MetricChart } from "@/components/training/metric-chart";
import { StepStatus } from "@/components/training/step-status";
import { useTrainingStream } from "@/hooks/use-training-stream";
import type { StepView } from "@/lib/charts/series";
import type { TrainingStep } from "@/lib/db/schema";
import { formatMetric, headline, headlineValues } from "@/lib/sdpo/metric-names";

/** A step as the page knows it: its row, updated by the stream's training_step events. */
export type StepState = Pick<TrainingStep, "id" | "status" | "step" | "lossFn" | "error" | "metrics">;

const CHARTS = [
  { metric: headline("kl"), testId: "kl-chart" },
  { metric: headline("loss"), testId: "loss-chart" },
  { metric: headline("advantage"), testId: "advantage-chart" },
] as const;

const LOSS = headline("loss");
const KL = headline("kl");

export function TrainingPanel({
  steps,
  policyId,
  initial,
}: {
  steps: StepState[];
  policyId: string | null;
  initial: StepView[];
}) {
  const current = steps.at(-1) ?? null;
  const live = useTrainingStream({ initial, ...(policyId ? { policyId } : {}) });
  const policySteps = policyId ? live.steps : initial;
  const last = policySteps.filter((s) => s.status === "done" && s.metrics).at(-1) ?? null;
  const currentMetrics = current?.status === "done" ? current.metrics : null;
  return (
    <div className="flex h-full min-h-0 flex-col overflow-auto" data-testid="training-panel" data-stream={live.status}>
      <h2 className="border-b border-border px-2 py-1 text-xs font-medium uppercase tracking-wide text-muted">
        Training
      </h2>
      <div
        className="border-b border-border px-2 py-1.5 text-[12px]"
        data-testid="training-status"
        data-status={current?.status ?? "none"}
      >
        {current ? (
          <>
            <span
              className={
                current.status === "failed" ? "text-danger" : current.status === "done" ? "text-ok" : "text-warn"
              }
            >
              {current.status}
            </span>
            {current.step !== null ? ` · step #${current.step}` : ""} · {current.lossFn}
            {currentMetrics?.[LOSS.key] !== undefined && (
              <span className="text-muted">
                {" "}
                · {LOSS.name} {formatMetric(currentMetrics[LOSS.key]!)}
              </span>
            )}
            {currentMetrics?.[KL.key] !== undefined && (
              <span className="text-muted">
                {" "}
                · {KL.name} {formatMetric(currentMetrics[KL.key]!)}
              </span>
            )}
            {current.error && <p className="text-danger">{current.error}</p>}
          </>
        ) : (
          <span className="text-muted">
            No training yet: a denial, an edit or a failure correction trains one step.
          </span>
        )}
      </div>
      {CHARTS.map((c) => (
        <div key={c.metric.id} className="border-b border-border" data-testid={c.testId}>
          <MetricChart steps={policySteps} keys={[c.metric.key]} title={c.metric.name} height={120} />
        </div>
      ))}
      <div className="border-b border-border" data-testid="probe-chart">
        <ProbeCharts steps={withProbes(policySteps, steps)} />
        <GuardFlags steps={withProbes(policySteps, steps)} />
      </div>
      <div className="border-b border-border px-2 py-2" data-testid="last-metrics">
        <p className="mb-1 text-[11px] text-muted">Last step{last?.step != null ? ` (#${last.step})` : ""}</p>
        {last?.metrics ? <MetricsTable metrics={last.metrics} /> : <p className="text-[11px] text-muted">none yet</p>}
      </div>
      {/* shrink-0: a scroll container in this flex column would otherwise shrink to its header row. */}
      <div className="shrink-0 overflow-x-auto border-b border-border text-[12px]" data-testid="recent-steps">
        <StepStatus steps={policySteps} limit={5} narrow />
      </div>
      {policyId && (
        <AdapterTimeline
          policyId={policyId}
          refreshKey={policySteps.map((s) => `${s.id}:${s.status}`).join(",")}
          compact
        />
      )}
    </div>
  );
}

/**
 * One step's metrics as people read them: the headline numbers with their names, units and a
 * line each on what they mean, then every key as the trainer logged it, folded away. The /metrics
 * command's dialog shows the same.
 */
export function MetricsTable({ metrics }: { metrics: Record<string, number> }) {
  const keys = Object.keys(metrics).sort();
  return (
    <div className="flex flex-col gap-2">
      <dl className="flex flex-col gap-1.5" data-testid="headline-metrics">
        {headlineValues(metrics).map((m) => (
          <div key={m.id} data-testid="headline-metric" data-key={m.key}>
            <div className="flex items-baseline justify-between gap-2 text-[12px]">
              <dt>{m.name}</dt>
              <dd className="font-mono tabular-nums" data-testid="headline-value">
                {m.value === null ? <span className="text-muted">—</span> : formatMetric(m.value)}
                {m.value !== null && m.unit && <span className="ml-1 font-sans text-muted">{m.unit}</span>}
              </dd>
            </div>
            <p className="text-[11px] leading-snug text-muted">{m.explanation}</p>
          </div>
        ))}
      </dl>
      <details data-testid="raw-metrics">
        <summary className="cursor-pointer text-[11px] text-muted">All {keys.length} values as logged</summary>
        <table className="mt-1 w-full font-mono text-[11px]">
          <tbody>
            {keys.map((k) => (
              <tr key={k} data-testid="raw-metric" data-key={k}>
                <td className="pr-2 text-muted">{k}</td>
                <td className="text-right tabular-nums">{formatMetric(metrics[k]!)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </div>
  );
}
