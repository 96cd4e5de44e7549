/**
 * Rewind: back to the moment just before one of the current episode's task messages was sent.
 *   code         — every workspace file the agent's calls (and earlier rewinds) changed since then
 *                  gets back the bytes and mode it had then, or is deleted when it did not exist;
 *                  files nothing of the agent's touched are left alone.
 *   conversation — that message and everything after leave the model's context (the rows stay,
 *                  marked, so nothing is lost), and the message box is free again.
 *   both         — the two together.
 * A rewind is an event like any other ("rewind", carrying what it changed), and can itself be
 * undone: before it writes a file it captures that file's current image under its own id, and
 * its undo is the same operation the other way round (so an undo can be undone too). Files are
 * written only through lib/workspaces/safe-fs.ts; a workspace that is a git repository is just
 * files to this (its .git is never snapshotted nor written, so its history is untouched).
 * The training steps run since that turn are listed, never undone here: undoing adapter versions
 * is the person's separate choice.
 */
import { randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { getConversationForOwner, updateConversation } from "@/lib/db/queries/conversations";
import { listEventsOfType } from "@/lib/db/queries/events";
import { listMessagesByConversation } from "@/lib/db/queries/messages";
import { listToolCallsByConversation } from "@/lib/db/queries/tool-calls";
import { listTrainingStepsByOwner } from "@/lib/db/queries/training-steps";
import { getWorkspaceForOwner } from "@/lib/db/queries/workspaces";
import type { MessageMeta } from "@/lib/db/message-meta";
import { type Conversation, fileSnapshot, message, type Message, type TrainingStep } from "@/lib/db/schema";
import { AppError } from "@/lib/errors";
import { withToolRoot } from "@/lib/tools/tool-path";
import type { ToolContext } from "@/lib/tools/types";
import { entryBeneath, removeFile, replaceFile, type Root } from "@/lib/workspaces/safe-fs";
import type { AgentCore } from "./core";
import { toAgentEvent } from "./events";
import { blobOf, captureRels, type FileImage } from "./rewind-snapshots";
import { sandboxPolicyFor } from "@/lib/sandbox/policy";

export const REWIND_MODES = ["code", "conversation", "both"] as const;
export type RewindMode = (typeof REWIND_MODES)[number];

/** What a rewind (or its undo) did: the "rewind" event's payload. */
export type RewindRecord = {
  rewindId: string;
  mode: RewindMode;
  /** The task message it went back to (absent for an undo). */
  toMessageId?: string;
  /** The rewind this one undoes. */
  undoes?: string;
  files: { path: string; action: "restored" | "deleted" }[];
  /** Message rows this rewind took out of context, and those it put back. */
  hidden: string[];
  shown: string[];
  /** Training steps of this conversation run since that turn (an undo of those is offered, not done). */
  trainingStepsSince: { id: string; step: number | null; status: string }[];
};

const metaOf = (row: Pick<Message, "meta">): MessageMeta => row.meta ?? {};

/** The task messages of the current episode still in context: the turns a rewind may go back to. */
export function rewindPoints<R extends Pick<Message, "role" | "meta">>(rows: R[]): R[] {
  // The episode starts at its last system message (currentEpisode's rule, for any row shape).
  const episode = rows.slice(
    Math.max(
      0,
      rows.findLastIndex((r) => r.role === "system"),
    ),
  );
  return episode.filter((r) => r.role === "user" && metaOf(r).kind === "task" && !metaOf(r).excluded);
}

/**
 * For each file changed since the turn, its image at that turn: the earliest before-image taken
 * after it (a call's, or a rewind's), since each was captured just before the first change.
 */
function imagesAtTurn(
  snapshots: { path: string; sha256: string | null; mode: number | null; createdAt: Date; id: string }[],
): Map<string, FileImage> {
  const out = new Map<string, FileImage>();
  const ordered = [...snapshots].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id),
  );
  for (const s of ordered) if (!out.has(s.path)) out.set(s.path, { sha256: s.sha256, mode: s.mode });
  return out;
}

