/**
 * SDPO for continualcode: a correction on a sampled tool call becomes one self-distillation step.
 * trainStep is the single step over any TrainingBackend; the agent's PolicyRuntime
 * (lib/agent/policy-runtime.ts) drives it, for the app and the learning benchmark alike. What
 * other layers use is exported here; the pure pieces (teacher context, alignment, advantages,
 * datums, metrics) are imported from their own modules.
 */
export { trainStep, type DenialExample, type RewardExample, type StepBatch } from "./train-step";
export type { LossMode, SDPOConfig, TeacherMode } from "./config";
export type { RewardBaseline } from "./advantages";
export { selectTeacher, type TeacherSource } from "./teachers";
export { denialExample, fitToWindow, type Correction } from "./denial-example";
export { capabilitiesOf, lossFnFor } from "./capabilities";
export { dbCheckpointStore } from "./checkpoints";
export { openPolicy, type OpenedPolicy } from "./resume";
export { sdpoConfigFromSettings } from "./settings";
