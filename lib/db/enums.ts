/**
 * The closed sets the database stores as text, each defined once as a const array with its union
 * type derived from it. lib/db/schema.ts hands each column its array, so drizzle types the column
 * and a CHECK constraint makes the database itself refuse any other value; adding a value is one
 * entry here plus a generated migration. Only lib/training/types (plain data) is imported, for the
 * lists that are the training backends' words, so the browser may use these too.
 */
import { BACKEND_KINDS, LOSS_FN_NAMES } from "@/lib/training/types";

/** user.role: the first account becomes admin. */
export const USER_ROLES = ["admin", "user"] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** conversation.state: where the agent loop is. */
export const CONVERSATION_STATES = ["idle", "sampling", "proposed", "executing", "training", "failed"] as const;
export type ConversationState = (typeof CONVERSATION_STATES)[number];

/** message.role */
export const MESSAGE_ROLES = ["system", "user", "assistant", "tool"] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** tool_call.status: proposed → a decision → executing → an outcome. */
export const TOOL_CALL_STATUSES = [
  "proposed",
  "approved",
  "auto_approved",
  "denied",
  "edited",
  "executing",
  "succeeded",
  /** Ran as asked and exited non-zero: its output went back to the agent as an observation. */
  "observed",
  "failed",
  /** Was executing when its process died (recovery marks it). */
  "interrupted",
] as const;
export type ToolCallStatus = (typeof TOOL_CALL_STATUSES)[number];

/**
 * correction.kind: a denied call, an edited one, a failed one, a corrected final answer (no tool
 * call: its correction message names the answer); "approval" records the RL signal of an approved
 * call (no text to learn from beyond the reward).
 */
export const CORRECTION_KINDS = ["denial", "edit", "tool_failure", "answer", "approval"] as const;
export type CorrectionKind = (typeof CORRECTION_KINDS)[number];

/** policy.backend: where the adapter trains. */
export const POLICY_BACKENDS = BACKEND_KINDS;
export type PolicyBackend = (typeof POLICY_BACKENDS)[number];

/** training_step.status: queued → running → done | failed. */
export const TRAINING_STEP_STATUSES = ["queued", "running", "done", "failed"] as const;
export type TrainingStepStatus = (typeof TRAINING_STEP_STATUSES)[number];

/** training_step.loss_fn: the backend loss the step trains with. */
export const TRAINING_STEP_LOSS_FNS = LOSS_FN_NAMES;

/** checkpoint.origin: saved after a training step (pruned by retention), or by the user (kept). */
export const CHECKPOINT_ORIGINS = ["step", "manual"] as const;
export type CheckpointOrigin = (typeof CHECKPOINT_ORIGINS)[number];

/** checkpoint.kind: weights and optimizer state, sampler weights only, or a PEFT adapter export. */
export const CHECKPOINT_KINDS = ["state", "sampler", "peft"] as const;
export type CheckpointKind = (typeof CHECKPOINT_KINDS)[number];

/**
 * adapter_version.event: what made a version: a training step, an undo of one (back to the
 * version before it), a restore of any kept version, or a reset to the base model.
 */
export const ADAPTER_VERSION_EVENTS = ["trained", "undo", "restore", "reset"] as const;
export type AdapterVersionEvent = (typeof ADAPTER_VERSION_EVENTS)[number];

/** allow_rule.kind: a whole tool, a path glob, or a bash command prefix. */
export const ALLOW_RULE_KINDS = ["tool", "path", "bash_prefix"] as const;
export type AllowRuleKind = (typeof ALLOW_RULE_KINDS)[number];

/** conversation_event.type: what the agent tells the UI. */
export const CONVERSATION_EVENT_TYPES = [
  "message", // a message row was stored (user, assistant, tool, system)
  "tokens", // sampled text of an assistant message
  "proposal", // a tool call awaits a decision
  "decision", // approved, auto-approved, denied, edited
  "tool_started", // a tool began running
  "result", // a tool finished (succeeded or failed)
  "training_step", // queued | running | done | failed
  "state", // the conversation's state changed
  "context", // older turns were elided from the prompt
  "rewind", // code and/or conversation went back to an earlier turn (or a rewind was undone)
  "error", // something needs the user's attention (parse error, step cap, interrupted tool …)
  "probe", // a finished step's version was scored on the user's probes (and judged by the guard)
] as const;
export type ConversationEventType = (typeof CONVERSATION_EVENT_TYPES)[number];

/** lease.kind: one conversation's agent loop, or one policy's training queue. */
export const LEASE_KINDS = ["conversation", "policy"] as const;
export type LeaseKind = (typeof LEASE_KINDS)[number];
