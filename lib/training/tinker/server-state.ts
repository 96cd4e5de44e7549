/**
 * The in-memory parts of the Tinker-protocol server: futures (an id per submitted operation,
 * answered `try_again` while it runs, 410 once forgotten) and each model's seq_id queue, which
 * runs a model's requests one at a time in seq_id order and holds a request until every smaller
 * id has arrived, as the Tinker service does (tinker-api.md §4.1).
 */

/** An error that is the caller's fault: reported with category "user". */
export class UserError extends Error {}

/** An error answered directly with an HTTP status. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

type Outcome = { state: "done"; value: unknown } | { state: "failed"; error: string; category: "user" | "server" };

export type FutureAnswer = { state: "pending" } | { state: "expired" } | { state: "unknown" } | Outcome;

export class FutureStore {
  private counter = 0;
  private readonly entries = new Map<string, { outcome: Outcome | null; settled: Promise<void> }>();

  constructor(private readonly maxEntries: number) {}

  /** Registers an operation and returns its request id. */
  create(work: Promise<unknown>): string {
    const id = `req-${++this.counter}`;
    const entry: { outcome: Outcome | null; settled: Promise<void> } = { outcome: null, settled: Promise.resolve() };
    entry.settled = work.then(
      (value) => void (entry.outcome = { state: "done", value }),
      (error: unknown) =>
        void (entry.outcome = {
          state: "failed",
          error: error instanceof Error ? error.message : String(error),
          category: error instanceof UserError ? "user" : "server",
        }),
    );
    this.entries.set(id, entry);
    this.evict();
    return id;
  }

  /** The outcome, or "pending" if the operation did not finish within `waitMs` (a long poll). */
  async answer(id: string, waitMs: number): Promise<FutureAnswer> {
    const entry = this.entries.get(id);
    if (!entry) return this.wasIssued(id) ? { state: "expired" } : { state: "unknown" };
    if (entry.outcome === null && waitMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([entry.settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
    }
    return entry.outcome ?? { state: "pending" };
  }

  /** Forgets a future, as if its promise had expired (a later poll gets 410). */
  forget(id: string): void {
    this.entries.delete(id);
  }

  private wasIssued(id: string): boolean {
    const n = Number(/^req-(\d+)$/.exec(id)?.[1]);
    return Number.isInteger(n) && n >= 1 && n <= this.counter;
  }

  /** Drops the oldest finished futures once over capacity; running ones are never dropped. */
  private evict(): void {
    if (this.entries.size <= this.maxEntries) return;
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      if (entry.outcome !== null) this.entries.delete(id);
    }
  }
}

/** How many finished seq_ids a model remembers, so a resubmitted id gets the original outcome. */
const REMEMBERED_SEQ_IDS = 64;

export class SeqQueue {
  private next: number;
  private running = false;
  private readonly waiting = new Map<number, { start: () => void; cancel: (error: Error) => void }>();
  private closed = false;
  private readonly outcomes = new Map<number, Promise<unknown>>();

  constructor(firstSeqId: number) {
    this.next = firstSeqId;
  }

  /** The lowest seq_id not yet run: what the model is waiting for. */
  get expected(): number {
    return this.next;
  }

  /**
   * Runs `work` when every smaller seq_id has run. A seq_id seen before shares the first
   * submission's outcome instead of running twice.
   */
  submit<T>(seqId: number, work: () => Promise<T>): Promise<T> {
    const seen = this.outcomes.get(seqId);
    if (seen) return seen as Promise<T>;
    if (this.closed) throw new HttpError(404, "the model was unloaded");
    if (!Number.isInteger(seqId) || seqId < this.next) {
      throw new HttpError(409, `seq_id ${seqId} already ran and is no longer remembered (next expected: ${this.next})`);
    }
    const outcome = new Promise<T>((resolve, reject) => {
      this.waiting.set(seqId, { start: () => void Promise.resolve().then(work).then(resolve, reject), cancel: reject });
    });
    this.outcomes.set(seqId, outcome);
    this.pump();
    return outcome;
  }

  private pump(): void {
    if (this.running) return;
    const entry = this.waiting.get(this.next);
    if (!entry) return;
    this.waiting.delete(this.next);
    this.running = true;
    const seqId = this.next;
    entry.start();
    void this.outcomes.get(seqId)!.then(
      () => this.advance(),
      () => this.advance(),
    );
  }

  /**
   * Stops the queue: work still waiting for an earlier seq_id fails, new work is refused, and the
   * promise resolves once the work already running has finished (so the model can be freed).
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const { cancel } of this.waiting.values()) cancel(new HttpError(404, "the model was unloaded"));
    this.waiting.clear();
    const current = this.running ? this.outcomes.get(this.next) : undefined;
    await current?.catch(() => undefined);
  }

  private advance(): void {
    this.running = false;
    this.next += 1;
    for (const old of this.outcomes.keys()) {
      if (old < this.next - REMEMBERED_SEQ_IDS) this.outcomes.delete(old);
    }
    this.pump();
  }
}
