/**
 * The agent's public inputs as zod schemas: every entry point parses its argument with one of
 * these first, so the web layer can pass request data straight through and get a bad_request
 * AppError naming the field for anything malformed.
 */
import { z } from "zod";
import { AppError } from "@/lib/errors";
import { callReviewSchema } from "./call-review";

const id = z.string().min(1, "must not be empty").max(200);
const correctionText = z.string().trim().min(1, "a correction is required").max(20_000);

export const startConversationSchema = z.strictObject({ ownerId: id, workspaceId: id });

export const sendUserMessageSchema = z.strictObject({
  ownerId: id,
  conversationId: id,
  text: z.string().trim().min(1, "the message is empty").max(200_000),
});

export const conversationRefSchema = z.strictObject({ ownerId: id, conversationId: id });

/** "Always allow" from an approval: the whole tool, a path glob, or a bash command prefix. */
export const rememberSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("tool") }),
  z.strictObject({ kind: z.literal("path"), pattern: z.string().trim().min(1).max(500) }),
  z.strictObject({ kind: z.literal("bash_prefix"), pattern: z.string().trim().min(1).max(500) }),
]);
export type RememberRule = z.infer<typeof rememberSchema>;

export const decisionSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("approve"), remember: rememberSchema.optional() }),
  z.strictObject({ kind: z.literal("deny"), correction: correctionText }),
  z.strictObject({
    kind: z.literal("edit"),
    args: z.record(z.string(), z.unknown()),
    correction: z.string().trim().max(20_000).optional(),
    /** How the edit came about (hunks rejected, a new path), for the agent's next context. */
    review: callReviewSchema.optional(),
  }),
]);
export type Decision = z.infer<typeof decisionSchema>;

export const decideSchema = z.strictObject({ ownerId: id, toolCallId: id, decision: decisionSchema });

export const failureCorrectionSchema = z.strictObject({
  ownerId: id,
  toolCallId: id,
  /** Absent or blank: the tool's own hint (its feedback) is the correction. */
  correction: z.string().trim().max(20_000).optional(),
});

/** A correction of the agent's final answer (e.g. it claims to have done what it never did). */
export const answerCorrectionSchema = z.strictObject({
  ownerId: id,
  conversationId: id,
  messageId: id,
  correction: correctionText,
});

/** Back to just before one of the episode's task messages: its code, its conversation, or both. */
export const rewindSchema = z.strictObject({
  ownerId: id,
  conversationId: id,
  messageId: id,
  mode: z.enum(["code", "conversation", "both"]),
});
export const undoRewindSchema = z.strictObject({ ownerId: id, conversationId: id, rewindId: id });

/** Parses `input` or throws bad_request naming what is wrong. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ");
    throw new AppError("bad_request:api", detail);
  }
  return parsed.data;
}

export type StartConversationInput = z.input<typeof startConversationSchema>;
export type SendUserMessageInput = z.input<typeof sendUserMessageSchema>;
export type ConversationRef = z.input<typeof conversationRefSchema>;
export type DecideInput = z.input<typeof decideSchema>;
export type FailureCorrectionInput = z.input<typeof failureCorrectionSchema>;
export type AnswerCorrectionInput = z.input<typeof answerCorrectionSchema>;
export type RewindInput = z.input<typeof rewindSchema>;
export type UndoRewindInput = z.input<typeof undoRewindSchema>;
