/**
 * The Tinker training backend: the `TrainingBackend` contract over the Tinker HTTP API, for the
 * hosted service or any server that speaks it (`--tinker-url`). The session (config, optional JWT,
 * create_session, heartbeats) opens on first use and ends with close(). A model the server does
 * not list in its capabilities is refused up front with the list it does serve.
 */
import type { CreateTrainingClientOptions, SamplingClient, TrainingBackend, TrainingClient } from "../types";
import { DEFAULT_BASE_URL } from "./http";
import { realTiming, type RetryTiming } from "./retry";
import { TinkerSamplingClient } from "./sampling-client";
import { TinkerSession, type LogLevel } from "./session";
import { TinkerTrainingClient } from "./training-client";
import { TINKER_LOSS_SUPPORT } from "./wire";

/** The last SDK release that sent forward_backward as JSON, the wire form this client speaks. */
export const DEFAULT_SDK_VERSION = "0.24.0";
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;

export interface TinkerBackendOptions {
  /** `--tinker-api-key` / `TINKER_API_KEY`. */
  apiKey: string;
  /** `--tinker-url` / `TINKER_BASE_URL`; defaults to the hosted service. */
  baseUrl?: string;
  sdkVersion?: string;
  /** Injected sleep/clock/jitter: tests pass a recording fake; defaults are real time. */
  timing?: Partial<RetryTiming>;
  heartbeatIntervalMs?: number;
  tags?: string[];
  projectId?: string;
  userMetadata?: Record<string, string>;
  /** Extra headers on every request (for example Cloudflare Access credentials). */
  headers?: Record<string, string>;
  log?: (level: LogLevel, message: string) => void;
}

export interface TinkerBackend extends TrainingBackend {
  readonly kind: "tinker";
  /** What this backend can train with; callers pick loss options by it. */
  readonly capabilities: typeof TINKER_LOSS_SUPPORT;
  /** Opens the session now instead of on first use (and surfaces auth errors early). */
  connect(): Promise<TinkerSession>;
}

/**
 * The SDK's environment variables as options, for the config layer to merge with its flags:
 * TINKER_API_KEY, TINKER_BASE_URL, TINKER_TAGS (comma-separated), TINKER_PROJECT_ID and the
 * Cloudflare Access pair.
 */
export function tinkerOptionsFromEnv(
  env: Record<string, string | undefined> = process.env,
): Partial<TinkerBackendOptions> {
  const headers: Record<string, string> = {};
  if (env.CLOUDFLARE_ACCESS_CLIENT_ID) headers["CF-Access-Client-Id"] = env.CLOUDFLARE_ACCESS_CLIENT_ID;
  if (env.CLOUDFLARE_ACCESS_CLIENT_SECRET) headers["CF-Access-Client-Secret"] = env.CLOUDFLARE_ACCESS_CLIENT_SECRET;
  return {
    ...(env.TINKER_API_KEY ? { apiKey: env.TINKER_API_KEY } : {}),
    ...(env.TINKER_BASE_URL ? { baseUrl: env.TINKER_BASE_URL } : {}),
    ...(env.TINKER_TAGS ? { tags: env.TINKER_TAGS.split(",").filter(Boolean) } : {}),
    ...(env.TINKER_PROJECT_ID ? { projectId: env.TINKER_PROJECT_ID } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
  };
}

function defaultLog(level: LogLevel, message: string): void {
  if (level !== "info") console.warn(`[tinker] ${message}`);
}

export function createTinkerBackend(options: TinkerBackendOptions): TinkerBackend {
  if (!options.apiKey) {
    throw new Error("The Tinker backend needs an API key: pass --tinker-api-key or set TINKER_API_KEY");
  }
  const timing: RetryTiming = { ...realTiming, ...options.timing };
  let session: Promise<TinkerSession> | null = null;
  let closed = false;

  const connect = (): Promise<TinkerSession> => {
    if (closed) return Promise.reject(new Error("the Tinker backend is closed"));
    session ??= TinkerSession.open({
      baseUrl: options.baseUrl ?? DEFAULT_BASE_URL,
      apiKey: options.apiKey,
      sdkVersion: options.sdkVersion ?? DEFAULT_SDK_VERSION,
      timing,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS,
      tags: options.tags ?? [],
      projectId: options.projectId,
      userMetadata: options.userMetadata ?? {},
      headers: options.headers ?? {},
      log: options.log ?? defaultLog,
    }).catch((error: unknown) => {
      session = null;
      throw error;
    });
    return session;
  };

  return {
    kind: "tinker",
    capabilities: TINKER_LOSS_SUPPORT,
    connect,

    async createTrainingClient(create: CreateTrainingClientOptions): Promise<TrainingClient> {
      const s = await connect();
      const { maxContextLength } = await s.requireModel(create.baseModel);
      if (create.fromState === undefined) return TinkerTrainingClient.create(s, { ...create, maxContextLength });
      // From a checkpoint, as the SDK does: read the checkpoint's LoRA shape, create a model of
      // that shape, then load weights and optimizer state.
      const info = await s.call<{ base_model: string; lora_rank?: number | null }>("POST", "/api/v1/weights_info", {
        tinker_path: create.fromState,
      });
      if (info.base_model !== create.baseModel) {
        throw new Error(`checkpoint ${create.fromState} was trained on ${info.base_model}, not ${create.baseModel}`);
      }
      const client = await TinkerTrainingClient.create(s, {
        ...create,
        rank: info.lora_rank ?? create.rank,
        maxContextLength,
      });
      await client.loadState(create.fromState);
      return client;
    },

    async createSamplingClient(open: { baseModel?: string; modelPath?: string }): Promise<SamplingClient> {
      if (open.baseModel === undefined && open.modelPath === undefined) {
        throw new Error("createSamplingClient needs a baseModel or a modelPath");
      }
      const s = await connect();
      const model = open.baseModel !== undefined ? await s.requireModel(open.baseModel) : undefined;
      return TinkerSamplingClient.open(s, { ...open, maxContextLength: model?.maxContextLength });
    },

    async listModels() {
      return (await connect()).supportedModels();
    },

    async close(): Promise<void> {
      closed = true;
      const pending = session;
      session = null;
      if (pending) (await pending.catch(() => null))?.close();
    },
  };
}
