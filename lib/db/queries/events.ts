// Server code: the per-conversation event log the UI is streamed from. Ids increase, so a client
// that reconnects with the last id it saw (SSE's Last-Event-ID) gets exactly what it missed.
import { and, asc, desc, eq, gt, type SQL } from "drizzle-orm";
import { type Db, resolveDb } from "../client";
import type { ConversationEventType } from "../enums";
import { type ConversationEvent, conversationEvent } from "../schema";

/** The owner's events of one conversation, narrowed by `more`: every read starts along the (conversation, id) index. */
function inConversation(ownerId: string, conversationId: string, ...more: SQL[]): SQL | undefined {
  return and(eq(conversationEvent.conversationId, conversationId), eq(conversationEvent.ownerId, ownerId), ...more);
}

export async function appendEvent({
  db,
  ownerId,
  conversationId,
  type,
  payload,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
  type: ConversationEventType;
  payload: Record<string, unknown>;
}): Promise<ConversationEvent> {
  const d = await resolveDb(db);
  const [row] = await d.insert(conversationEvent).values({ ownerId, conversationId, type, payload }).returning();
  return row!;
}

/** The owner's events of the conversation with id > afterId (0 = from the start), in order. */
export async function listEventsAfter({
  db,
  ownerId,
  conversationId,
  afterId = 0,
  limit = 1000,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
  afterId?: number;
  limit?: number;
}): Promise<ConversationEvent[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(conversationEvent)
    .where(inConversation(ownerId, conversationId, gt(conversationEvent.id, afterId)))
    .orderBy(asc(conversationEvent.id))
    .limit(limit);
}

/** The id of the conversation's newest event (0 for none): one step down the (conversation, id) index. */
export async function getLastEventId({
  db,
  ownerId,
  conversationId,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
}): Promise<number> {
  const d = await resolveDb(db);
  const [row] = await d
    .select({ id: conversationEvent.id })
    .from(conversationEvent)
    .where(inConversation(ownerId, conversationId))
    .orderBy(desc(conversationEvent.id))
    .limit(1);
  return row?.id ?? 0;
}

/** The conversation's newest event of one type, or null: read backwards along the (conversation, id) index. */
export async function getLastEventOfType({
  db,
  ownerId,
  conversationId,
  type,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
  type: ConversationEventType;
}): Promise<ConversationEvent | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .select()
    .from(conversationEvent)
    .where(inConversation(ownerId, conversationId, eq(conversationEvent.type, type)))
    .orderBy(desc(conversationEvent.id))
    .limit(1);
  return row ?? null;
}

/** The conversation's events of one type, oldest first: read along the (conversation, id) index, not every event. */
export async function listEventsOfType({
  db,
  ownerId,
  conversationId,
  type,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
  type: ConversationEventType;
}): Promise<ConversationEvent[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(conversationEvent)
    .where(inConversation(ownerId, conversationId, eq(conversationEvent.type, type)))
    .orderBy(asc(conversationEvent.id));
}
