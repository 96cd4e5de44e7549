/**
 * Who is on the other end of a request, for the sign-in rate limit. Route handlers under
 * `next start` never see the socket, and Next only fills X-Forwarded-For from it when the client
 * sent none, so a client picking a new X-Forwarded-For per try had a fresh rate-limit bucket per
 * try. So the server process stamps every request, before Next reads it, with the address it
 * trusts (CLIENT_ADDRESS_HEADER, overwriting any value the client sent):
 *   - by default the socket's peer address;
 *   - with --trust-proxy, the last X-Forwarded-For entry: the one the proxy in front appended.
 */
import http from "node:http";
import { trustProxyFromEnv } from "./trust-proxy";

export const CLIENT_ADDRESS_HEADER = "x-continualcode-client-address";

/** The address to key rate limits on; undefined when there is none to trust. */
export function clientAddress(
  request: { headers: http.IncomingHttpHeaders; socket: { remoteAddress?: string } },
  trustProxy: boolean,
): string | undefined {
  if (trustProxy) {
    const forwarded = request.headers["x-forwarded-for"];
    const hops = (Array.isArray(forwarded) ? forwarded.join(",") : (forwarded ?? ""))
      .split(",")
      .map((h) => h.trim())
      .filter(Boolean);
    if (hops.length > 0) return hops[hops.length - 1];
  }
  return request.socket.remoteAddress;
}

export function stampClientAddress(request: http.IncomingMessage, trustProxy: boolean): void {
  const address = clientAddress(request, trustProxy);
  if (address === undefined) delete request.headers[CLIENT_ADDRESS_HEADER];
  else request.headers[CLIENT_ADDRESS_HEADER] = address;
}

const STAMPING = Symbol.for("continualcode.stampClientAddress");

/**
 * Stamps every request any http.Server of this process receives, from here on. `next start`
 * creates its server before app code runs and offers no hook on its requests, so this wraps the
 * servers' shared `emit` for "request" events; it is installed once, from instrumentation.ts.
 */
export function stampClientAddresses(trustProxy: boolean = trustProxyFromEnv()): void {
  const proto = http.Server.prototype as http.Server & { [STAMPING]?: true };
  if (proto[STAMPING]) return;
  const emit = proto.emit;
  proto.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "request") stampClientAddress(args[0] as http.IncomingMessage, trustProxy);
    return (emit as (event: string | symbol, ...args: unknown[]) => boolean).call(this, event, ...args);
  } as typeof emit;
  proto[STAMPING] = true;
}
