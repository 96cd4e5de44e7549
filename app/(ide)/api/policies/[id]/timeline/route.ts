/**
 * GET /api/policies/:id/timeline: the caller's adapter history (correction → step → version),
 * oldest first, with which versions the current weights hold and which are kept. 401 signed out,
 * 404 for anyone else's policy.
 */
import { getTimeline } from "@/lib/agent/adapter-history";
import { requireApiUser } from "@/lib/auth/server";
import { getDb } from "@/lib/db/client";
import { AppError, errorResponse } from "@/lib/errors";

export const dynamic = "force-dynamic";

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  try {
    const { id } = await params;
    const user = await requireApiUser();
    const timeline = await getTimeline({ db: await getDb(), ownerId: user.id, policyId: id });
    if (!timeline) throw new AppError("not_found:policy");
    return Response.json(timeline, { headers: { "Cache-Control": "no-store" } });
  } catch (err) {
    return errorResponse(err);
  }
}
