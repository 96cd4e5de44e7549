/**
 * The one process-wide slot, where the process's runtime (lib/runtime.ts) lives. It is on
 * globalThis because Next.js gives each route bundle, and instrumentation.ts, its own copy of
 * every module: a module-level variable would mean one database, agent and event bus per bundle,
 * and PGlite allows one opener per data directory. Only lib/runtime.ts fills it; lib/db/client.ts
 * reads its database for queries called without one.
 */
import type { Db } from "@/lib/db/client";

/** What the slot's readers below lib/runtime need of the runtime. */
export type SlotRuntime = { db: Db };

const SLOT = Symbol.for("continualcode.runtime");
type Holder = { [SLOT]?: Promise<SlotRuntime> };

export const runtimeSlot = {
  current<R extends SlotRuntime>(): Promise<R> | undefined {
    return (globalThis as Holder)[SLOT] as Promise<R> | undefined;
  },
  set<R extends SlotRuntime>(runtime: Promise<R> | undefined): void {
    (globalThis as Holder)[SLOT] = runtime;
  },
};
