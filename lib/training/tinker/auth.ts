/**
 * The optional JWT credential (tinker-api.md §1): when the server's client config says
 * `pjwt_auth_enabled`, the API key is exchanged at `/api/v1/auth/token` for a JWT that then travels
 * in `X-API-Key`. The token's `exp` claim drives refreshes: in the background 300 s before expiry,
 * on demand when under 60 s remain, 60 s after a failed refresh. The timer is unref'd.
 */
import type { Credential } from "./http";

const REFRESH_BEFORE_EXPIRY_MS = 300_000;
const ON_DEMAND_REFRESH_MS = 60_000;
const RETRY_AFTER_FAILURE_MS = 60_000;

/** The `exp` claim (seconds since the epoch) of a JWT, read without checking the signature. */
export function decodeJwtExpiry(token: string): number | null {
  const payload = token.split(".")[1];
  if (payload === undefined) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp : null;
  } catch {
    return null;
  }
}

export class JwtCredential implements Credential {
  private token = "";
  private refreshing: Promise<string> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly exchange: () => Promise<string>,
    private readonly nowEpochMs: () => number = Date.now,
  ) {}

  /** Performs the first exchange; the caller awaits it before using the credential. */
  async start(): Promise<void> {
    await this.refresh();
  }

  async get(): Promise<string> {
    const exp = decodeJwtExpiry(this.token);
    if (exp !== null && exp * 1000 - this.nowEpochMs() < ON_DEMAND_REFRESH_MS) return this.refresh();
    return this.token;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private refresh(): Promise<string> {
    this.refreshing ??= this.exchange()
      .then((token) => {
        this.token = token;
        this.schedule(this.untilBackgroundRefresh());
        return token;
      })
      .catch((error: unknown) => {
        this.schedule(RETRY_AFTER_FAILURE_MS);
        throw error;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  private untilBackgroundRefresh(): number | null {
    const exp = decodeJwtExpiry(this.token);
    return exp === null ? null : Math.max(0, exp * 1000 - REFRESH_BEFORE_EXPIRY_MS - this.nowEpochMs());
  }

  private schedule(delayMs: number | null): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.closed || delayMs === null) return;
    // setTimeout fires at once for delays past 2^31-1 ms; tokens living that long refresh in 24 days.
    this.timer = setTimeout(
      () => {
        this.refresh().catch(() => {});
      },
      Math.min(delayMs, 2_147_483_647),
    );
    this.timer.unref();
  }
}
