/**
 * Opens a user's policy at start-up. An explicit `--checkpoint` wins and is never replaced by an
 * auto-resume (the original's bug); otherwise the store's latest state resumes weights, optimizer
 * state and step count; otherwise a fresh adapter. With training off, only a sampler is opened:
 * over the checkpoint's weights when one is given or saved, else over the base model.
 */
import type { SamplingClient, TrainingBackend, TrainingClient } from "@/lib/training/types";
import type { CheckpointStore } from "./checkpoints";

export interface OpenPolicyOptions {
  backend: TrainingBackend;
  model: string;
  rank: number;
  seed?: number;
  /** `--checkpoint`: a state path to start from. */
  checkpoint?: string;
  store?: CheckpointStore;
  enableTraining: boolean;
}

export interface OpenedPolicy {
  trainer: TrainingClient | null;
  sampler: SamplingClient;
  step: number;
  /** Where the weights came from: "checkpoint" (--checkpoint), "resume" (the store), or "fresh". */
  origin: "checkpoint" | "resume" | "fresh";
  statePath: string | null;
}

export async function openPolicy(options: OpenPolicyOptions): Promise<OpenedPolicy> {
  const { backend, model, store } = options;
  // 1. Which state: the explicit checkpoint, else the latest saved one, else none.
  let statePath: string | null = null;
  let step = 0;
  let origin: OpenedPolicy["origin"] = "fresh";
  if (options.checkpoint !== undefined) {
    statePath = options.checkpoint;
    origin = "checkpoint";
    step = (await store?.find(options.checkpoint))?.step ?? 0;
  } else {
    const latest = options.enableTraining ? await store?.latest() : null;
    if (latest) {
      statePath = latest.statePath;
      step = latest.step;
      origin = "resume";
    }
  }
  // 2. Open it.
  if (!options.enableTraining) {
    const sampler = await backend.createSamplingClient(
      statePath === null ? { baseModel: model } : { baseModel: model, modelPath: statePath },
    );
    return { trainer: null, sampler, step, origin, statePath };
  }
  const trainer = await backend.createTrainingClient({
    baseModel: model,
    rank: options.rank,
    seed: options.seed,
    ...(statePath === null ? {} : { fromState: statePath }),
  });
  return { trainer, sampler: await trainer.saveWeightsForSampler(), step, origin, statePath };
}
