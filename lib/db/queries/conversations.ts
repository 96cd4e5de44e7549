// Server code: conversations inside a workspace. A conversation is created only in a workspace
// its owner holds; reads and updates carry ownerId in the WHERE clause, so another user's
// conversation is simply absent (null).
import { and, desc, eq, inArray } from "drizzle-orm";
import { AppError } from "@/lib/errors";
import { type Db, resolveDb } from "../client";
import type { ConversationState } from "../enums";
import { type Conversation, conversation, workspace } from "../schema";

export { CONVERSATION_STATES, type ConversationState } from "../enums";

export async function createConversation({
  db,
  ownerId,
  workspaceId,
  title,
  task,
  policyId,
}: {
  db?: Db;
  ownerId: string;
  workspaceId: string;
  title?: string;
  task?: string | null;
  policyId?: string | null;
}): Promise<Conversation> {
  const d = await resolveDb(db);
  return d.transaction(async (tx) => {
    const [ws] = await tx
      .select({ id: workspace.id })
      .from(workspace)
      .where(and(eq(workspace.id, workspaceId), eq(workspace.ownerId, ownerId)));
    if (!ws) throw new AppError("not_found:workspace");
    const [row] = await tx.insert(conversation).values({ ownerId, workspaceId, title, task, policyId }).returning();
    return row!;
  });
}

/** The workspace's conversations, most recently active first. */
export async function listConversationsByWorkspace({
  db,
  ownerId,
  workspaceId,
}: {
  db?: Db;
  ownerId: string;
  workspaceId: string;
}): Promise<Conversation[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(conversation)
    .where(and(eq(conversation.workspaceId, workspaceId), eq(conversation.ownerId, ownerId)))
    .orderBy(desc(conversation.updatedAt), desc(conversation.id));
}

export async function getConversationForOwner({
  db,
  id,
  ownerId,
}: {
  db?: Db;
  id: string;
  ownerId: string;
}): Promise<Conversation | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .select()
    .from(conversation)
    .where(and(eq(conversation.id, id), eq(conversation.ownerId, ownerId)));
  return row ?? null;
}

/**
 * Moves the conversation to `state`. With `from`, only when it is in one of those states now
 * (a compare-and-set, so two requests cannot both start a step); null when nothing matched.
 */
export async function updateConversationState({
  db,
  id,
  ownerId,
  state,
  from,
}: {
  db?: Db;
  id: string;
  ownerId: string;
  state: ConversationState;
  from?: readonly ConversationState[];
}): Promise<Conversation | null> {
  const d = await resolveDb(db);
  const where = and(eq(conversation.id, id), eq(conversation.ownerId, ownerId));
  const guarded = from ? and(where, inStates(from)) : where;
  const [row] = await d.update(conversation).set({ state }).where(guarded).returning();
  return row ?? null;
}

function inStates(states: readonly ConversationState[]) {
  // inArray with an empty list is "false" in drizzle, which is what an empty `from` should mean.
  return inArray(conversation.state, [...states]);
}

/** Sets the title, the episode's task or the policy; null when the owner has no such conversation. */
export async function updateConversation({
  db,
  id,
  ownerId,
  patch,
}: {
  db?: Db;
  id: string;
  ownerId: string;
  patch: Partial<Pick<Conversation, "title" | "task" | "policyId">>;
}): Promise<Conversation | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .update(conversation)
    .set({ ...patch, updatedAt: new Date() })
    .where(and(eq(conversation.id, id), eq(conversation.ownerId, ownerId)))
    .returning();
  return row ?? null;
}
