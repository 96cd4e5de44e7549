/**
 * The tasks the kernels' threads can run beside matrix products, by name. A task's id (what
 * travels through the mailbox) is its index in TASK_NAMES; threads-table.ts maps each id to its
 * function in every thread. A task's units each own whole outputs, so a task's result does not
 * depend on how many threads share it or which thread runs which unit.
 */
export const TASK_NAMES = [
  "attention-forward",
  "attention-backward",
  "logit-rows",
  "adam-norm",
  "adam-update",
  "elementwise",
] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export function taskId(name: TaskName): number {
  return TASK_NAMES.indexOf(name);
}