/** Puts each image back: its bytes and mode, or deletes the file when it was absent. */
async function restoreImages(
  core: AgentCore,
  ownerId: string,
  root: Root,
  images: Map<string, FileImage>,
): Promise<RewindRecord["files"]> {
  const done: RewindRecord["files"] = [];
  for (const [rel, image] of images) {
    const entry = await entryBeneath(root, rel, { mayCreateDir: () => image.sha256 !== null });
    if (!entry.ok) {
      if (entry.reason === "not_found" && image.sha256 === null) continue;
      throw new AppError("conflict:rewind", `Cannot restore ${rel}: ${entry.error}`);
    }
    try {
      if (image.sha256 === null) {
        if (entry.stat?.isDirectory())
          throw new AppError("conflict:rewind", `Cannot remove ${rel}: it is a folder now`);
        if (entry.stat) {
          await removeFile(entry);
          done.push({ path: rel, action: "deleted" });
        }
        continue;
      }
      if (entry.stat?.isDirectory()) throw new AppError("conflict:rewind", `Cannot restore ${rel}: it is a folder now`);
      await replaceFile(entry, await blobOf(core.db, ownerId, image.sha256), image.mode ?? 0o644);
      done.push({ path: rel, action: "restored" });
    } finally {
      await entry.dir.close();
    }
  }
  return done;
}

async function setHidden(
  core: AgentCore,
  ownerId: string,
  rows: Message[],
  rewindId: string,
  hide: boolean,
): Promise<void> {
  for (const row of rows) {
    const meta = { ...metaOf(row) };
    if (hide) Object.assign(meta, { excluded: true, rewoundBy: rewindId });
    else {
      delete meta.excluded;
      delete meta.rewoundBy;
    }
    await core.db
      .update(message)
      .set({ meta })
      .where(and(eq(message.id, row.id), eq(message.ownerId, ownerId)));
  }
}

async function toolContext(core: AgentCore, conv: Conversation): Promise<ToolContext> {
  const workspace = await getWorkspaceForOwner({ db: core.db, id: conv.workspaceId, ownerId: conv.ownerId });
  if (!workspace) throw new AppError("not_found:workspace");
  const config = await core.config(conv.ownerId);
  return { workspace: workspace.path, sandbox: { mode: core.sandboxMode(config), policy: sandboxPolicyFor(config) } };
}

async function idleConversation(core: AgentCore, ownerId: string, conversationId: string): Promise<Conversation> {
  const conv = await getConversationForOwner({ db: core.db, id: conversationId, ownerId });
  if (!conv) throw new AppError("not_found:conversation");
  if (conv.state !== "idle" && conv.state !== "failed")
    throw new AppError(
      "conflict:conversation",
      "Rewind once the agent has stopped (no call pending, running or training).",
    );
  return conv;
}

/** Files first (a refusal there changes nothing in the conversation), then messages, then the event. */
async function apply(
  core: AgentCore,
  conv: Conversation,
  plan: { mode: RewindMode; images: Map<string, FileImage>; hide: Message[]; show: Message[] },
  record: Omit<RewindRecord, "files" | "hidden" | "shown" | "mode" | "rewindId">,
): Promise<RewindRecord> {
  const rewindId = randomUUID();
  const owner = { db: core.db, ownerId: conv.ownerId, conversationId: conv.id };
  let files: RewindRecord["files"] = [];
  if (plan.images.size > 0) {
    const ctx = await toolContext(core, conv);
    files = await withToolRoot(ctx, async (root) => {
      await captureRels(owner, { rewindId }, root, [...plan.images.keys()]);
      return restoreImages(core, conv.ownerId, root, plan.images);
    });
  }
  await setHidden(core, conv.ownerId, plan.hide, rewindId, true);
  await setHidden(core, conv.ownerId, plan.show, rewindId, false);
  if (plan.hide.length > 0 || plan.show.length > 0) {
    const rows = await listMessagesByConversation({ db: core.db, ownerId: conv.ownerId, conversationId: conv.id });
    const task = rewindPoints(rows).at(-1)?.content ?? null;
    await updateConversation({ db: core.db, id: conv.id, ownerId: conv.ownerId, patch: { task } });
    if (conv.state === "failed") await core.setState(conv, "idle", ["failed"]);
  }
  const full: RewindRecord = {
    rewindId,
    mode: plan.mode,
    ...record,
    files,
    hidden: plan.hide.map((r) => r.id),
    shown: plan.show.map((r) => r.id),
  };
  await core.publish(conv, "rewind", full);
  await core.publish(conv, "state", { state: "idle", rewound: true });
  return full;
}

