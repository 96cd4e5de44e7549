/**
 * Credentials for the Tinker-protocol server: a configured API key in `X-API-Key`, and optionally
 * the JWT exchange the hosted service uses (`/api/v1/auth/token` issues an HS256 token with an
 * `exp` claim). With JWTs on, only the config and token endpoints take the raw key; everything
 * else needs a valid, unexpired token, so a client that skips the exchange is caught.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface ServerAuthOptions {
  /** The accepted API key; undefined = no check (anyone on the port may train). */
  apiKey?: string;
  /** Turn on the JWT exchange and say so in the client config. */
  jwt?: { ttlSeconds?: number };
  /** Seconds since the epoch; injectable for expiry tests. */
  nowSeconds?: () => number;
}

export class ServerAuth {
  private readonly secret = randomBytes(32);
  private readonly now: () => number;

  constructor(private readonly options: ServerAuthOptions) {
    this.now = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  get jwtEnabled(): boolean {
    return this.options.jwt !== undefined;
  }

  /** The raw API key check (config and token endpoints). */
  acceptsKey(presented: string | undefined): boolean {
    if (this.options.apiKey === undefined) return true;
    return presented !== undefined && safeEqual(presented, this.options.apiKey);
  }

  /** Every other endpoint: the key, or with JWTs on, a token this server issued. */
  accepts(presented: string | undefined): boolean {
    if (!this.jwtEnabled) return this.acceptsKey(presented);
    return presented !== undefined && this.verify(presented);
  }

  issue(): string {
    const ttl = this.options.jwt?.ttlSeconds ?? 3600;
    const header = encode({ alg: "HS256", typ: "JWT" });
    const payload = encode({ sub: "tinker-protocol-client", iat: this.now(), exp: this.now() + ttl });
    return `${header}.${payload}.${this.sign(`${header}.${payload}`)}`;
  }

  private verify(token: string): boolean {
    const [header, payload, signature] = token.split(".");
    if (!header || !payload || !signature || !safeEqual(signature, this.sign(`${header}.${payload}`))) return false;
    try {
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: number };
      return typeof claims.exp === "number" && claims.exp > this.now();
    } catch {
      return false;
    }
  }

  private sign(data: string): string {
    return createHmac("sha256", this.secret).update(data).digest("base64url");
  }
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
