/**
 * One Tinker session, opened the way the SDK opens it (tinker-api.md §9.1): client config →
 * (JWT exchange when the server asks for it) → create_session → a heartbeat every 10 s until
 * close(). It owns the per-session counters (training clients, sampling sessions), the capability
 * list, and the two ways of calling the server: direct calls and future submits + polls.
 */
import { JwtCredential } from "./auth";
import { TinkerStatusError } from "./errors";
import { pollFuture, type RequestType, type UntypedFuture } from "./futures";
import { ProtobufBody, TinkerHttp, staticCredential, type CallOptions } from "./http";
import { forwardBackwardBodyToProto, type WireForwardBackwardBody } from "./proto/convert";
import { BillingPause, executeWithRetries, type RetryTiming } from "./retry";

/** The client-config fields this client reads; unknown keys are ignored. */
export interface TinkerClientConfig {
  pjwt_auth_enabled: boolean;
  fwdbwd_max_chunk_len: number;
  fwdbwd_max_chunk_bytes_count: number;
  billing_exception_max_pause_duration_sec: number;
  sample_no_retries: boolean;
}

const DEFAULT_CLIENT_CONFIG: TinkerClientConfig = {
  pjwt_auth_enabled: false,
  fwdbwd_max_chunk_len: 1024,
  fwdbwd_max_chunk_bytes_count: 5_000_000,
  billing_exception_max_pause_duration_sec: 3600,
  sample_no_retries: false,
};

export interface SupportedModel {
  modelName: string;
  maxContextLength?: number;
}

export type LogLevel = "info" | "warn" | "error";

export interface TinkerSessionOptions {
  baseUrl: string;
  apiKey: string;
  sdkVersion: string;
  timing: RetryTiming;
  heartbeatIntervalMs: number;
  tags: string[];
  projectId?: string;
  userMetadata: Record<string, string>;
  headers: Record<string, string>;
  log: (level: LogLevel, message: string) => void;
}

const HEARTBEAT_TIMEOUT_MS = 10_000;
/** The SDK warns after this long without a successful heartbeat: the server may end the session. */
const HEARTBEAT_WARN_AFTER_MS = 120_000;

/**
 * How forward_backward travels: protobuf, as SDK 0.25 sends it, until a server shows it reads
 * only JSON (then JSON, as SDK 0.24 sends it, for the rest of the session).
 */
export type LossPassWire = "protobuf" | "json";

/**
 * A server that reads only JSON refuses a protobuf body before it looks at the request: 415, or
 * a 400 about the body not being JSON. Such a refusal never queued the request, so its seq_id is
 * still free and the same request can go again as JSON.
 */
function refusesProtobuf(error: unknown): boolean {
  if (!(error instanceof TinkerStatusError)) return false;
  return (
    error.status === 415 ||
    (error.status === 400 && /invalid JSON|not valid JSON|JSON decode|Unexpected token/i.test(error.message))
  );
}

export class TinkerSession {
  private modelSeqId = 0;
  private lossPassWire: LossPassWire = "protobuf";
  private samplingSessionSeqId = 0;
  private heartbeat: NodeJS.Timeout | null = null;
  private lastBeatMs: number;
  private warnedStale = false;
  private models: Promise<SupportedModel[]> | null = null;

  private constructor(
    readonly http: TinkerHttp,
    readonly config: TinkerClientConfig,
    readonly sessionId: string,
    readonly billing: BillingPause,
    private readonly credentialToClose: JwtCredential | null,
    private readonly options: TinkerSessionOptions,
  ) {
    this.lastBeatMs = options.timing.now();
  }

  static async open(options: TinkerSessionOptions): Promise<TinkerSession> {
    const apiKey = staticCredential(options.apiKey);
    const http = new TinkerHttp({
      baseUrl: options.baseUrl,
      credential: apiKey,
      timing: options.timing,
      userAgent: `continualcode-web Tinker client (sdk ${options.sdkVersion})`,
      headers: options.headers,
    });
    let config = DEFAULT_CLIENT_CONFIG;
    const billing = new BillingPause(() => config.billing_exception_max_pause_duration_sec * 1000, options.timing);
    const fetched = await executeWithRetries(
      () => http.post<Partial<TinkerClientConfig>>("/api/v1/client/config", { sdk_version: options.sdkVersion }),
      options.timing,
      billing,
    );
    config = { ...DEFAULT_CLIENT_CONFIG, ...pickDefined(fetched ?? {}) };

    let jwt: JwtCredential | null = null;
    if (config.pjwt_auth_enabled) {
      jwt = new JwtCredential(async () => {
        const answer = await executeWithRetries(
          () => http.post<{ jwt?: string }>("/api/v1/auth/token", {}, { credential: apiKey }),
          options.timing,
          billing,
        );
        if (typeof answer?.jwt !== "string") throw new Error("Tinker /api/v1/auth/token answered without a jwt");
        return answer.jwt;
      });
      await jwt.start();
      http.setCredential(jwt);
    }

    try {
      const created = await executeWithRetries(
        () =>
          http.post<{ session_id: string; info_message?: string; warning_message?: string; error_message?: string }>(
            "/api/v1/create_session",
            {
              tags: [...new Set(options.tags)],
              user_metadata: options.userMetadata,
              sdk_version: options.sdkVersion,
              ...(options.projectId ? { project_id: options.projectId } : {}),
              type: "create_session",
            },
          ),
        options.timing,
        billing,
      );
      if (created.info_message) options.log("info", created.info_message);
      if (created.warning_message) options.log("warn", created.warning_message);
      if (created.error_message) options.log("error", created.error_message);
      const session = new TinkerSession(http, config, created.session_id, billing, jwt, options);
      session.startHeartbeat();
      return session;
    } catch (error) {
      jwt?.close();
      throw error;
    }
  }

