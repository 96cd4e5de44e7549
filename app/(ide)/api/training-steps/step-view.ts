/** A training-step row as the dashboard's routes send it: dates as ISO text. */
import type { StepView } from "@/lib/charts/series";
import type { TrainingStep } from "@/lib/db/schema";

export function toStepView(row: TrainingStep): StepView {
  return {
    id: row.id,
    policyId: row.policyId,
    step: row.step,
    status: row.status,
    error: row.error,
    queuedAt: row.queuedAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
    metrics: row.metrics ?? null,
  };
}
