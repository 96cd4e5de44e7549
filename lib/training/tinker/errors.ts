/**
 * Errors a Tinker call can end in. The retry rules (retry.ts, futures.ts) decide what to do by
 * error class and HTTP status, mirroring the Python SDK's exception hierarchy: status errors,
 * connection errors, timeouts, failed futures, and expired promises.
 */

/** The server answered with a non-2xx status. `detail` is the body's `detail` when it has one. */
export class TinkerStatusError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly path: string,
    readonly headers: Headers,
    /** The parsed JSON body, or the raw text when it was not JSON. */
    readonly body: unknown,
  ) {
    super(`Tinker ${path} answered HTTP ${status}: ${detail}`);
    this.name = "TinkerStatusError";
  }
}

/** No HTTP response came back (refused, reset, DNS). */
export class TinkerConnectionError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`Tinker ${path}: connection failed (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.name = "TinkerConnectionError";
  }
}

/** The client gave up waiting for one HTTP response. */
export class TinkerTimeoutError extends Error {
  constructor(
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`Tinker ${path}: no response within ${timeoutMs} ms`);
    this.name = "TinkerTimeoutError";
  }
}

export type RequestErrorCategory = "unknown" | "server" | "user";

/** A future finished with `{error, category}`: terminal, never retried. */
export class TinkerRequestFailedError extends Error {
  constructor(
    readonly requestId: string,
    readonly category: RequestErrorCategory,
    readonly serverMessage: string,
  ) {
    super(`Tinker request ${requestId} failed (${category} error): ${serverMessage}`);
    this.name = "TinkerRequestFailedError";
  }
}

/** HTTP 410 while polling: the promise is gone and the original submit has to be redone. */
export class TinkerPromiseExpiredError extends Error {
  constructor(readonly requestId: string) {
    super(`Tinker promise for request ${requestId} expired or broke (HTTP 410)`);
    this.name = "TinkerPromiseExpiredError";
  }
}

/** The caller asked for something the Tinker service cannot do (a loss, a config key). */
export class TinkerUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TinkerUnsupportedError";
  }
}
