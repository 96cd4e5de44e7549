/**
 * Where the teacher's log-probs come from. student: the current student sampler (the original's
 * default, a teacher that moves with every step); ema: an exponential moving average of the
 * student's weights (embedded backend); frozen: a copy of the weights refreshed every K steps (any
 * backend: a named sampler checkpoint where the client cannot snapshot in memory); fixed: a
 * different base model or a checkpoint (`--teacher-model` / `--teacher-checkpoint`), never updated.
 */
import {
  hasTeacherOperations,
  type SamplingClient,
  type TeacherMode,
  type TrainingBackend,
  type TrainingClient,
} from "@/lib/training/types";

export interface TeacherSource {
  readonly mode: TeacherMode | "fixed";
  /** The sampler that scores teacher contexts now. */
  current(): SamplingClient;
  /** After a successful optimizer step: `student` holds the new weights, `step` counts steps taken. */
  afterStep(update: { trainer: TrainingClient; student: SamplingClient; step: number }): Promise<void>;
}

export interface TeacherOptions {
  mode: TeacherMode;
  trainer: TrainingClient;
  student: SamplingClient;
  /** Steps taken so far (names frozen snapshots, phases the refresh). */
  step: number;
  emaTau: number;
  refreshEvery: number;
}

export function fixedTeacher(sampler: SamplingClient): TeacherSource {
  return { mode: "fixed", current: () => sampler, afterStep: async () => {} };
}

async function freeze(trainer: TrainingClient, step: number): Promise<SamplingClient> {
  if (hasTeacherOperations(trainer)) return trainer.snapshotTeacher();
  return trainer.saveWeightsForSampler(`sdpo-teacher-${String(step).padStart(6, "0")}`);
}

export async function createTeacher(options: TeacherOptions): Promise<TeacherSource> {
  const { mode, trainer } = options;
  switch (mode) {
    case "student": {
      let sampler = options.student;
      return {
        mode,
        current: () => sampler,
        afterStep: async ({ student }) => {
          sampler = student;
        },
      };
    }
    case "ema": {
      if (!hasTeacherOperations(trainer)) {
        throw new Error(
          'teacher mode "ema" averages weights in memory and needs the embedded backend; use "student" or "frozen"',
        );
      }
      let sampler: SamplingClient = await trainer.emaTeacher(options.emaTau);
      return {
        mode,
        current: () => sampler,
        afterStep: async () => {
          sampler = await trainer.emaTeacher(options.emaTau);
        },
      };
    }
    case "frozen": {
      if (!(options.refreshEvery >= 1))
        throw new Error(`the frozen teacher's refresh interval must be at least 1 step; got ${options.refreshEvery}`);
      let sampler = await freeze(trainer, options.step);
      return {
        mode,
        current: () => sampler,
        afterStep: async ({ step }) => {
          if (step % options.refreshEvery === 0) sampler = await freeze(trainer, step);
        },
      };
    }
    default: {
      const never: never = mode;
      throw new Error(`unknown teacher mode ${String(never)}`);
    }
  }
}

/** The settings that choose a policy's teacher (lib/config's names). */
export interface TeacherSettings {
  teacherMode: TeacherMode;
  emaTau: number;
  teacherRefreshEvery: number;
  /** `--teacher-model`: another base model's sampler, fixed. */
  teacherModel?: string;
  /** `--teacher-checkpoint`: a sampler over this checkpoint path, fixed (wins over teacherModel alone). */
  teacherCheckpoint?: string;
}

/**
 * The one place a policy's teacher is chosen: a named checkpoint or another base model is a fixed
 * teacher; otherwise the settings' mode over the policy's own weights (a teacher model equal to
 * the policy's base model is no different model, so the mode applies).
 */
export async function selectTeacher({
  backend,
  baseModel,
  trainer,
  student,
  step,
  settings,
}: {
  backend: TrainingBackend;
  baseModel: string;
  trainer: TrainingClient;
  student: SamplingClient;
  step: number;
  settings: TeacherSettings;
}): Promise<TeacherSource> {
  const { teacherCheckpoint, teacherModel } = settings;
  if (teacherCheckpoint !== undefined)
    return fixedTeacher(
      await backend.createSamplingClient({ baseModel: teacherModel ?? baseModel, modelPath: teacherCheckpoint }),
    );
  if (teacherModel !== undefined && teacherModel !== baseModel)
    return fixedTeacher(await backend.createSamplingClient({ baseModel: teacherModel }));
  return createTeacher({
    mode: settings.teacherMode,
    trainer,
    student,
    step,
    emaTau: settings.emaTau,
    refreshEvery: settings.teacherRefreshEvery,
  });
}
