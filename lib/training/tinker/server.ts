/**
 * A Tinker-protocol HTTP server over any TrainingBackend, so a Tinker client (ours or the Python
 * SDK on its JSON surface) can train on our engine: session → create_model → forward_backward /
 * optim_step / save & load weights (futures, in seq_id order per model) → sampling sessions and
 * asample (futures, backpressure via 429). Futures live in memory and answer `try_again` while
 * running; checkpoints get `tinker://<model_id>/<weights|sampler_weights>/<name>` paths, and only
 * paths this server issued resolve (looked up in its index, never passed on as a file name).
 * Sessions, training runs, checkpoints and sampling sessions are kept in a ServerStore, so with a
 * data directory they survive a restart; a model's weights do not (they live in the engine), so a
 * request to a model from before a restart is told to load its last saved state.
 * Every request is authenticated from its headers before a byte of its body is read, a body past
 * `maxBodyBytes` is refused with 413, and optimizer, LoRA and sampling parameters are checked
 * (server-limits.ts) before they reach the backend.
 */
import http from "node:http";
import { z } from "zod";
import type { TrainingBackend } from "../types";
import { clientConfig } from "./client-config";
import { seqAddressOfUnreadable } from "./seq-address";
import { acceptsProtobuf, decodeBody, PROTOBUF_CONTENT_TYPE, readBody, tooLarge } from "./server-body";
import { createProtocolContext, type Route, type TinkerProtocolServerOptions } from "./server-context";
import { headerValue, refuseUnread, resultAsProtobuf, send, sendBytes } from "./server-http";
import { answerRest } from "./server-rest";
import { samplingRoutes } from "./server-routes-sampling";
import { sessionRoutes } from "./server-routes-session";
import { trainingRoutes } from "./server-routes-training";
import { HttpError, UserError } from "./server-state";
import { quotePath } from "./tinker-path";

export { DEFAULT_MAX_BODY_BYTES, type TinkerProtocolServerOptions } from "./server-context";

/**
 * Routes whose requests carry a model's `model_id` and `seq_id`. A request to one of them that is
 * refused before it is queued (malformed, out of range, an unknown path) still uses up its seq_id,
 * so the model's later requests are not held waiting for it (SeqQueue.refuse).
 */
const ORDERED_ROUTES = new Set([
  "/api/v1/forward_backward",
  "/api/v1/forward",
  "/api/v1/optim_step",
  "/api/v1/save_weights",
  "/api/v1/load_weights",
  "/api/v1/save_weights_for_sampler",
]);

export function createTinkerProtocolServer(
  backend: TrainingBackend,
  options: TinkerProtocolServerOptions = {},
): http.Server {
  const ctx = createProtocolContext(backend, options);
  const { auth, store, samplers, maxBodyBytes, protobuf, refuseSeqId } = ctx;
  const routes: Record<string, Route> = { ...sessionRoutes(ctx), ...trainingRoutes(ctx), ...samplingRoutes(ctx) };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const key = headerValue(req.headers["x-api-key"]);
    if (path === "/api/v1/healthz") return send(res, 200, { status: "ok" });

    // 1. Credentials come from the headers alone: a caller without them never gets its body read.
    const keyEndpoint = path === "/api/v1/client/config" || path === "/api/v1/auth/token";
    if (!(keyEndpoint ? auth.acceptsKey(key) : auth.accepts(key))) {
      return refuseUnread(req, res, 401, {
        detail: !keyEndpoint && auth.jwtEnabled ? "Invalid JWT" : "Invalid API key",
      });
    }
    // 2. A declared length past the cap is refused before reading; an undeclared one while reading.
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > maxBodyBytes) return refuseUnread(req, res, 413, { detail: tooLarge(maxBodyBytes) });
    const bytes = req.method === "GET" ? undefined : await readBody(req, maxBodyBytes);
    let body: unknown;
    try {
      body =
        bytes === undefined
          ? undefined
          : decodeBody(
              path,
              bytes,
              headerValue(req.headers["content-type"]),
              headerValue(req.headers["content-encoding"]),
              protobuf,
            );
    } catch (error) {
      // An ordered request whose body cannot be read still uses up its seq_id, when it can be found.
      // A 415 refuses the encoding, not the request: the client sends it again, as JSON, under the same seq_id.
      const encodingRefused = error instanceof HttpError && error.status === 415;
      if (bytes !== undefined && ORDERED_ROUTES.has(path) && !encodingRefused)
        refuseSeqId(seqAddressOfUnreadable(bytes, headerValue(req.headers["content-type"])), error);
      throw error;
    }

    if (keyEndpoint) {
      options.onRequest?.(path, body);
      if (path === "/api/v1/client/config") return send(res, 200, clientConfig({ jwtEnabled: auth.jwtEnabled }));
      if (!auth.jwtEnabled) return send(res, 404, { detail: "JWT auth is not enabled on this server" });
      return send(res, 200, { jwt: auth.issue() });
    }
    options.onRequest?.(path, body);

    const samplerInfo = /^\/api\/v1\/samplers\/(.+)$/.exec(path);
    if (samplerInfo && req.method === "GET") {
      const id = decodeURIComponent(samplerInfo[1]);
      const sampler = samplers.get(id) ?? store.sampler(id);
      if (!sampler) return send(res, 404, { detail: `unknown sampler ${quotePath(id)}` });
      return send(res, 200, {
        sampler_id: id,
        base_model: sampler.baseModel,
        ...(sampler.modelPath ? { model_path: sampler.modelPath } : {}),
      });
    }
    const query = new URL(req.url ?? "/", "http://localhost").searchParams;
    const samplerIdsOf = (sessionId: string) =>
      store
        .samplers()
        .map((s) => s.samplerId)
        .filter((id) => id.startsWith(`${sessionId}:sample:`));
    const rest = answerRest(store, { method: req.method ?? "GET", path, query }, samplerIdsOf);
    if (rest) return send(res, rest.status, rest.body);
    const route = routes[path];
    if (!route) return send(res, 404, { detail: `no endpoint ${req.method} ${path}` });
    const backpressure = headerValue(req.headers["x-tinker-sampling-backpressure"]) === "1";
    let answer: unknown;
    try {
      answer = await route(body, backpressure);
    } catch (error) {
      if (ORDERED_ROUTES.has(path)) refuseSeqId(body, error);
      throw error;
    }
    // The SDK asks for sample and forward_backward results as protobuf (0.25 accepts nothing else).
    if (protobuf && path === "/api/v1/retrieve_future" && acceptsProtobuf(headerValue(req.headers.accept))) {
      const bytes = resultAsProtobuf(answer);
      if (bytes) return sendBytes(res, bytes, PROTOBUF_CONTENT_TYPE);
    }
    return send(res, 200, answer);
  };

  return http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError && error.status === 413)
        return refuseUnread(req, res, 413, { detail: error.message });
      if (error instanceof HttpError) return send(res, error.status, { detail: error.message });
      if (error instanceof z.ZodError) return send(res, 400, { detail: `invalid request: ${z.prettifyError(error)}` });
      if (error instanceof SyntaxError) return send(res, 400, { detail: `invalid JSON: ${error.message}` });
      if (error instanceof UserError) return send(res, 400, { detail: error.message });
      send(res, 500, { detail: error instanceof Error ? error.message : String(error) });
    });
  });
}