export async function rewind(
  core: AgentCore,
  {
    ownerId,
    conversationId,
    messageId,
    mode,
  }: { ownerId: string; conversationId: string; messageId: string; mode: RewindMode },
): Promise<RewindRecord> {
  const conv = await idleConversation(core, ownerId, conversationId);
  const rows = await listMessagesByConversation({ db: core.db, ownerId, conversationId });
  const target = rewindPoints(rows).find((r) => r.id === messageId);
  if (!target)
    throw new AppError(
      "not_found:message",
      "Only a task message of this episode that is still in the conversation can be rewound to.",
    );
  const seqOf = new Map(rows.map((r) => [r.id, r.seq]));
  const since = (
    await listTrainingStepsByOwner({ db: core.db, ownerId, policyId: conv.policyId ?? "" }).catch(
      () => [] as TrainingStep[],
    )
  ).filter((s) => s.conversationId === conversationId && s.queuedAt.getTime() >= target.createdAt.getTime());
  let images = new Map<string, FileImage>();
  if (mode !== "conversation") {
    const calls = await listToolCallsByConversation({ db: core.db, ownerId, conversationId });
    const callsSince = calls.filter((c) => (seqOf.get(c.messageId) ?? -1) > target.seq).map((c) => c.id);
    const snaps = await core.db
      .select()
      .from(fileSnapshot)
      .where(and(eq(fileSnapshot.ownerId, ownerId), eq(fileSnapshot.conversationId, conversationId)));
    images = imagesAtTurn(
      snaps.filter((s) =>
        s.toolCallId ? callsSince.includes(s.toolCallId) : s.createdAt.getTime() > target.createdAt.getTime(),
      ),
    );
  }
  const hide = mode === "code" ? [] : rows.filter((r) => r.seq >= target.seq && !metaOf(r).excluded);
  return apply(
    core,
    conv,
    { mode, images, hide, show: [] },
    { toMessageId: messageId, trainingStepsSince: since.map((s) => ({ id: s.id, step: s.step, status: s.status })) },
  );
}

/** The "rewind" events of a conversation, oldest first. */
export async function listRewinds(core: AgentCore, ownerId: string, conversationId: string): Promise<RewindRecord[]> {
  const rows = await listEventsOfType({ db: core.db, ownerId, conversationId, type: "rewind" });
  return rows.map(toAgentEvent).flatMap((e) => (e.type === "rewind" ? [e.payload] : []));
}

/** Undoes a rewind (or an undo): its files get back what they held just before it, its messages their place. */
export async function undoRewind(
  core: AgentCore,
  { ownerId, conversationId, rewindId }: { ownerId: string; conversationId: string; rewindId: string },
): Promise<RewindRecord> {
  const conv = await idleConversation(core, ownerId, conversationId);
  const records = await listRewinds(core, ownerId, conversationId);
  const undone = records.find((r) => r.rewindId === rewindId);
  if (!undone) throw new AppError("not_found:rewind");
  if (records.some((r) => r.undoes === rewindId))
    throw new AppError("conflict:rewind", "This rewind was already undone.");
  const snaps = await core.db
    .select()
    .from(fileSnapshot)
    .where(and(eq(fileSnapshot.ownerId, ownerId), eq(fileSnapshot.rewindId, rewindId)));
  const rows = await listMessagesByConversation({ db: core.db, ownerId, conversationId });
  const byId = (ids: string[]) => rows.filter((r) => ids.includes(r.id));
  return apply(
    core,
    conv,
    { mode: undone.mode, images: imagesAtTurn(snaps), hide: byId(undone.shown), show: byId(undone.hidden) },
    { undoes: rewindId, trainingStepsSince: [] },
  );
}
