/**
 * This process's leases (lib/db/queries/leases.ts): `run(resource, work)` does the work only if
 * this instance can take the resource's lease, renews it while the work runs and gives it up
 * after. Several instances on one PostgreSQL database so run each conversation's agent loop and
 * each policy's training queue in one place at a time; if an instance dies, its leases expire
 * after `ttlMs` and another takes the work over (lib/agent/recovery.ts).
 *
 * A resource is run once per process too: a second `run` while one is under way does nothing, so
 * "this process holds the lease" always means "this process is doing the work".
 */
import os from "node:os";
import { log } from "@/lib/log";
import type { Db } from "./client";
import { acquireLease, type LeaseResource, releaseLease, releaseLeasesOf, renewLeases } from "./queries/leases";

/** How long a lease outlives its holder's last renewal; renewals come every third of it. */
export const LEASE_TTL_MS = 15_000;

/** host:pid:random — readable in the lease table, and unique even when a pid is reused. */
function newInstanceId(): string {
  return `${os.hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
}

type State = "acquiring" | "held" | "lost";

export type LeaseRun<T> = { ran: true; value: T } | { ran: false };

const keyOf = (r: LeaseResource) => `${r.kind}:${r.id}`;

export class InstanceLeases {
  readonly holder: string;
  readonly ttlMs: number;
  private readonly db: Db;
  /** One entry per run under way; a new run gets a new entry, so a renewal can tell them apart. */
  private readonly states = new Map<string, { state: State }>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private renewing: Promise<void> | null = null;

  constructor({ db, ttlMs = LEASE_TTL_MS, holder = newInstanceId() }: { db: Db; ttlMs?: number; holder?: string }) {
    this.db = db;
    this.ttlMs = ttlMs;
    this.holder = holder;
  }

  /** Is this process doing the resource's work, under a lease it still holds? */
  holds(resource: LeaseResource): boolean {
    return this.states.get(keyOf(resource))?.state === "held";
  }

  /** Is this process doing the resource's work (or about to)? */
  busy(resource: LeaseResource): boolean {
    return this.states.has(keyOf(resource));
  }

  /**
   * Runs `work` holding the resource's lease. `{ ran: false }` without running it when another
   * live instance holds the lease, or this process is already running the resource.
   */
  async run<T>(resource: LeaseResource, work: () => Promise<T>): Promise<LeaseRun<T>> {
    const key = keyOf(resource);
    if (this.states.has(key)) return { ran: false };
    const entry: { state: State } = { state: "acquiring" };
    this.states.set(key, entry);
    let acquired = false;
    try {
      acquired = (await acquireLease({ db: this.db, resource, holder: this.holder, ttlMs: this.ttlMs })) !== null;
      if (!acquired) return { ran: false };
      entry.state = "held";
      this.startRenewing();
      return { ran: true, value: await work() };
    } finally {
      // Released before the entry goes: a run starting meanwhile would take the lease only to
      // have this release delete it under it.
      if (acquired)
        await releaseLease({ db: this.db, resource, holder: this.holder }).catch((error: unknown) =>
          log.warn("lease.release_failed", { resource, error }),
        );
      this.states.delete(key);
      if (this.states.size === 0) this.stopRenewing();
    }
  }

  /** Gives up every lease this process holds (shutdown); work still running is not stopped. */
  async close(): Promise<void> {
    this.stopRenewing();
    await releaseLeasesOf({ db: this.db, holder: this.holder });
  }

  private startRenewing(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.ttlMs / 3)));
    // Renewing has nothing to do once the work is done: never what keeps a process alive.
    this.timer.unref();
  }

  private stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One renewal of every held lease; a held one the database did not renew is lost. */
  private renew(): Promise<void> {
    if (this.renewing) return this.renewing;
    this.renewing = (async () => {
      try {
        const heldBefore = [...this.states].filter(([, e]) => e.state === "held");
        const renewed = new Set(
          (await renewLeases({ db: this.db, holder: this.holder, ttlMs: this.ttlMs })).map(keyOf),
        );
        for (const [key, entry] of heldBefore) {
          if (renewed.has(key) || entry.state !== "held") continue;
          entry.state = "lost";
          log.warn("lease.lost", { lease: key, holder: this.holder });
        }
      } catch (error) {
        // A missed renewal is retried on the next tick; the lease lasts three of them.
        log.warn("lease.renew_failed", { holder: this.holder, error });
      } finally {
        this.renewing = null;
      }
    })();
    return this.renewing;
  }
}
