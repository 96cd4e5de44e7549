/**
 * The cross-site request rule for every request that can change state (anything but GET, HEAD and
 * OPTIONS: server actions, route handlers, the auth endpoints): it must say it comes from this
 * site, by `Sec-Fetch-Site: same-origin` or by an `Origin` whose host is the one it was sent to.
 * Next compares Origin with Host for server actions only when an Origin is present, and route
 * handlers not at all; a request without either header is refused here, since every browser sends
 * one on a POST and a script that sends neither is not a page of this site.
 */
export const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

export interface SameOriginOptions {
  /** --trust-proxy: X-Forwarded-Host names the host the browser sent the request to. */
  trustProxy: boolean;
  /** BETTER_AUTH_URL, when set: the instance's public URL, also accepted. */
  publicUrl?: string;
}

/** Why the request is refused, or null when it may go on. */
export function crossOriginRefusal(method: string, headers: Headers, options: SameOriginOptions): string | null {
  if (SAFE_METHODS.has(method.toUpperCase())) return null;
  if (headers.get("sec-fetch-site") === "same-origin") return null;
  const origin = headers.get("origin");
  if (!origin || origin === "null") return "a request that changes state must come from this site (no Origin header)";
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return `a request that changes state must come from this site (Origin "${origin}" is not a URL)`;
  }
  // Host only, not the scheme, as Next does for server actions: a TLS proxy in front turns https into http.
  const hosts = [headers.get("host")];
  if (options.trustProxy) hosts.push(headers.get("x-forwarded-host")?.split(",")[0]?.trim() ?? null);
  if (options.publicUrl) hosts.push(new URL(options.publicUrl).host);
  if (hosts.includes(originHost)) return null;
  return `a request that changes state must come from this site (Origin ${origin} is not ${hosts.filter(Boolean).join(" or ") || "this host"})`;
}
