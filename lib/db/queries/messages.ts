// Server code: a conversation's messages, numbered 0, 1, 2… by `seq`. Appending locks the
// conversation row, so concurrent appends (two app instances, a retry racing a decision) queue up
// and each gets the next number instead of colliding on the unique (conversation, seq) index.
import { and, asc, eq, getTableColumns, sql } from "drizzle-orm";
import { AppError } from "@/lib/errors";
import { z } from "zod";
import { type Db, resolveDb } from "../client";
import type { MessageRole } from "../enums";
import { type MessageMeta, messageMetaSchema } from "../message-meta";
import { conversation, type Message, message } from "../schema";

export type { MessageRole };

export type NewMessage = {
  role: MessageRole;
  content: string;
  toolCalls?: Message["toolCalls"];
  toolCallId?: string | null;
  promptTokens?: number[] | null;
  completionTokens?: number[] | null;
  completionLogprobs?: number[] | null;
  meta?: MessageMeta | null;
};

/** The meta as it will be stored; a key or a type message-meta.ts does not know is refused. */
function checkedMeta(meta: MessageMeta | null | undefined): MessageMeta | null | undefined {
  if (meta == null) return meta;
  const parsed = messageMetaSchema.safeParse(meta);
  if (!parsed.success) throw new Error(`message meta refused: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export async function appendMessage({
  db,
  ownerId,
  conversationId,
  message: m,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
  message: NewMessage;
}): Promise<Message> {
  const meta = checkedMeta(m.meta);
  const d = await resolveDb(db);
  return d.transaction(async (tx) => {
    // 1. Lock the conversation (and check it is the owner's).
    const [conv] = await tx
      .select({ id: conversation.id })
      .from(conversation)
      .where(and(eq(conversation.id, conversationId), eq(conversation.ownerId, ownerId)))
      .for("update");
    if (!conv) throw new AppError("not_found:conversation");
    // 2. The next number, then the row.
    const [last] = await tx
      .select({ seq: sql<number>`coalesce(max(${message.seq}), -1)::int` })
      .from(message)
      .where(eq(message.conversationId, conversationId));
    const [row] = await tx
      .insert(message)
      .values({ ...m, meta, ownerId, conversationId, seq: (last?.seq ?? -1) + 1 })
      .returning();
    // 3. The conversation moves to the top of its list.
    await tx.update(conversation).set({ updatedAt: new Date() }).where(eq(conversation.id, conversationId));
    return row!;
  });
}

/** The conversation's messages in order; empty when it is not the owner's. */
export async function listMessagesByConversation({
  db,
  ownerId,
  conversationId,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
}): Promise<Message[]> {
  const d = await resolveDb(db);
  return d
    .select()
    .from(message)
    .where(and(eq(message.conversationId, conversationId), eq(message.ownerId, ownerId)))
    .orderBy(asc(message.seq));
}

/** A message as the conversation page shows it: its token arrays (training's) left in the database, their lengths read. */
export type MessageSummary = Omit<Message, "promptTokens" | "completionTokens" | "completionLogprobs"> & {
  promptTokenCount: number | null;
  completionTokenCount: number | null;
};

/** The conversation's messages in order, without their token arrays (the page's read, many times per turn). */
export async function listMessageSummariesByConversation({
  db,
  ownerId,
  conversationId,
}: {
  db?: Db;
  ownerId: string;
  conversationId: string;
}): Promise<MessageSummary[]> {
  const d = await resolveDb(db);
  const { promptTokens, completionTokens, completionLogprobs: _logprobs, ...columns } = getTableColumns(message);
  return d
    .select({
      ...columns,
      promptTokenCount: sql<number | null>`jsonb_array_length(${promptTokens})`.mapWith(Number),
      completionTokenCount: sql<number | null>`jsonb_array_length(${completionTokens})`.mapWith(Number),
    })
    .from(message)
    .where(and(eq(message.conversationId, conversationId), eq(message.ownerId, ownerId)))
    .orderBy(asc(message.seq));
}

export async function getMessageForOwner({
  db,
  id,
  ownerId,
}: {
  db?: Db;
  id: string;
  ownerId: string;
}): Promise<Message | null> {
  const d = await resolveDb(db);
  const [row] = await d
    .select()
    .from(message)
    .where(and(eq(message.id, id), eq(message.ownerId, ownerId)));
  return row ?? null;
}
