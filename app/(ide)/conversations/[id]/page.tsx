import fs from "node:fs/promises";
import { notFound } from "next/navigation";
import { ConversationPage } from "@/components/conversation/conversation-page";
import { requireUser } from "@/lib/auth/server";
import { getWorkspaceForOwner } from "@/lib/db/queries/workspaces";
import { isAppError } from "@/lib/errors";
import type { Draft } from "@/lib/conversation-page/draft";
import { loadDraft, loadSessionData, type ConversationPageData } from "@/lib/conversation-page/page-data";
import { getRuntime } from "@/lib/runtime";
import { listTree } from "@/lib/workspaces/tree";

export const dynamic = "force-dynamic";

/** The conversation page: someone else's conversation is "not found", exactly like a missing one. */
export default async function ConversationRoute({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const { id } = await params;
  let data: ConversationPageData;
  let draft: Draft | null;
  try {
    const { agent, events } = await getRuntime();
    data = await loadSessionData(agent, user.id, id);
    draft = loadDraft(events, data.view);
  } catch (err) {
    // Recognised by its code: the agent may throw another bundle's copy of the AppError class.
    if (isAppError(err) && (err.type === "not_found" || err.type === "bad_request")) notFound();
    throw err;
  }
  const ws = await getWorkspaceForOwner({ id: data.workspace.id, ownerId: user.id });
  const present = ws
    ? await fs.stat(ws.path).then(
        (s) => s.isDirectory(),
        () => false,
      )
    : false;
  const tree = present && ws ? await listTree(ws.path) : { entries: [], truncated: false };
  // Through JSON, so the first render has the same shape as every later read of the API route.
  return (
    <ConversationPage
      initial={JSON.parse(JSON.stringify(data)) as ConversationPageData}
      initialDraft={draft}
      tree={tree.entries}
    />
  );
}
