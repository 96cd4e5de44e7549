/**
 * CSV encoding for training-step exports (RFC 4180): a header row, then one row per step with
 * fixed columns followed by every metric key; a metric a step did not log is an empty cell.
 * Fields holding a comma, quote, CR or LF are quoted with quotes doubled; lines end in CRLF.
 */

export type CsvValue = string | number | null | undefined;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "number" ? String(value) : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}

/** The columns every export starts with, before the metric keys. */
export const STEP_COLUMNS = ["id", "step", "status", "queued_at", "finished_at"] as const;

export type ExportStep = {
  id: string;
  step: number | null;
  status: string;
  queuedAt: Date;
  finishedAt: Date | null;
  metrics: Record<string, number> | null;
};

/** The header row: fixed columns, then the metric keys in the order given. */
export function stepCsvHeader(metricKeys: readonly string[]): string {
  return csvRow([...STEP_COLUMNS, ...metricKeys]);
}

export function stepCsvRow(step: ExportStep, metricKeys: readonly string[]): string {
  return csvRow([
    step.id,
    step.step,
    step.status,
    step.queuedAt.toISOString(),
    step.finishedAt?.toISOString(),
    ...metricKeys.map((k) => step.metrics?.[k]),
  ]);
}

/** One step as the flat JSON object the JSON export writes (same columns as the CSV). */
export function stepJsonRecord(
  step: ExportStep,
  metricKeys: readonly string[],
): Record<string, string | number | null> {
  const record: Record<string, string | number | null> = {
    id: step.id,
    step: step.step,
    status: step.status,
    queued_at: step.queuedAt.toISOString(),
    finished_at: step.finishedAt?.toISOString() ?? null,
  };
  for (const k of metricKeys) record[k] = step.metrics?.[k] ?? null;
  return record;
}
