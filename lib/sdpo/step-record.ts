/**
 * Persists SDPO steps through the training-step queue, so nothing a user did lives only in memory:
 * the row is queued before the step runs, claimed (running), and finished as done with the metrics
 * and the policy's new step count, or failed with the reason (a rejected or crashed step). The
 * database is passed in; this is the one module of lib/sdpo that writes to it.
 */
import type { Db } from "@/lib/db/client";
import type { TrainingStep } from "@/lib/db/schema";
import {
  claimNextQueued,
  enqueueTrainingStep,
  markTrainingStepDone,
  markTrainingStepFailed,
} from "@/lib/db/queries/training-steps";

/** What a step run reports back: the trained metrics and step count, or why nothing was trained. */
export type RecordableOutcome =
  | { status: "trained"; metrics: Record<string, number>; step: number }
  | { status: "skipped" | "rejected"; reason: string };

export interface EnqueueStepInput {
  db: Db;
  ownerId: string;
  policyId: string;
  conversationId?: string | null;
  lossFn: string;
  correctionIds?: string[];
}

export function enqueueSdpoStep(input: EnqueueStepInput): Promise<TrainingStep> {
  return enqueueTrainingStep(input);
}

/**
 * Claims the policy's next queued step (oldest first, none while one is running), runs it and
 * records the result. Null when there was nothing to claim. A thrown error fails the row and is
 * rethrown.
 */
export async function runQueuedStep<O extends RecordableOutcome>({
  db,
  policyId,
  run,
}: {
  db: Db;
  policyId: string;
  run: (row: TrainingStep) => Promise<O>;
}): Promise<{ row: TrainingStep; outcome: O } | null> {
  const claimed = await claimNextQueued({ db, policyId });
  if (!claimed) return null;
  let outcome: O;
  try {
    outcome = await run(claimed);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await markTrainingStepFailed({ db, id: claimed.id, error: message });
    throw error;
  }
  const row =
    outcome.status === "trained"
      ? await markTrainingStepDone({ db, id: claimed.id, step: outcome.step, metrics: outcome.metrics })
      : await markTrainingStepFailed({ db, id: claimed.id, error: `${outcome.status}: ${outcome.reason}` });
  if (!row) throw new Error(`training step ${claimed.id} was no longer running when it finished`);
  return { row, outcome };
}

/**
 * Queues one step and runs it at once, for a caller that is its policy's only trainer (the
 * interactive session). Steps of the policy left queued by an earlier process that stopped are
 * older than this one, nobody else will run them, and their episode is gone: they are failed as
 * interrupted on the way, the same way failStaleTrainingSteps treats orphaned running steps.
 */
export async function recordSdpoStep<O extends RecordableOutcome>(
  input: EnqueueStepInput,
  run: () => Promise<O>,
): Promise<{ row: TrainingStep; outcome: O }> {
  const queued = await enqueueSdpoStep(input);
  for (;;) {
    const result = await runQueuedStep({
      db: input.db,
      policyId: input.policyId,
      run: async (row): Promise<O | { status: "skipped"; reason: string }> =>
        row.id === queued.id
          ? run()
          : { status: "skipped", reason: "interrupted: left queued by a process that stopped" },
    });
    if (!result) {
      await markTrainingStepFailed({ db: input.db, id: queued.id, error: "another step of this policy is running" });
      throw new Error("another step of this policy is running; the new step was marked failed");
    }
    if (result.row.id === queued.id) return result as { row: TrainingStep; outcome: O };
  }
}
