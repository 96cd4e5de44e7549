/**
 * One error class for everything a request can fail with. A code is `type:surface`
 * ("not_found:workspace", "forbidden:conversation"): the type picks the HTTP status, the surface
 * says what it was about, and `toResponse()` turns it into the JSON body every route returns.
 * Unknown errors never leak their message to the browser (see `errorResponse`).
 *
 * Callers recognise an AppError by its code, never with `instanceof`: Next.js gives each route
 * bundle its own copy of this module, so an error thrown by the agent (built in one bundle) is
 * not an instance of another bundle's class. `isAppError` checks a registered symbol and the code.
 */

export const ERROR_TYPES = [
  "bad_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "rate_limit",
  "offline",
  "internal",
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

export const SURFACES = [
  "api",
  "auth",
  "config",
  "database",
  "workspace",
  "conversation",
  "message",
  "tool_call",
  "correction",
  "policy",
  "training_step",
  "checkpoint",
  "allow_rule",
  "settings",
  "user",
  "sandbox",
  "training",
  "rewind",
] as const;
export type Surface = (typeof SURFACES)[number];

export type ErrorCode = `${ErrorType}:${Surface}`;

/** Whether a value is one of the codes above (a driver's SQLSTATE such as "23505" is not). */
export function isErrorCode(value: unknown): value is ErrorCode {
  if (typeof value !== "string") return false;
  const [type, surface, ...rest] = value.split(":");
  return (
    rest.length === 0 &&
    (ERROR_TYPES as readonly string[]).includes(type ?? "") &&
    (SURFACES as readonly string[]).includes(surface ?? "")
  );
}

/** The type half of a code: what decides the HTTP status and a server action's status. */
export function errorTypeOf(code: ErrorCode): ErrorType {
  return code.slice(0, code.indexOf(":")) as ErrorType;
}

// Symbol.for is process-wide, unlike the class: every bundle's copy stamps and reads the same key.
const APP_ERROR = Symbol.for("continualcode.AppError");

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
  readonly code: ErrorCode;
  readonly type: ErrorType;
  readonly surface: Surface;
  readonly status: number;
  readonly [APP_ERROR] = true;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    const type = errorTypeOf(code);
    super(message ?? DEFAULT_MESSAGES[type], options);
    this.name = "AppError";
    this.code = code;
    this.type = type;
    this.surface = code.slice(type.length + 1) as Surface;
    this.status = statusOf(type);
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }

  toResponse(): Response {
    return Response.json(this.toJSON(), { status: this.status });
  }
}

/** An AppError from any bundle's copy of this module: the registered mark and a known code. */
export function isAppError(err: unknown): err is AppError {
  return (
    typeof err === "object" &&
    err !== null &&
    (err as { [APP_ERROR]?: unknown })[APP_ERROR] === true &&
    isErrorCode((err as { code?: unknown }).code)
  );
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

/** The SQLSTATE of a driver error; drizzle wraps driver errors, so look at the cause too. */
function pgCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
