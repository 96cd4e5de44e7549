/**
 * Server code: one user's training steps as a CSV or JSON byte stream, read from the database
 * one page per pull (keyset on queue order), so a long history never sits in memory and a slow
 * download slows the reads. The columns are decided first: the fixed ones, then every metric key
 * the user has logged.
 */
import { stepCsvHeader, stepCsvRow, stepJsonRecord } from "@/lib/charts/csv";
import type { Db } from "@/lib/db/client";
import { listMetricKeysForOwner, listStepsForOwnerFromSeq } from "@/lib/db/queries/training-steps";

export type ExportFormat = "csv" | "json";

export async function stepExportStream({
  db,
  ownerId,
  format,
  pageSize = 500,
}: {
  db: Db;
  ownerId: string;
  format: ExportFormat;
  pageSize?: number;
}): Promise<ReadableStream<Uint8Array>> {
  const keys = await listMetricKeysForOwner({ db, ownerId });
  const encoder = new TextEncoder();
  let fromSeq = 0;
  let first = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(format === "csv" ? stepCsvHeader(keys) : "["));
    },
    async pull(controller) {
      const rows = await listStepsForOwnerFromSeq({ db, ownerId, fromSeq, limit: pageSize });
      let text = "";
      for (const row of rows) {
        text +=
          format === "csv"
            ? stepCsvRow(row, keys)
            : `${first ? "\n" : ",\n"}${JSON.stringify(stepJsonRecord(row, keys))}`;
        first = false;
        fromSeq = row.queueSeq + 1;
      }
      const done = rows.length < pageSize;
      if (done && format === "json") text += first ? "]\n" : "\n]\n";
      if (text) controller.enqueue(encoder.encode(text));
      if (done) controller.close();
    },
  });
}
