/**
 * The headline numbers of a training step, by name: what people read first on the training panel,
 * the dashboard and the /metrics dialog. Each names the raw key the trainer logs (train-step.ts),
 * says in one line what it measures and gives its unit; every other key stays available as it was
 * logged, behind a disclosure. Pure data, safe to import in the browser.
 */
import { PROBE_CHARTS } from "./probe-metrics";

export type HeadlineMetric = {
  id: "loss" | "kl" | "advantage" | "tokens" | "step_time";
  /** What people call it. */
  name: string;
  /** The key in the step's flat metrics record. */
  key: string;
  explanation: string;
  unit: "nats per token" | "tokens" | "seconds" | null;
};

export const HEADLINE_METRICS: readonly HeadlineMetric[] = [
  {
    id: "loss",
    name: "Loss",
    key: "loss",
    explanation:
      "What the update minimised, summed over the trained tokens; read its trend, its scale depends on the loss",
    unit: null,
  },
  {
    id: "kl",
    name: "KL to teacher",
    key: "sdpo_kl",
    explanation:
      "How far the agent's choices were from the teacher's, who saw your correction; falls as the agent learns it",
    unit: "nats per token",
  },
  {
    id: "advantage",
    name: "Mean advantage",
    key: "credit/adv_mean",
    explanation:
      "The average push on each trained token: above 0 the teacher preferred the agent's tokens, below 0 it wanted others",
    unit: null,
  },
  {
    id: "tokens",
    name: "Tokens trained",
    key: "sdpo_tokens",
    explanation: "How many of the agent's tokens this step learned from",
    unit: "tokens",
  },
  {
    id: "step_time",
    name: "Step time",
    key: "time/total",
    explanation: "Wall time of the whole step: scoring with the teacher, the update and fresh sampling weights",
    unit: "seconds",
  },
];

const BY_KEY = new Map(HEADLINE_METRICS.map((m) => [m.key, m]));

export function headlineByKey(key: string): HeadlineMetric | undefined {
  return BY_KEY.get(key);
}

export function headline(id: HeadlineMetric["id"]): HeadlineMetric {
  return HEADLINE_METRICS.find((m) => m.id === id)!;
}

const PROBE_NAMES = new Map<string, string>(PROBE_CHARTS.map((c) => [c.key, c.name]));

/** A key as people read it: its headline or probe chart name, or the raw key where it has none. */
export function metricLabel(key: string): string {
  return BY_KEY.get(key)?.name ?? PROBE_NAMES.get(key) ?? key;
}

/** A value for reading: 4 significant digits, exponent notation only for very large or small ones. */
export function formatMetric(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return value.toExponential(2);
  return Number(value.toPrecision(4)).toLocaleString("en-US", { maximumFractionDigits: 6 });
}

export type HeadlineValue = HeadlineMetric & { value: number | null };

/** The headline numbers of one step's metrics, each null where the step did not log it. */
export function headlineValues(metrics: Record<string, number>): HeadlineValue[] {
  return HEADLINE_METRICS.map((m) => ({ ...m, value: typeof metrics[m.key] === "number" ? metrics[m.key]! : null }));
}
