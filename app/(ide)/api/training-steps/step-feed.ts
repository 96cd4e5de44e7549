/**
 * Server code: a live feed of one user's training steps for the SSE route. It replays the latest
 * steps, then re-reads the user's unfinished and newer steps whenever something may have changed
 * and hands on only rows whose status or timestamps moved. "May have changed" comes from two
 * places: this process's agent events (a training_step event is published as a step is queued,
 * starts, finishes or fails: an immediate push), and a slow timer, because with several app
 * instances on one PostgreSQL the trainer may run in another process whose events never reach
 * this one. Both only trigger a database read scoped to the user, so neither can leak rows.
 */
import type { EventListener } from "@/lib/agent/events";
import type { StepView } from "@/lib/charts/series";
import type { Db } from "@/lib/db/client";
import type { TrainingStep } from "@/lib/db/schema";
import { listLatestStepsForOwner, listStepsForOwnerFromSeq } from "@/lib/db/queries/training-steps";
import { toStepView } from "./step-view";

/** Fallback re-check period: slow enough to cost nothing, fast enough for a human watching. */
export const RECHECK_INTERVAL_MS = 5_000;
export const DEFAULT_REPLAY = 500;
const PAGE = 1000;

const TERMINAL = new Set(["done", "failed"]);

/** Remembers what was sent per step and where the unfinished steps start in the queue. */
export class StepChangeTracker {
  private readonly sent = new Map<string, { seq: number; signature: string }>();
  private nextSeq = 0;

  /** Queue position from which a re-check must read: the oldest unfinished step, else past the newest. */
  get watermark(): number {
    let low = this.nextSeq;
    for (const s of this.sent.values()) if (!TERMINAL.has(s.signature.split("|")[0]!) && s.seq < low) low = s.seq;
    return low;
  }

  /** The rows that differ from what was sent, recorded as sent; finished rows below the watermark are forgotten. */
  changed(rows: readonly TrainingStep[]): TrainingStep[] {
    const out: TrainingStep[] = [];
    for (const row of rows) {
      const signature = `${row.status}|${row.startedAt?.getTime() ?? ""}|${row.finishedAt?.getTime() ?? ""}`;
      if (this.sent.get(row.id)?.signature !== signature) out.push(row);
      this.sent.set(row.id, { seq: row.queueSeq, signature });
      if (row.queueSeq >= this.nextSeq) this.nextSeq = row.queueSeq + 1;
    }
    const mark = this.watermark;
    for (const [id, s] of this.sent) if (s.seq < mark) this.sent.delete(id);
    return out;
  }
}

/**
 * Calls `onSnapshot` with the latest `replay` steps, then `onChanges` with each batch of changed
 * steps until `signal` aborts. Returns once the snapshot was sent.
 */
export async function watchOwnerSteps({
  db,
  ownerId,
  replay = DEFAULT_REPLAY,
  intervalMs = RECHECK_INTERVAL_MS,
  signal,
  onSnapshot,
  onChanges,
  onError,
  subscribe,
}: {
  db: Db;
  ownerId: string;
  replay?: number;
  intervalMs?: number;
  signal: AbortSignal;
  onSnapshot: (steps: StepView[]) => void;
  onChanges: (steps: StepView[]) => void;
  onError: (error: unknown) => void;
  /** Where this process's agent events come from: the runtime's event bus (its subscribeAll). */
  subscribe: (listener: EventListener) => () => void;
}): Promise<void> {
  const tracker = new StepChangeTracker();
  let checking = false;
  let again = false;
  const recheck = async (): Promise<void> => {
    if (signal.aborted) return;
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    try {
      do {
        again = false;
        for (;;) {
          const rows = await listStepsForOwnerFromSeq({ db, ownerId, fromSeq: tracker.watermark, limit: PAGE });
          const changed = tracker.changed(rows);
          if (changed.length > 0 && !signal.aborted) onChanges(changed.map(toStepView));
          if (rows.length < PAGE) break;
        }
      } while (again && !signal.aborted);
    } catch (error) {
      onError(error);
    } finally {
      checking = false;
    }
  };

  // Listen before reading, so a change between the snapshot and the subscription is not missed.
  const unsubscribe = subscribe((event) => {
    if (event.type === "training_step") void recheck();
  });
  const timer = setInterval(() => void recheck(), intervalMs);
  signal.addEventListener(
    "abort",
    () => {
      unsubscribe();
      clearInterval(timer);
    },
    { once: true },
  );

  const latest = await listLatestStepsForOwner({ db, ownerId, limit: replay });
  tracker.changed(latest);
  onSnapshot(latest.map(toStepView));
  void recheck();
}
