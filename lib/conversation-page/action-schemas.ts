/**
 * The conversation page's server-action inputs. Owner ids never come from the browser: the actions add
 * the signed-in user. An edited diff arrives as text (the server turns it into the tool's
 * arguments, see preview.ts); edited arguments of the other tools arrive as a JSON object.
 */
import { z } from "zod";
import { rememberSchema } from "@/lib/agent/schemas";

const id = z.string().trim().min(1, "missing id").max(200);
const correction = z.string().trim().min(1, "A correction is required.").max(20_000);

export const startConversationInputSchema = z.strictObject({ workspaceId: id });
export const sendMessageInputSchema = z.strictObject({
  conversationId: id,
  text: z.string().trim().min(1, "The message is empty.").max(200_000),
});

export const sessionDecisionSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("approve"), remember: rememberSchema.optional() }),
  z.strictObject({ kind: z.literal("deny"), correction }),
  // `path`: a write sent to another file than the one proposed (the path as the tool takes it).
  z.strictObject({
    kind: z.literal("edit_text"),
    text: z.string().max(2 * 1024 * 1024),
    path: z.string().trim().min(1, "The path is empty.").max(4096).optional(),
    correction: z.string().trim().max(20_000).optional(),
  }),
  z.strictObject({
    kind: z.literal("edit_args"),
    args: z.record(z.string(), z.unknown()),
    correction: z.string().trim().max(20_000).optional(),
  }),
  // One choice per hunk of the proposal's diff, in order; a rejected hunk may say why.
  z.strictObject({
    kind: z.literal("review_hunks"),
    hunks: z
      .array(z.strictObject({ accept: z.boolean(), correction: z.string().trim().max(20_000).optional() }))
      .min(1)
      .max(10_000),
  }),
]);
export type SessionDecision = z.infer<typeof sessionDecisionSchema>;

export const decideInputSchema = z.strictObject({ toolCallId: id, decision: sessionDecisionSchema });
export const failureCorrectionInputSchema = z.strictObject({
  toolCallId: id,
  correction: z.string().trim().max(20_000).optional(),
});
export const answerCorrectionInputSchema = z.strictObject({ conversationId: id, messageId: id, correction });
export const deleteRuleInputSchema = z.strictObject({ ruleId: id });
export const setAutoApproveInputSchema = z.strictObject({ enabled: z.boolean() });
export const resumeInputSchema = z.strictObject({ conversationId: id });
export const rewindInputSchema = z.strictObject({
  conversationId: id,
  messageId: id,
  mode: z.enum(["code", "conversation", "both"]),
});
export const undoRewindInputSchema = z.strictObject({ conversationId: id, rewindId: id });
