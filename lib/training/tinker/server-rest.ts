/**
 * The SDK's RestClient surface over the server's index: training runs, their checkpoints, the
 * caller's checkpoints, sessions (GET, paged with `limit`/`offset` like Tinker's), and deleting a
 * checkpoint. Answers carry Tinker's field names (TrainingRun, Checkpoint, Cursor). Publishing,
 * expiry and archive downloads are hosted-service features this server does not offer; they
 * answer 404 with the reason, as an endpoint the server does not have.
 */
import type { ServerStore, StoredCheckpoint, StoredTrainingRun } from "./server-store";
import { HttpError } from "./server-state";
import { parseTinkerPath, quotePath } from "./tinker-path";

/** The SDK asks for 20 by default (list_training_runs, list_user_checkpoints, list_sessions). */
const DEFAULT_PAGE = 20;
const MAX_PAGE = 1000;

/** Who owns everything here: the server has one credential, not accounts. */
export const MODEL_OWNER = "trainer-serve";

export interface RestRequest {
  method: string;
  path: string;
  query: URLSearchParams;
}

export type RestAnswer = { status: 200; body: unknown } | null;

function page(query: URLSearchParams, total: number): { offset: number; limit: number } {
  const number = (name: string, fallback: number) => {
    const raw = query.get(name);
    if (raw === null || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0)
      throw new HttpError(400, `${name} must be a whole number ≥ 0; got ${quotePath(raw)}`);
    return n;
  };
  return { offset: Math.min(number("offset", 0), total), limit: Math.min(number("limit", DEFAULT_PAGE), MAX_PAGE) };
}

function checkpointToWire(c: StoredCheckpoint) {
  return {
    checkpoint_id: `${c.kind}/${c.name}`,
    checkpoint_type: c.kind === "weights" ? "training" : "sampler",
    time: c.createdAt,
    tinker_path: c.tinkerPath,
    size_bytes: null,
    public: false,
    expires_at: null,
  };
}

function trainingRunToWire(store: ServerStore, run: StoredTrainingRun) {
  const latest = (path: string | null) => {
    const c = path ? store.checkpoint(path) : undefined;
    return c ? checkpointToWire(c) : null;
  };
  return {
    training_run_id: run.modelId,
    base_model: run.baseModel,
    model_owner: MODEL_OWNER,
    is_lora: true,
    corrupted: false,
    lora_rank: run.rank,
    last_request_time: run.lastRequestAt,
    last_checkpoint: latest(run.lastCheckpoint),
    last_sampler_checkpoint: latest(run.lastSamplerCheckpoint),
    user_metadata: null,
  };
}

const RUN = /^\/api\/v1\/training_runs\/([^/]+)$/;
const RUN_CHECKPOINTS = /^\/api\/v1\/training_runs\/([^/]+)\/checkpoints$/;
const CHECKPOINT = /^\/api\/v1\/training_runs\/([^/]+)\/checkpoints\/(weights|sampler_weights)\/([^/]+)(\/[a-z_]+)?$/;
const SESSION = /^\/api\/v1\/sessions\/([^/]+)$/;

const decoded = (part: string) => {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `malformed path segment ${quotePath(part)}`);
  }
};

/** Answers a RestClient request, or null when the path is not one of these endpoints. */
export function answerRest(
  store: ServerStore,
  req: RestRequest,
  samplerIdsOf: (sessionId: string) => string[],
): RestAnswer {
  const ok = (body: unknown): RestAnswer => ({ status: 200, body });
  const requireRun = (id: string) => {
    const run = store.trainingRun(id);
    if (!run) throw new HttpError(404, `unknown training run ${quotePath(id)}`);
    return run;
  };

  if (req.method === "GET" && req.path === "/api/v1/training_runs") {
    const runs = store.trainingRuns();
    const { offset, limit } = page(req.query, runs.length);
    return ok({
      training_runs: runs.slice(offset, offset + limit).map((run) => trainingRunToWire(store, run)),
      cursor: { offset, limit, total_count: runs.length },
    });
  }
  if (req.method === "GET" && req.path === "/api/v1/checkpoints") {
    const all = store.checkpoints();
    const { offset, limit } = page(req.query, all.length);
    return ok({
      checkpoints: all.slice(offset, offset + limit).map(checkpointToWire),
      cursor: { offset, limit, total_count: all.length },
    });
  }
  if (req.method === "GET" && req.path === "/api/v1/sessions") {
    const all = store.sessions();
    const { offset, limit } = page(req.query, all.length);
    return ok({ sessions: all.slice(offset, offset + limit).map((s) => s.sessionId) });
  }

  let match = SESSION.exec(req.path);
  if (match && req.method === "GET") {
    const id = decoded(match[1]!);
    if (!store.session(id)) throw new HttpError(404, `unknown session ${quotePath(id)}`);
    return ok({
      training_run_ids: store
        .trainingRuns()
        .filter((run) => run.sessionId === id)
        .map((run) => run.modelId),
      sampler_ids: samplerIdsOf(id),
    });
  }
  match = RUN.exec(req.path);
  if (match && req.method === "GET") return ok(trainingRunToWire(store, requireRun(decoded(match[1]!))));
  match = RUN_CHECKPOINTS.exec(req.path);
  if (match && req.method === "GET") {
    const run = requireRun(decoded(match[1]!));
    return ok({ checkpoints: store.checkpoints(run.modelId).map(checkpointToWire) });
  }
  match = CHECKPOINT.exec(req.path);
  if (match) {
    const [, runPart, kind, namePart, action] = match;
    const tinkerPath = `tinker://${decoded(runPart!)}/${kind}/${decoded(namePart!)}`;
    if (!parseTinkerPath(tinkerPath)) throw new HttpError(400, `${quotePath(tinkerPath)} is not a checkpoint path`);
    if (action !== undefined) {
      throw new HttpError(
        404,
        `${action.slice(1)} is a hosted Tinker feature (public, expiring or downloadable checkpoints) this server does not offer`,
      );
    }
    if (req.method !== "DELETE") return null;
    if (!store.checkpoint(tinkerPath)) throw new HttpError(404, `unknown checkpoint ${quotePath(tinkerPath)}`);
    store.deleteCheckpoint(tinkerPath);
    return ok(null);
  }
  return null;
}
