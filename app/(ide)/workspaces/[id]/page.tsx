import fs from "node:fs/promises";
import { notFound } from "next/navigation";
import { ConversationList } from "@/components/conversation/conversation-list";
import { FileExplorer } from "@/components/workspaces/file-explorer";
import { requireUser } from "@/lib/auth/server";
import { listConversationsByWorkspace } from "@/lib/db/queries/conversations";
import { getWorkspaceForOwner } from "@/lib/db/queries/workspaces";
import { listTree } from "@/lib/workspaces/tree";
import { workspaceIdSchema } from "@/lib/workspaces/schema";

export const dynamic = "force-dynamic";

export default async function WorkspacePage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const id = workspaceIdSchema.safeParse((await params).id);
  if (!id.success) notFound();
  // Someone else's workspace is "not found", exactly like one that does not exist.
  const ws = await getWorkspaceForOwner({ id: id.data, ownerId: user.id });
  if (!ws) notFound();
  const present = await fs.stat(ws.path).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const tree = present ? await listTree(ws.path) : { entries: [], truncated: false };
  const conversations = (await listConversationsByWorkspace({ ownerId: user.id, workspaceId: ws.id })).map((c) => ({
    id: c.id,
    title: c.title,
    state: c.state,
    updatedAt: c.updatedAt.toISOString(),
  }));
  return (
    <div className="flex h-full flex-col">
      <div className="flex h-8 shrink-0 items-center gap-3 border-b border-border px-3">
        <h1 className="font-medium" data-testid="workspace-title">
          {ws.name}
        </h1>
        <span className="truncate font-mono text-xs text-muted">{ws.managed ? "managed workspace" : ws.path}</span>
      </div>
      {present && <ConversationList workspaceId={ws.id} conversations={conversations} />}
      {present ? (
        <div className="min-h-0 flex-1">
          <FileExplorer workspaceId={ws.id} entries={tree.entries} truncated={tree.truncated} />
        </div>
      ) : (
        <p className="p-4 text-danger" data-testid="workspace-missing">
          The workspace directory no longer exists on the server.
        </p>
      )}
    </div>
  );
}
