/**
 * A user's policy in memory: its training client, the sampler holding its current weights and the
 * SDPO teacher, opened on first use and restored from the policy's latest checkpoint row after a
 * restart. Training is serial per policy: a step is claimed from the queue (claimNextQueued lets
 * one step of a policy run at a time, across instances too), trained, its state saved, and the
 * new adapter version, its checkpoint row and "done" written in one transaction, so a crash never
 * loses an applied step and never applies one twice. Then retention lets go of the weights no
 * kept version needs (lib/agent/adapter-retention.ts).
 */
import type { Config } from "@/lib/config";
import { log } from "@/lib/log";
import type { Db } from "@/lib/db/client";
import { getVersionByNumber, recordAdapterVersion, setVersionCheckpoint } from "@/lib/db/queries/adapter-versions";
import { createCheckpoint } from "@/lib/db/queries/checkpoints";
import { claimNextQueued, markTrainingStepDone, markTrainingStepFailed } from "@/lib/db/queries/training-steps";
import type { Policy, TrainingStep } from "@/lib/db/schema";
import {
  capabilitiesOf,
  dbCheckpointStore,
  openPolicy,
  selectTeacher,
  sdpoConfigFromSettings,
  trainStep,
  type StepBatch,
  type TeacherSource,
} from "@/lib/sdpo";
import type { RewardBaseline } from "@/lib/sdpo/advantages";
import type { SamplingClient, TrainingBackend, TrainingClient } from "@/lib/training/types";
import { pruneVersionWeights } from "./adapter-retention";

export type OpenedPolicy = {
  policy: Policy;
  trainer: TrainingClient | null;
  sampler: SamplingClient;
  teacher: TeacherSource | null;
  /** Optimizer steps the weights have taken. */
  step: number;
  /** The adapter version these weights are (policy.version when they were opened or trained). */
  version: number;
  baseline: RewardBaseline;
};

/** What one claimed step came to. */
export type StepResult =
  | { status: "done"; row: TrainingStep; metrics: Record<string, number> }
  | { status: "failed"; row: TrainingStep; error: string };

/** A policy's opened clients, how many calls are using them, and whether they were dropped or freed. */
type Entry = {
  policyId: string;
  training: boolean;
  opening: Promise<OpenedPolicy>;
  inUse: number;
  retired: boolean;
  released: boolean;
};

