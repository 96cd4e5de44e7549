/**
 * What message.meta holds: what kind of row a message is and how it was made. One flat object of
 * optional fields, grouped below by the rows that carry them (a tool row's call, an assistant
 * row's prompt layout, a correction's links); appendMessage checks it with `messageMetaSchema`
 * before the row is written, so a misspelt key or a wrong type fails there, not in a later reader.
 */
import { z } from "zod";
import { PARSE_ERROR_REASONS } from "@/lib/chat/types";
import { STOP_REASONS } from "@/lib/training/types";

/** message.meta.kind, by role. Assistant rows carry none: their shape says what they are. */
export const MESSAGE_KINDS = [
  "episode", // system: the start of an episode (a new conversation, or "/c")
  "task", // user: what the person asked
  "nudge", // user: the agent's reminder after a reply with several tool calls
  "correction", // user: a denial's reason or a corrected answer, as the agent reads it
  "result", // tool: a call's output
  "denied", // tool: what a denied call returns to the agent
  "interrupted", // tool: what a call that was running when its process died returns
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Which rows a sampled prompt held, stored as the assistant message's `meta.context`. */
export const promptLayoutSchema = z.object({
  /** Seqs of the rows in the prompt, in order. */
  seqs: z.array(z.number().int()),
  /** How many rows were elided, and the seq the marker follows (the task); 0 / null when none. */
  elided: z.number().int().min(0),
  markerAfter: z.number().int().nullable(),
});
export type PromptLayout = z.infer<typeof promptLayoutSchema>;

export const messageMetaSchema = z.strictObject({
  kind: z.enum(MESSAGE_KINDS).optional(),

  // Tool rows: the call this row answers, and how long its output was before clipping.
  callId: z.string().optional(),
  toolName: z.string().optional(),
  outputChars: z.number().int().min(0).optional(),

  // Correction rows: the denied call, or the correction row and the final answer it corrects.
  toolCallId: z.string().optional(),
  correctionId: z.string().optional(),
  answerMessageId: z.string().optional(),

  // Assistant rows: the prompt it was sampled from (a training step rebuilds exactly that), the
  // episode's task, why sampling stopped, the adapter version that sampled it, and what was wrong
  // with a reply that never entered the conversation.
  context: promptLayoutSchema.optional(),
  task: z.string().optional(),
  stopReason: z.enum(STOP_REASONS).optional(),
  policyStep: z.number().int().min(0).optional(),
  parseError: z.object({ reason: z.enum(PARSE_ERROR_REASONS), detail: z.string() }).optional(),
  multipleToolCalls: z.number().int().min(2).optional(),

  // Any row: left out of prompts (a parse error, a multi-call reply, a rewound turn) and by which rewind.
  excluded: z.boolean().optional(),
  rewoundBy: z.string().optional(),
});
export type MessageMeta = z.infer<typeof messageMetaSchema>;