  nextModelSeqId(): number {
    return this.modelSeqId++;
  }

  nextSamplingSessionSeqId(): number {
    return this.samplingSessionSeqId++;
  }

  /** A direct call, wrapped in the operation-level retries. */
  call<T>(method: "GET" | "POST", path: string, body?: unknown, options?: CallOptions): Promise<T> {
    return executeWithRetries(
      () => (method === "GET" ? this.http.get<T>(path, options) : this.http.post<T>(path, body, options)),
      this.options.timing,
      this.billing,
    );
  }

  /** Submit an operation (retried like any direct call) and return its future handle. */
  submit(path: string, body: unknown, options?: CallOptions): Promise<UntypedFuture> {
    return this.call<UntypedFuture>("POST", path, body, options);
  }

  /** The encoding forward_backward submits use now. */
  get wire(): LossPassWire {
    return this.lossPassWire;
  }

  /**
   * Submits a forward_backward (or, with `forward_only`, a forward pass): protobuf to
   * /api/v1/forward_backward, or JSON to /api/v1/forward_backward and /api/v1/forward for a
   * server that reads only JSON.
   */
  async submitLossPass(body: WireForwardBackwardBody): Promise<UntypedFuture> {
    if (this.lossPassWire === "protobuf") {
      try {
        return await this.submit("/api/v1/forward_backward", new ProtobufBody(forwardBackwardBodyToProto(body)));
      } catch (error) {
        if (!refusesProtobuf(error)) throw error;
        this.options.log(
          "info",
          `Tinker server at ${this.http.baseUrl} reads forward_backward only as JSON; sending JSON`,
        );
        this.lossPassWire = "json";
      }
    }
    const { model_id, seq_id, forward_backward_input } = body;
    if (body.forward_only)
      return this.submit("/api/v1/forward", { model_id, seq_id, forward_input: forward_backward_input });
    return this.submit("/api/v1/forward_backward", { model_id, seq_id, forward_backward_input });
  }

  /**
   * A sample submit: a 429 (or a 402 inside the billing window) comes back as null, meaning
   * "back off and resubmit", instead of being retried here like other errors.
   */
  submitSample(body: unknown): Promise<UntypedFuture | null> {
    return executeWithRetries(
      async () => {
        try {
          return await this.http.post<UntypedFuture>("/api/v1/asample", body, {
            maxRetries: 0,
            headers: { "X-Tinker-Sampling-Backpressure": "1" },
          });
        } catch (error) {
          if (error instanceof TinkerStatusError && (error.status === 429 || this.billing.shouldPause(error)))
            return null;
          throw error;
        }
      },
      this.options.timing,
      this.billing,
    );
  }

  get timing(): RetryTiming {
    return this.options.timing;
  }

  poll<T>(future: UntypedFuture, requestType: RequestType): Promise<T> {
    return pollFuture<T>({ http: this.http, timing: this.options.timing, billing: this.billing }, future, requestType);
  }

  /** The server's model list, fetched once. */
  supportedModels(): Promise<SupportedModel[]> {
    this.models ??= this.call<{ supported_models?: Array<{ model_name?: string; max_context_length?: number }> }>(
      "GET",
      "/api/v1/get_server_capabilities",
    )
      .then((caps) =>
        (caps.supported_models ?? []).flatMap((m) =>
          m.model_name
            ? [{ modelName: m.model_name, ...(m.max_context_length ? { maxContextLength: m.max_context_length } : {}) }]
            : [],
        ),
      )
      .catch((error: unknown) => {
        this.models = null;
        throw error;
      });
    return this.models;
  }

  /** Throws a clear error naming the served models when `baseModel` is not one of them. */
  async requireModel(baseModel: string): Promise<SupportedModel> {
    const models = await this.supportedModels();
    const found = models.find((m) => m.modelName === baseModel);
    if (found) return found;
    throw new Error(
      `The Tinker server at ${this.http.baseUrl} does not serve "${baseModel}"; it serves: ${models.map((m) => m.modelName).join(", ") || "(no models)"}`,
    );
  }

  log(level: LogLevel, message: string): void {
    this.options.log(level, message);
  }

  close(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.credentialToClose?.close();
  }

  get heartbeatRunning(): boolean {
    return this.heartbeat !== null;
  }

  private startHeartbeat(): void {
    this.heartbeat = setInterval(() => void this.beat(), this.options.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  private async beat(): Promise<void> {
    try {
      await this.http.post(
        "/api/v1/session_heartbeat",
        { session_id: this.sessionId, type: "session_heartbeat" },
        { maxRetries: 0, timeoutMs: HEARTBEAT_TIMEOUT_MS },
      );
      this.lastBeatMs = this.options.timing.now();
      this.warnedStale = false;
    } catch {
      const silentMs = this.options.timing.now() - this.lastBeatMs;
      if (silentMs > HEARTBEAT_WARN_AFTER_MS && !this.warnedStale) {
        this.warnedStale = true;
        this.options.log(
          "warn",
          `Tinker session ${this.sessionId}: no heartbeat for ${Math.round(silentMs / 1000)} s; the server may end it`,
        );
      }
    }
  }
}

function pickDefined<T extends object>(value: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}
