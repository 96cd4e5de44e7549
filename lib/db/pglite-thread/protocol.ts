/**
 * Messages between the database's thread (worker.ts) and the process's other threads (client.ts).
 * Queries carry only plain data: drizzle's result parsers are identity functions for a few type
 * ids (timestamps, dates, intervals and their arrays, kept as text), so the type ids cross instead.
 */

export type PgliteWorkerData = {
  /** PGlite's data directory, or "memory". */
  dataDir: string;
};

export type RowMode = "array" | "object";

export type PgliteRequest =
  | { id: number; op: "query"; sql: string; params: unknown[]; rowMode: RowMode; textTypes: number[] }
  | { id: number; op: "exec"; sql: string }
  | { id: number; op: "close" };

/** What drizzle reads of a result: the rows, their fields and the count an update touched. */
export type QueryResult = {
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
};

/** A driver error's fields that callers read (SQLSTATE in `code`, the violated constraint, ...). */
export type SerializedDbError = {
  message: string;
  fields: Record<string, string | number | undefined>;
};

export type PgliteReply =
  | { id: 0; op: "ready" }
  | { id: 0; op: "failed"; error: SerializedDbError }
  | { id: number; op: "result"; result: QueryResult }
  | { id: number; op: "results"; results: QueryResult[] }
  | { id: number; op: "closed" }
  | { id: number; op: "error"; error: SerializedDbError };

/** The fields of PostgreSQL's error response that PGlite's DatabaseError carries. */
const ERROR_FIELDS = [
  "code",
  "severity",
  "detail",
  "hint",
  "position",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "routine",
] as const;

export function serializeError(err: unknown): SerializedDbError {
  const message = err instanceof Error ? err.message : String(err);
  const fields: SerializedDbError["fields"] = {};
  if (typeof err === "object" && err !== null) {
    for (const key of ERROR_FIELDS) {
      const value = (err as Record<string, unknown>)[key];
      if (typeof value === "string" || typeof value === "number") fields[key] = value;
    }
  }
  return { message, fields };
}

/** An Error with the driver's fields, thrown where the query was made (that stack is the useful one). */
export function deserializeError(error: SerializedDbError): Error {
  return Object.assign(new Error(error.message), error.fields);
}
