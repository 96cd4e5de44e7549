/**
 * PGlite on its own thread (worker.ts), behind the part of PGlite's interface that drizzle's pglite
 * driver calls: query, exec and transaction. PGlite is one connection, so this side keeps its rule:
 * a transaction holds the connection from BEGIN to COMMIT, and every other query waits for it.
 */
import type { Worker } from "node:worker_threads";
import { startTsWorker } from "../../worker-threads";
import {
  deserializeError,
  type PgliteReply,
  type PgliteRequest,
  type PgliteWorkerData,
  type QueryResult,
  type RowMode,
} from "./protocol";

/** The options drizzle passes with a query: a row shape and per-type parsers. */
export type QueryOptions = { rowMode?: RowMode; parsers?: Record<number, unknown> };

/** What a transaction's callback may call: queries that run inside it. */
export type PgliteTransactionClient = {
  query(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult>;
  exec(sql: string): Promise<QueryResult[]>;
};

type Pending = { resolve: (reply: PgliteReply) => void; reject: (err: Error) => void };

// Distributes Omit over the union, so each request keeps its own fields.
type RequestBody = PgliteRequest extends infer R ? (R extends PgliteRequest ? Omit<R, "id"> : never) : never;

export class PgliteThread implements PgliteTransactionClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** The end of the queue of work holding the connection; never rejects. */
  #tail: Promise<unknown> = Promise.resolve();
  #exited: Error | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on("message", (reply: PgliteReply) => this.#settle(reply));
    worker.on("error", (err) => this.#fail(err));
    worker.on("exit", (code) => this.#fail(new Error(`the database thread exited (code ${code})`)));
    worker.unref();
  }

  /** Starts the thread and waits until PGlite has opened the data directory ("memory": none). */
  static open(dataDir: string): Promise<PgliteThread> {
    const worker = startTsWorker("lib/db/pglite-thread/worker.ts", { dataDir } satisfies PgliteWorkerData);
    return new Promise((resolve, reject) => {
      const onFirst = (reply: PgliteReply) => {
        worker.off("error", onError);
        if (reply.op === "ready") resolve(new PgliteThread(worker));
        else {
          void worker.terminate();
          reject(reply.op === "failed" ? deserializeError(reply.error) : new Error(`unexpected ${reply.op}`));
        }
      };
      const onError = (err: Error) => reject(err);
      worker.once("message", onFirst);
      worker.once("error", onError);
    });
  }

  query(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<QueryResult> {
    return this.#exclusive(() => this.#query(sql, params, options));
  }

  exec(sql: string): Promise<QueryResult[]> {
    return this.#exclusive(() => this.#exec(sql));
  }

  /** Runs `fn` between BEGIN and COMMIT, or ROLLBACK when it throws; nothing else runs meanwhile. */
  transaction<T>(fn: (tx: PgliteTransactionClient) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      await this.#exec("BEGIN");
      const tx: PgliteTransactionClient = {
        query: (sql, params = [], options = {}) => this.#query(sql, params, options),
        exec: (sql) => this.#exec(sql),
      };
      try {
        const result = await fn(tx);
        await this.#exec("COMMIT");
        return result;
      } catch (err) {
        await this.#exec("ROLLBACK");
        throw err;
      }
    });
  }

  /** Closes the database (after queued work) and ends the thread. */
  async close(): Promise<void> {
    if (this.#exited) return;
    try {
      await this.#exclusive(() => this.#send({ op: "close" }));
    } finally {
      await this.#worker.terminate();
    }
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => {});
    return run;
  }

  async #query(sql: string, params: unknown[], options: QueryOptions): Promise<QueryResult> {
    const textTypes = Object.keys(options.parsers ?? {}).map(Number);
    const reply = await this.#send({ op: "query", sql, params, rowMode: options.rowMode ?? "object", textTypes });
    if (reply.op !== "result") throw new Error(`unexpected ${reply.op} for a query`);
    return reply.result;
  }

  async #exec(sql: string): Promise<QueryResult[]> {
    const reply = await this.#send({ op: "exec", sql });
    if (reply.op !== "results") throw new Error(`unexpected ${reply.op} for exec`);
    return reply.results;
  }

  #send(body: RequestBody): Promise<PgliteReply> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = this.#nextId++;
    // Referenced only while a reply is owed: an idle database does not keep the process alive.
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...body, id } as PgliteRequest);
    });
  }

  #settle(reply: PgliteReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (reply.op === "error") pending.reject(deserializeError(reply.error));
    else pending.resolve(reply);
  }

  #fail(err: Error): void {
    this.#exited ??= err;
    for (const pending of this.#pending.values()) pending.reject(err);
    this.#pending.clear();
  }
}
