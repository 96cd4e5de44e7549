/**
 * GET /api/conversations/:id: what the conversation page renders (the conversation view, the pending
 * call's preview, rules, settings), read again by the page after live events. 401 signed out,
 * 404 for anyone else's conversation.
 */
import { requireApiUser } from "@/lib/auth/server";
import { AppError, errorResponse, isAppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { getAgent } from "@/lib/conversation-page/agent-instance";
import { loadSessionData } from "@/lib/conversation-page/page-data";

export const dynamic = "force-dynamic";

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    const user = await requireApiUser();
    const { id } = await params;
    const data = await loadSessionData(await getAgent(), user.id, id).catch((err: unknown) => {
      // Recognised by its code: the agent's AppError may come from another bundle's copy of the class.
      if (isAppError(err) && err.type === "not_found")
        throw new AppError("not_found:conversation", "Conversation not found.");
      throw err;
    });
    return Response.json(data, { headers: { "Cache-Control": "no-store" } });
  } catch (err) {
    if (!isAppError(err)) log.error("conversation.view_failed", { error: err });
    return errorResponse(err);
  }
}