export class PolicyRuntime {
  private readonly opened = new Map<string, Entry>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly deps: {
      db: Db;
      backend: TrainingBackend;
      /** Seeds a fresh adapter's initialisation (a benchmark's fixed seed); unset, the backend's default. */
      seed?: number;
    },
  ) {}

  /**
   * Runs `fn` with the policy's clients, opened on first use (resuming its latest checkpoint).
   * They stay usable until `fn` settles even if the policy is forgotten meanwhile (a restore, a
   * failed step, training turned on or off): their memory is released after the last use.
   */
  async use<T>(policy: Policy, config: Config, fn: (opened: OpenedPolicy) => Promise<T>): Promise<T> {
    let entry = this.entry(policy, config);
    // The policy moved on since it was opened here (the row, read fresh by the caller, is at a
    // newer version: another instance trained it, or an undo, restore or reset made a version
    // with other weights): reopen from its current checkpoint, or this instance would sample
    // stale weights and train the next step from an old state.
    const opened = await entry.opening.catch(() => null);
    if (opened && opened.version < policy.version) {
      this.forget(policy.id);
      entry = this.entry(policy, config);
    }
    entry.inUse++;
    try {
      return await fn(await entry.opening);
    } finally {
      entry.inUse--;
      this.releaseIfUnused(entry);
    }
  }

  /** Drops the in-memory clients; the next use reopens from the latest checkpoint. */
  forget(policyId: string): void {
    const entry = this.opened.get(policyId);
    if (!entry) return;
    this.opened.delete(policyId);
    this.retire(entry);
  }

  private entry(policy: Policy, config: Config): Entry {
    const cached = this.opened.get(policy.id);
    // Turning training on or off changes what is opened (a trainer, or a sampler alone).
    if (cached && cached.training === config.training) return cached;
    if (cached) this.retire(cached);
    const opening = this.open(policy, config);
    const entry: Entry = {
      policyId: policy.id,
      training: config.training,
      opening,
      inUse: 0,
      retired: false,
      released: false,
    };
    this.opened.set(policy.id, entry);
    opening.catch(() => {
      if (this.opened.get(policy.id) === entry) this.opened.delete(policy.id);
    });
    return entry;
  }

  private retire(entry: Entry): void {
    entry.retired = true;
    this.releaseIfUnused(entry);
  }

  /** A retired entry nobody is using gives its adapter, snapshots and teachers back to the backend. */
  private releaseIfUnused(entry: Entry): void {
    if (!entry.retired || entry.inUse > 0 || entry.released) return;
    entry.released = true;
    void entry.opening.then(
      (opened) =>
        opened.trainer
          ?.release?.()
          .catch((error: unknown) => log.warn("policy.release_failed", { policyId: entry.policyId, error })),
      () => undefined, // a client that failed to open holds nothing
    );
  }

  private async open(policy: Policy, config: Config): Promise<OpenedPolicy> {
    const { db, backend } = this.deps;
    const store = dbCheckpointStore({ db, ownerId: policy.ownerId, policyId: policy.id });
    // The configured --checkpoint is where the policy started; once it has saved states of its
    // own, the newest of those is where it is now. A policy reset to the base model (a version
    // with no checkpoint) starts from a fresh adapter, --checkpoint or not.
    const latest = config.training ? await store.latest() : null;
    const newest =
      !latest && policy.version > 0
        ? await getVersionByNumber({ db, ownerId: policy.ownerId, policyId: policy.id, number: policy.version })
        : null;
    const reset = config.training && newest?.event === "reset";
    const opened = await openPolicy({
      backend,
      model: policy.baseModel,
      rank: policy.loraRank,
      seed: this.deps.seed,
      checkpoint: latest || reset ? undefined : config.checkpoint,
      store,
      enableTraining: config.training,
    });
    const teacher = opened.trainer
      ? await selectTeacher({
          backend,
          baseModel: policy.baseModel,
          trainer: opened.trainer,
          student: opened.sampler,
          step: opened.step,
          settings: config,
        })
      : null;
    return {
      policy,
      trainer: opened.trainer,
      sampler: opened.sampler,
      teacher,
      step: opened.step,
      version: policy.version,
      baseline: { count: 0, mean: 0 },
    };
  }

  /** Runs `fn` after every earlier queue run of this policy in this process has finished. */
  serialise<T>(policyId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(policyId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.queues.set(policyId, settled);
    void settled.then(() => {
      if (this.queues.get(policyId) === settled) this.queues.delete(policyId);
    });
    return next;
  }

  /**
   * Claims the policy's next queued step and trains it on the batch `build` makes from its
   * corrections. Null when nothing could be claimed (nothing queued, or a step is running).
   */
  async runNext({
    policy,
    config,
    build,
    onClaimed,
  }: {
    policy: Policy;
    config: Config;
    build: (row: TrainingStep, opened: OpenedPolicy) => Promise<StepBatch>;
    onClaimed?: (row: TrainingStep) => Promise<void>;
  }): Promise<StepResult | null> {
    const { db } = this.deps;
    const row = await claimNextQueued({ db, policyId: policy.id });
    if (!row) return null;
    await onClaimed?.(row);
    try {
      return await this.use(policy, config, (opened) => this.train(policy, config, row, opened, build));
    } catch (error) {
      // The in-memory weights may hold half a step: reopen from the last checkpoint next time.
      this.forget(policy.id);
      return this.fail(row, error instanceof Error ? error.message : String(error));
    }
  }

  /** One claimed step on the opened clients: train, save, then the checkpoint row and "done" together. */
  private async train(
    policy: Policy,
    config: Config,
    row: TrainingStep,
    opened: OpenedPolicy,
    build: (row: TrainingStep, opened: OpenedPolicy) => Promise<StepBatch>,
  ): Promise<StepResult> {
    const { db } = this.deps;
    if (!opened.trainer || !opened.teacher) return await this.fail(row, "training is off (--no-training)");
    const batch = await build(row, opened);
    const ctx = {
      trainer: opened.trainer,
      student: opened.sampler,
      teacher: opened.teacher,
      capabilities: capabilitiesOf(this.deps.backend),
      step: opened.step,
      baseline: opened.baseline,
    };
    const outcome = await trainStep(ctx, batch, sdpoConfigFromSettings(config));
    switch (outcome.status) {
      case "trained": {
        // Weights first, then the version, its checkpoint row and "done" together: a crash in
        // between leaves the step running (re-queued at start-up) and the old version current.
        // The step's place on the axis is the version's number, never the optimizer's count,
        // which an undo takes back.
        const name = `version-${String(opened.version + 1).padStart(6, "0")}`;
        const statePath = await opened.trainer.saveState(name);
        const { done, version } = await db.transaction(async (tx) => {
          const version = await recordAdapterVersion({
            db: tx,
            version: {
              ownerId: policy.ownerId,
              policyId: policy.id,
              event: "trained",
              sourceVersion: opened.version,
              trainingStepId: row.id,
              optimizerStep: outcome.step,
            },
          });
          const saved = await createCheckpoint({
            db: tx,
            ownerId: policy.ownerId,
            policyId: policy.id,
            step: outcome.step,
            version: version.number,
            origin: "step",
            name,
            path: statePath,
            kind: "state",
          });
          await setVersionCheckpoint({ db: tx, id: version.id, checkpointId: saved.id });
          const marked = await markTrainingStepDone({
            db: tx,
            id: row.id,
            step: version.number,
            optimizerStep: outcome.step,
            metrics: outcome.metrics,
          });
          if (!marked) throw new Error(`training step ${row.id} was no longer running when it finished`);
          return { done: marked, version: { ...version, checkpointId: saved.id } };
        });
        opened.sampler = outcome.student;
        opened.step = outcome.step;
        opened.version = version.number;
        opened.baseline = outcome.baseline;
        await pruneVersionWeights({
          db,
          ownerId: policy.ownerId,
          policyId: policy.id,
          currentCheckpointId: version.checkpointId,
          retention: config,
        }).catch((error: unknown) => log.warn("retention.prune_failed", { policyId: policy.id, error }));
        return { status: "done", row: done, metrics: outcome.metrics };
      }
      case "skipped":
      case "rejected":
        return await this.fail(row, `${outcome.status}: ${outcome.reason}`);
      default: {
        const never: never = outcome;
        throw new Error(`unknown step outcome ${String(never)}`);
      }
    }
  }

  private async fail(row: TrainingStep, error: string): Promise<StepResult> {
    const failed = await markTrainingStepFailed({ db: this.deps.db, id: row.id, error });
    return { status: "failed", row: failed ?? { ...row, status: "failed", error }, error };
  }
}
