/**
 * One error class for everything a request can fail with. A code is `type:surface`
 * ("not_found:workspace", "forbidden:conversation"): the type picks the HTTP status, the surface
 * says what it was about, and `toResponse()` turns it into the JSON body every route returns.
 * Unknown errors never leak their message to the browser (see `errorResponse`).
 */

export type ErrorType =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "rate_limit"
  | "offline"
  | "internal";

export type Surface =
  | "api"
  | "auth"
  | "config"
  | "database"
  | "workspace"
  | "conversation"
  | "message"
  | "tool_call"
  | "correction"
  | "policy"
  | "training_step"
  | "checkpoint"
  | "allow_rule"
  | "settings"
  | "user"
  | "sandbox"
  | "training"
  | "rewind";

export type ErrorCode = `${ErrorType}:${Surface}`;

export function statusOf(type: ErrorType): number {
  switch (type) {
    case "bad_request":
      return 400;
    case "unauthorized":
      return 401;
    case "forbidden":
      return 403;
    case "not_found":
      return 404;
    case "conflict":
      return 409;
    case "rate_limit":
      return 429;
    case "internal":
      return 500;
    case "offline":
      return 503;
    default: {
      const unreachable: never = type;
      throw new Error(`unknown error type ${String(unreachable)}`);
    }
  }
}

const DEFAULT_MESSAGES: Record<ErrorType, string> = {
  bad_request: "The request could not be processed.",
  unauthorized: "You need to sign in first.",
  forbidden: "You do not have access to this.",
  not_found: "Not found.",
  conflict: "That conflicts with something that already exists.",
  rate_limit: "Too many requests; try again shortly.",
  offline: "A service this needs is unavailable.",
  internal: "Something went wrong.",
};

export class AppError extends Error {
  readonly type: ErrorType;
  readonly surface: Surface;
  readonly status: number;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    const [type, surface] = code.split(":") as [ErrorType, Surface];
    super(message ?? DEFAULT_MESSAGES[type], options);
    this.name = "AppError";
    this.type = type;
    this.surface = surface;
    this.status = statusOf(type);
  }

  get code(): ErrorCode {
    return `${this.type}:${this.surface}`;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }

  toResponse(): Response {
    return Response.json(this.toJSON(), { status: this.status });
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Any thrown value as a Response: AppErrors as themselves, anything else as a bare 500. */
export function errorResponse(err: unknown): Response {
  if (isAppError(err)) return err.toResponse();
  return new AppError("internal:api").toResponse();
}

/** PostgreSQL's unique-violation code, the same on PGlite and postgres-js. */
export function isUniqueViolation(err: unknown): boolean {
  return pgCode(err) === "23505";
}

/** PostgreSQL's foreign-key-violation code. */
export function isForeignKeyViolation(err: unknown): boolean {
  return pgCode(err) === "23503";
}

/** The SQLSTATE of a driver error; drizzle wraps driver errors, so look at the cause too. */
function pgCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
