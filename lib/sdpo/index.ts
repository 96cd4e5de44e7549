/**
 * SDPO for continualcode: a correction on a sampled tool call becomes one self-distillation step.
 * SDPOSession is the high-level API (the original's ContinualSDPOSession); trainStep is the
 * single step over any TrainingBackend; the pure pieces (teacher context, alignment, advantages,
 * datums, metrics) are exported for the agent, the trainer and the dashboard.
 */
export { SDPOSession, type Completion, type SampleOutcome, type SDPOSessionOptions, type TrainResult } from "./session";
export {
  trainStep,
  type DenialExample,
  type RewardExample,
  type SampledCompletion,
  type StepBatch,
  type StepContext,
  type StepOutcome,
} from "./train-step";
export {
  DEFAULT_SDPO_CONFIG,
  DEFAULT_TEMPLATES,
  adamFor,
  sdpoConfig,
  type LossMode,
  type SDPOConfig,
  type TeacherMode,
  type TeacherTemplates,
} from "./config";
export { buildReprompt, buildTeacherMessages, fillTemplate, firstUserMessage, type TeacherInput } from "./teacher";
export { completionRowPositions, sliceCompletionLogprobs } from "./align";
export { adaptiveGain, clipAdvantagesByRatio, rlAdvantage, sdpoCredit, type RewardBaseline } from "./advantages";
export { assertDatumShape, buildDatum, type DatumInput } from "./datum";
export { creditMetrics, meanRowEntropy, meanRowReverseKl, nllMetrics } from "./metrics";
export { createTeacher, fixedTeacher, type TeacherSource } from "./teachers";
export {
  assertLossModeSupported,
  capabilitiesOf,
  hasGradientControl,
  lossFnFor,
  TINKER_CAPABILITIES,
  type GradientControl,
} from "./capabilities";
export { dbCheckpointStore, fileCheckpointStore, type CheckpointRecord, type CheckpointStore } from "./checkpoints";
export { openPolicy, type OpenedPolicy, type OpenPolicyOptions } from "./resume";
export { enqueueSdpoStep, recordSdpoStep, runQueuedStep, type RecordableOutcome } from "./step-record";
export { sdpoConfigFromSettings, sessionOptionsFromSettings } from "./settings";
