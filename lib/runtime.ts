/**
 * The process's runtime: its database, training backend, agent (which holds the policy runtime
 * and the event bus), the live trainers the settings actions reach, and auth. Created once at
 * start-up (instrumentation.ts calls getRuntime() before the first request) and passed down:
 * pages, actions and routes take what they need from it, and lib below this module receives
 * those parts as arguments. Tests and scripts make their own with createRuntime.
 *
 * getRuntime() keeps it in the one process-wide slot (lib/runtime-slot.ts says why it is on
 * globalThis); a failed start is forgotten, so the next request tries again.
 */
import { Agent } from "@/lib/agent/agent";
import type { EventBus } from "@/lib/agent/events";
import { liveTrainersFromRuntime } from "@/lib/agent/live-trainers";
import type { PolicyRuntime } from "@/lib/agent/policy-runtime";
import { type Auth, buildAuth } from "@/lib/auth/auth";
import { authSecret } from "@/lib/auth/secret";
import { createDb, type Db, type DbHandle } from "@/lib/db/client";
import { runtimeSlot } from "@/lib/runtime-slot";
import {
  type AnyBackend,
  type BackendConfig,
  createTrainingBackend,
  describeBackend,
  operatorBackendConfig,
} from "@/lib/training";
import type { LiveTrainers } from "@/lib/training/checkpoint-actions";

export type Runtime = {
  db: Db;
  backend: AnyBackend;
  /** The operator's configuration the backend was made from (the health probe's). */
  backendConfig: BackendConfig;
  agent: Agent;
  /** The policies' training clients in memory (the agent's). */
  policies: PolicyRuntime;
  /** Where the agent's events reach this process's subscribers (SSE routes, the step feed). */
  events: EventBus;
  /** No other process writes the database (PGlite): every event reaches `events`. */
  soleWriter: boolean;
  /** The policies' live clients as the checkpoint and history actions use them. */
  liveTrainers: LiveTrainers;
  auth: Auth;
  /** Is training possible right now (GET /api/health)? */
  describeBackend: (timeoutMs?: number) => ReturnType<typeof describeBackend>;
  /** Waits for the agent's work, then closes the backend and the database. */
  close: () => Promise<void>;
};

export type RuntimeOptions = {
  /** An open database (a test's); default: DATABASE_URL's PostgreSQL, else PGlite in the data directory. */
  database?: DbHandle;
  /** A backend (a test's); default: the one the operator's configuration names. */
  backend?: AnyBackend;
  env?: Record<string, string | undefined>;
};

export async function createRuntime({ database, backend, env = process.env }: RuntimeOptions = {}): Promise<Runtime> {
  const handle = database ?? (await createDb({ url: env.DATABASE_URL || undefined }));
  try {
    const backendConfig = operatorBackendConfig(env);
    const trainer = backend ?? createTrainingBackend(backendConfig, env);
    const { db } = handle;
    const agent = new Agent({ db, backend: trainer });
    const core = agent.core;
    const auth = buildAuth({ db, secret: await authSecret(db), baseURL: env.BETTER_AUTH_URL || undefined });
    return {
      db,
      backend: trainer,
      backendConfig,
      agent,
      policies: core.runtime,
      events: core.events,
      soleWriter: handle.soleWriter,
      liveTrainers: liveTrainersFromRuntime(
        core.runtime,
        (ownerId) => core.config(ownerId),
        (policyId, ownerId) => core.kickTraining(policyId, ownerId),
      ),
      auth,
      describeBackend: (timeoutMs) => describeBackend(backendConfig, timeoutMs, trainer),
      close: async () => {
        await agent.idle().catch(() => undefined);
        await trainer.close().catch(() => undefined);
        await handle.close();
      },
    };
  } catch (error) {
    if (!database) await handle.close().catch(() => undefined);
    throw error;
  }
}

/** The process's runtime, created on first call (normally instrumentation.ts's, at start-up). */
export function getRuntime(): Promise<Runtime> {
  const current = runtimeSlot.current<Runtime>();
  if (current) return current;
  const starting = createRuntime();
  runtimeSlot.set(starting);
  starting.catch(() => {
    if (runtimeSlot.current() === starting) runtimeSlot.set(undefined);
  });
  return starting;
}

/** Closes the process's runtime (graceful shutdown, tests); the next getRuntime() starts another. */
export async function closeRuntime(): Promise<void> {
  const current = runtimeSlot.current<Runtime>();
  runtimeSlot.set(undefined);
  const runtime = await current?.catch(() => undefined);
  await runtime?.close();
}
