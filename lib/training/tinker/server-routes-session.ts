/**
 * The session routes of the Tinker-protocol server: capabilities, sessions and their heartbeat,
 * the SDK's telemetry and dynamic config (accepted, nothing kept), and retrieve_future, the long
 * poll every queued operation is answered through.
 */
import { randomBytes } from "node:crypto";
import type { ProtocolContext, Route } from "./server-context";
import * as schema from "./server-schemas";
import { HttpError } from "./server-state";

export function sessionRoutes(ctx: ProtocolContext): Record<string, Route> {
  const { backend, store, futures, longPollMs, requireSession } = ctx;
  return {
    "/api/v1/get_server_capabilities": async () => ({
      supported_models: (await backend.listModels()).map((m) => ({
        model_name: m.modelName,
        ...(m.maxContextLength ? { max_context_length: m.maxContextLength } : {}),
      })),
    }),

    "/api/v1/create_session": (body) => {
      schema.createSessionBody.parse(body);
      const sessionId = `session-${randomBytes(6).toString("hex")}`;
      store.putSession({
        sessionId,
        createdAt: new Date().toISOString(),
        tags: schema.createSessionBody.parse(body).tags ?? [],
      });
      return { type: "create_session", session_id: sessionId };
    },

    "/api/v1/session_heartbeat": (body) => {
      // Sessions do not expire here; a heartbeat only has to name a live one.
      requireSession(schema.heartbeatBody.parse(body).session_id);
      return { type: "session_heartbeat" };
    },

    // The SDK reports its own errors and timings here; this server keeps no telemetry.
    "/api/v1/telemetry": () => ({ status: "accepted" }),

    // SDK 0.25 refreshes these flags every refresh_interval_sec; none of them changes at run time here.
    "/api/v1/client/dynamic_config": () => ({ refresh_interval_sec: 3600 }),

    "/api/v1/retrieve_future": async (body) => {
      const { request_id } = schema.retrieveFutureBody.parse(body);
      const answer = await futures.answer(request_id, longPollMs);
      switch (answer.state) {
        case "pending":
          return { type: "try_again", request_id, queue_state: "active" };
        case "expired":
          throw new HttpError(410, `promise for ${request_id} expired; resubmit the request`);
        case "before_restart":
          throw new HttpError(
            410,
            `request ${request_id} was made before the server restarted and its outcome is gone; resubmit it`,
          );
        case "unknown":
          throw new HttpError(404, `unknown request ${request_id}`);
        case "done":
          return answer.value;
        case "failed":
          return { error: answer.error, category: answer.category };
        default: {
          const unreachable: never = answer;
          throw new Error(`unhandled future state ${JSON.stringify(unreachable)}`);
        }
      }
    },
  };
}
