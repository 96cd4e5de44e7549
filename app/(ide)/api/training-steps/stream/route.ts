/**
 * GET /api/training-steps/stream?replay=N: Server-Sent Events with the signed-in user's own
 * training steps. First a `snapshot` event (the latest N steps, oldest first, default 500), then a
 * `steps` event with every step whose status changed (queued → running → done | failed), pushed
 * as this process's trainer reports it and re-checked in the database every few seconds so a
 * trainer in another app instance sharing PostgreSQL is seen too (see step-feed.ts). Data is
 * JSON: StepView[] (lib/charts/series.ts). A comment line every 15 s keeps proxies from closing it.
 */
import { z } from "zod";
import { requireApiUser } from "@/lib/auth/server";
import { AppError, errorResponse, isAppError } from "@/lib/errors";
import { log } from "@/lib/log";
import { getRuntime } from "@/lib/runtime";
import { sseResponse } from "@/lib/conversation-page/sse";
import { DEFAULT_REPLAY, watchOwnerSteps } from "../step-feed";

export const dynamic = "force-dynamic";
export const maxDuration = 3600;

const querySchema = z.object({ replay: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_REPLAY) });
const HEARTBEAT_MS = 15_000;

export async function GET(request: Request): Promise<Response> {
  try {
    const query = querySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) throw new AppError("bad_request:api", query.error.issues.map((i) => i.message).join("; "));
    const user = await requireApiUser();
    const { db, events } = await getRuntime();
    const encoder = new TextEncoder();
    const abort = new AbortController();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        const send = (text: string) => {
          if (abort.signal.aborted) return;
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            abort.abort();
          }
        };
        const heartbeat = setInterval(() => send(": ping\n\n"), HEARTBEAT_MS);
        abort.signal.addEventListener("abort", () => clearInterval(heartbeat), { once: true });
        const stop = () => {
          abort.abort();
          try {
            controller.close();
          } catch {
            // Already closed by the client.
          }
        };
        request.signal.addEventListener("abort", stop, { once: true });
        try {
          await watchOwnerSteps({
            db,
            ownerId: user.id,
            replay: query.data.replay,
            signal: abort.signal,
            subscribe: (listener) => events.subscribeAll(listener),
            onSnapshot: (steps) => send(`event: snapshot\ndata: ${JSON.stringify(steps)}\n\n`),
            onChanges: (steps) => send(`event: steps\ndata: ${JSON.stringify(steps)}\n\n`),
            onError: (error) => log.warn("training_steps.stream_recheck_failed", { error }),
          });
        } catch (error) {
          log.error("training_steps.stream_failed", { error });
          stop();
        }
      },
      cancel() {
        abort.abort();
      },
    });
    return sseResponse(body);
  } catch (err) {
    if (!isAppError(err)) log.error("training_steps.stream_failed", { error: err });
    return errorResponse(err);
  }
}
