/**
 * GET /api/workspaces/:id/files?path=<relative path>: one file of the caller's workspace, as a
 * FileView (text, or a note for binary/large files). 401 signed out, 404 for anyone else's
 * workspace or a missing file, 400 for a path that leaves the workspace.
 */
import { AppError, errorResponse, isAppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { requireOwnWorkspace } from "@/lib/workspaces/access";
import { readWorkspaceFile } from "@/lib/workspaces/read-file";
import { filePathQuerySchema } from "@/lib/workspaces/schema";

export const dynamic = "force-dynamic";

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    const ws = await requireOwnWorkspace((await params).id);
    const query = filePathQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) throw new AppError("bad_request:api", query.error.issues.map((i) => i.message).join("; "));
    const view = await readWorkspaceFile(ws.path, query.data.path);
    switch (view.kind) {
      case "text":
      case "binary":
      case "too_large":
      case "directory":
        return Response.json(view);
      case "not_found":
        throw new AppError("not_found:workspace", view.error);
      case "outside":
        log.warn("workspace.path_refused", { workspaceId: ws.id, path: query.data.path });
        throw new AppError("bad_request:workspace", view.error);
      default: {
        const unreachable: never = view;
        throw new Error(`unhandled view ${JSON.stringify(unreachable)}`);
      }
    }
  } catch (err) {
    if (!isAppError(err)) log.error("workspace.files_failed", { error: err });
    return errorResponse(err);
  }
}
