/**
 * The database's own thread (started by PgliteThread through startTsWorker). PGlite runs Postgres
 * compiled to wasm: every query executes synchronously and its rows are parsed in JavaScript, so on
 * the thread that answers HTTP requests a burst of queries stalls every request behind it. Here it
 * stalls only this thread. Requests run one at a time in arrival order; PgliteThread decides which
 * belong to a transaction.
 */
import { parentPort, workerData } from "node:worker_threads";
import { PGlite, type ParserOptions } from "@electric-sql/pglite";
import {
  serializeError,
  type PgliteReply,
  type PgliteRequest,
  type PgliteWorkerData,
  type QueryResult,
} from "./protocol";

function textParsers(typeIds: number[]): ParserOptions {
  const keep = (value: string) => value;
  return Object.fromEntries(typeIds.map((id) => [id, keep]));
}

function plainResult(result: {
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
}): QueryResult {
  return { rows: result.rows, fields: result.fields, affectedRows: result.affectedRows };
}

async function handle(db: PGlite, request: PgliteRequest): Promise<PgliteReply> {
  switch (request.op) {
    case "query": {
      const result = await db.query(request.sql, request.params, {
        rowMode: request.rowMode,
        parsers: textParsers(request.textTypes),
      });
      return { id: request.id, op: "result", result: plainResult(result) };
    }
    case "exec":
      return { id: request.id, op: "results", results: (await db.exec(request.sql)).map(plainResult) };
    case "close":
      await db.close();
      return { id: request.id, op: "closed" };
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("lib/db/pglite-thread/worker.ts must run in a worker thread");
  const { dataDir } = (workerData as { data: PgliteWorkerData }).data;
  let db: PGlite;
  try {
    db = dataDir === "memory" ? new PGlite() : new PGlite(dataDir);
    await db.waitReady;
  } catch (err) {
    port.postMessage({ id: 0, op: "failed", error: serializeError(err) } satisfies PgliteReply);
    return;
  }
  port.on("message", (request: PgliteRequest) => {
    handle(db, request).then(
      (reply) => port.postMessage(reply),
      (err: unknown) =>
        port.postMessage({ id: request.id, op: "error", error: serializeError(err) } satisfies PgliteReply),
    );
  });
  port.postMessage({ id: 0, op: "ready" } satisfies PgliteReply);
}

void main();
