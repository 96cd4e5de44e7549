/** GET /api/workspaces/:id/tree: the caller's workspace's file tree (401 signed out, 404 not theirs). */
import { errorResponse, isAppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { requireOwnWorkspace } from "@/lib/workspaces/access";
import { listTree } from "@/lib/workspaces/tree";

export const dynamic = "force-dynamic";

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    const ws = await requireOwnWorkspace((await params).id);
    return Response.json(await listTree(ws.path));
  } catch (err) {
    if (!isAppError(err)) log.error("workspace.tree_failed", { error: err });
    return errorResponse(err);
  }
}
