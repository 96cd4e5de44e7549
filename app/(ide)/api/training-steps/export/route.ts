/**
 * GET /api/training-steps/export?format=csv|json: the signed-in user's own training steps as a
 * download, streamed page by page in queue order. Columns: id, step, status, queued_at,
 * finished_at, then every metric key the user has logged (sorted); a metric a step did not log is
 * empty (CSV) or null (JSON). 401 signed out; no one can export anyone else's steps.
 */
import { z } from "zod";
import { getRuntime } from "@/lib/runtime";
import { requireApiUser } from "@/lib/auth/server";
import { AppError, errorResponse, isAppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { stepExportStream } from "./export-stream";

export const dynamic = "force-dynamic";
export const maxDuration = 300;

const querySchema = z.object({ format: z.enum(["csv", "json"]).default("csv") });

export async function GET(request: Request): Promise<Response> {
  try {
    const query = querySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) throw new AppError("bad_request:api", query.error.issues.map((i) => i.message).join("; "));
    const user = await requireApiUser();
    const format = query.data.format;
    const body = await stepExportStream({ db: (await getRuntime()).db, ownerId: user.id, format });
    const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "-");
    return new Response(body, {
      headers: {
        "Content-Type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
        "Content-Disposition": `attachment; filename="training-steps-${stamp}.${format}"`,
        "Cache-Control": "no-store",
      },
    });
  } catch (err) {
    if (!isAppError(err)) log.error("training_steps.export_failed", { error: err });
    return errorResponse(err);
  }
}
