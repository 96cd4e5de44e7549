/**
 * Every task's function, in TASK_NAMES order: the caller and each worker thread look tasks up
 * here. Kept apart from threads.ts so the modules that post tasks do not import the functions
 * they post (which would be an import cycle).
 */
import { adamNormTask, adamUpdateTask } from "./adam";
import { attentionBackwardTask, attentionForwardTask } from "./attention";
import type { TaskFunction } from "./kernels/types";
import { logitRowsTask } from "./loss-pass";
import { elementwiseTask } from "./threads-ops";
import { TASK_NAMES, type TaskName } from "./threads";

const BY_NAME: Record<TaskName, TaskFunction> = {
  "attention-forward": attentionForwardTask,
  "attention-backward": attentionBackwardTask,
  "logit-rows": logitRowsTask,
  "adam-norm": adamNormTask,
  "adam-update": adamUpdateTask,
  elementwise: elementwiseTask,
};

export const TASKS: readonly TaskFunction[] = TASK_NAMES.map((name) => BY_NAME[name]);
