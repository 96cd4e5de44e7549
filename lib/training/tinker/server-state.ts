/**
 * The in-memory parts of the Tinker-protocol server: futures (an id per submitted operation,
 * answered `try_again` while it runs, 410 once forgotten) and each model's seq_id queue, which
 * runs a model's requests one at a time in seq_id order and holds a request until every smaller
 * id has arrived, as the Tinker service does (tinker-api.md §4.1). A request refused before it was
 * queued still uses up its id (refuse), and a wait on an id that never comes is bounded, so one bad
 * request never stalls the requests after it.
 */

/** An error that is the caller's fault: reported with category "user". */
export class UserError extends Error {}

/** An error answered directly with an HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Malformed-but-parseable input found while converting a body is the caller's 400, not our 500. */
export function badRequestOnThrow<T>(convert: () => T, prefix = ""): T {
  try {
    return convert();
  } catch (error) {
    throw new HttpError(400, `${prefix}${error instanceof Error ? error.message : String(error)}`);
  }
}

type Outcome = { state: "done"; value: unknown } | { state: "failed"; error: string; category: "user" | "server" };

export type FutureAnswer =
  | { state: "pending" }
  | { state: "expired" }
  | { state: "before_restart" }
  | { state: "unknown" }
  | Outcome;

export class FutureStore {
  private counter = 0;
  private readonly entries = new Map<string, { outcome: Outcome | null; settled: Promise<void> }>();

  /**
   * `boot` numbers this server's start on its data directory: request ids carry it, so a poll
   * for an id issued before a restart is told so (and resubmits) instead of meeting a new
   * request that happens to have the same number.
   */
  constructor(
    private readonly maxEntries: number,
    private readonly boot = 1,
  ) {}

  /** Registers an operation and returns its request id. */
  create(work: Promise<unknown>): string {
    const id = `req-${this.boot}-${++this.counter}`;
    const entry: { outcome: Outcome | null; settled: Promise<void> } = { outcome: null, settled: Promise.resolve() };
    entry.settled = work.then(
      (value) => {
        entry.outcome = { state: "done", value };
      },
      (error: unknown) => {
        entry.outcome = {
          state: "failed",
          error: error instanceof Error ? error.message : String(error),
          category: error instanceof UserError ? "user" : "server",
        };
      },
    );
    this.entries.set(id, entry);
    this.evict();
    return id;
  }

  /** The outcome, or "pending" if the operation did not finish within `waitMs` (a long poll). */
  async answer(id: string, waitMs: number): Promise<FutureAnswer> {
    const entry = this.entries.get(id);
    if (!entry) return this.whenIssued(id);
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

  /** For an id with no entry: forgotten by this boot, issued by an earlier one, or never issued. */
  private whenIssued(id: string): FutureAnswer {
    const match = /^req-(\d+)-(\d+)$/.exec(id);
    if (!match) return { state: "unknown" };
    const [boot, n] = [Number(match[1]), Number(match[2])];
    if (boot >= 1 && boot < this.boot) return { state: "before_restart" };
    return boot === this.boot && n >= 1 && n <= this.counter ? { state: "expired" } : { state: "unknown" };
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

/**
 * How long a model waits for a missing seq_id while later ones are queued, counted from the last
 * request that reached the model. A client numbers its requests before it sends them, so an id
 * whose request never arrived (it was lost, or refused before its seq_id could be read) would
 * otherwise hold every later request of the model forever. The SDK submits the chunks of one
 * forward_backward in parallel with the first one last, so while chunks keep arriving the wait
 * restarts; a minute of silence is far past any upload between two of them.
 */
export const DEFAULT_SEQ_GAP_TIMEOUT_MS = 60_000;

/** A queued request that gave up on a missing seq_id. */
export class SeqGapError extends UserError {}

export interface SeqQueueOptions {
  /** See DEFAULT_SEQ_GAP_TIMEOUT_MS. */
  gapTimeoutMs?: number;
}

export class SeqQueue {
  private next: number;
  private running = false;
  private readonly waiting = new Map<number, { start: () => void; cancel: (error: Error) => void }>();
  private closed = false;
  private readonly outcomes = new Map<number, Promise<unknown>>();
  private readonly gapTimeoutMs: number;
  private gapTimer: NodeJS.Timeout | undefined;

  constructor(firstSeqId: number, options: SeqQueueOptions = {}) {
    this.next = firstSeqId;
    this.gapTimeoutMs = options.gapTimeoutMs ?? DEFAULT_SEQ_GAP_TIMEOUT_MS;
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

  /**
   * Consumes `seqId` for a request refused before it could be queued (a malformed body, a
   * parameter out of range): the id counts as run and failed, so the ids after it do not wait
   * for it. An id already queued, run or behind the queue keeps what it had.
   */
  refuse(seqId: number, error: Error): void {
    if (this.closed || !Number.isInteger(seqId) || seqId < this.next || this.outcomes.has(seqId)) return;
    const failed = Promise.reject(error);
    failed.catch(() => undefined);
    this.outcomes.set(seqId, failed);
    this.waiting.set(seqId, { start: () => undefined, cancel: () => undefined });
    this.pump();
  }

  private pump(): void {
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    if (this.running) return;
    const entry = this.waiting.get(this.next);
    if (!entry) {
      // Later ids wait on a missing one: bound the wait.
      if (this.waiting.size > 0) this.gapTimer = setTimeout(() => this.abandonGap(), this.gapTimeoutMs).unref();
      return;
    }
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
   * The missing id never came: it and every id queued behind it fail (nothing after the gap runs,
   * so the weights stay as the last id before it left them), and the model takes new ids again.
   */
  private abandonGap(): void {
    this.gapTimer = undefined;
    if (this.running || this.waiting.has(this.next) || this.waiting.size === 0) return;
    const missing = this.next;
    const last = Math.max(...this.waiting.keys());
    const error = new SeqGapError(
      `seq_id ${missing} never arrived: the requests after it waited ${this.gapTimeoutMs / 1000} s for it and were dropped ` +
        `(seq_ids ${missing}–${last}); the model is as seq_id ${missing - 1} left it, and takes seq_id ${last + 1} next`,
    );
    for (let seqId = missing; seqId <= last; seqId++) {
      const queued = this.waiting.get(seqId);
      if (queued) queued.cancel(error);
      else {
        const failed = Promise.reject(error);
        failed.catch(() => undefined);
        this.outcomes.set(seqId, failed);
      }
    }
    this.waiting.clear();
    this.next = last + 1;
    this.forgetOld();
  }

  /**
   * Stops the queue: work still waiting for an earlier seq_id fails, new work is refused, and the
   * promise resolves once the work already running has finished (so the model can be freed).
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.gapTimer);
    for (const { cancel } of this.waiting.values()) cancel(new HttpError(404, "the model was unloaded"));
    this.waiting.clear();
    const current = this.running ? this.outcomes.get(this.next) : undefined;
    await current?.catch(() => undefined);
  }

  private advance(): void {
    this.running = false;
    this.next += 1;
    this.forgetOld();
    this.pump();
  }

  private forgetOld(): void {
    for (const old of this.outcomes.keys()) {
      if (old < this.next - REMEMBERED_SEQ_IDS) this.outcomes.delete(old);
    }
  }
}
