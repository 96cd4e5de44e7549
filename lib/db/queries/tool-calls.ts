// Server code: proposed tool calls and what became of them (decision, edited arguments, result,
// timings). Status changes can be guarded with `from`, a compare-and-set that makes a second
// decision on the same call (double click, two tabs) a no-op that returns null.
import { and, asc, eq, inArray } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import type { ToolCallStatus } from "../enums";
import { type ToolCall, toolCall } from "../schema";

export { TOOL_CALL_STATUSES, type ToolCallStatus } from "../enums";

export async function createToolCall({
  db,
  ownerId,
  conversationId,
  messageId,
  name,
  args,
  status = "proposed",
  autoReason,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
  messageId: string;
  name: string;
  args: Record<string, unknown>;
  status?: ToolCallStatus;
  autoReason?: string | null;
}): Promise<ToolCall> {
  const d = await resolveDb(db);
  const [row] = await d
    .insert(toolCall)
    .values({ ownerId, conversationId, messageId, name, args, status, autoReason })
    .returning();
  return row!;
}

export async function getToolCallForOwner({
  db,
  id,
  ownerId,
}: {
  db?: Db;
  id: string;
  ownerId: string;
}): Promise<ToolCall | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .select()
    .from(toolCall)
    .where(and(eq(toolCall.id, id), eq(toolCall.ownerId, ownerId)));
  return row ?? null;
}

export async function listToolCallsByConversation({
  db,
  ownerId,
  conversationId,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
}): Promise<ToolCall[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(toolCall)
    .where(and(eq(toolCall.conversationId, conversationId), eq(toolCall.ownerId, ownerId)))
    .orderBy(asc(toolCall.createdAt), asc(toolCall.id));
}

export type ToolCallPatch = Partial<
  Pick<
    ToolCall,
    "status" | "editedArgs" | "review" | "autoReason" | "decidedAt" | "result" | "startedAt" | "finishedAt"
  >
> & { status?: ToolCallStatus };

/** Applies `patch`; with `from`, only while the call's status is one of those. Null if no match. */
export async function updateToolCall({
  db,
  id,
  ownerId,
  patch,
  from,
}: {
  db?: Db;
  id: string;
  ownerId: string;
  patch: ToolCallPatch;
  from?: readonly ToolCallStatus[];
}): Promise<ToolCall | null> {
  const where = and(eq(toolCall.id, id), eq(toolCall.ownerId, ownerId));
  const d = await resolveDb(db);
  const [row] = await d
    .update(toolCall)
    .set(patch)
    .where(from ? and(where, inArray(toolCall.status, [...from])) : where)
    .returning();
  return row ?? null;
}
