/**
 * The sign-in rate limit over real HTTP: better-auth's handler behind an http.Server whose
 * requests carry the address stamp (client-address.ts), as under `next start`. Clients connect
 * from distinct loopback addresses (127.0.0.x) so each test has its own buckets in better-auth's
 * process-wide memory store.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/lib/db/client";
import { createTestDb } from "@/lib/db/test-db";
import { type Auth, buildAuth } from "./auth";
import { CLIENT_ADDRESS_HEADER, stampClientAddress, stampClientAddresses } from "./client-address";

let handle: DbHandle;
let auth: Auth;
beforeAll(async () => {
  handle = await createTestDb();
  auth = buildAuth({
    db: handle.db,
    secret: "test-secret-0123456789-0123456789-abcdef",
    baseURL: "http://127.0.0.1",
    rateLimit: true,
  });
});
afterAll(() => handle.close());

/** Serves better-auth with the address stamp; `stamp: false` is the server without it. */
async function serveAuth(options: { trustProxy: boolean; stamp?: boolean }) {
  const server = http.createServer(async (req, res) => {
    if (options.stamp !== false) stampClientAddress(req, options.trustProxy);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = new Headers(
      Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)] as [string, string]])),
    );
    const answer = await auth.handler(
      new Request(`http://127.0.0.1${req.url}`, {
        method: req.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      }),
    );
    res.writeHead(answer.status, Object.fromEntries(answer.headers));
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** One sign-in with a wrong password from `localAddress`, claiming `forwardedFor`; resolves with the status. */
function signIn(port: number, localAddress: string, forwardedFor: string): Promise<number> {
  const body = JSON.stringify({ email: "nobody@example.com", password: "not-the-password" });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        localAddress,
        path: "/api/auth/sign-in/email",
        method: "POST",
        agent: false,
        headers: {
          "content-type": "application/json",
          origin: "http://127.0.0.1",
          "x-forwarded-for": forwardedFor,
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => (res.resume(), res.on("end", () => resolve(res.statusCode ?? 0))),
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function tries(
  port: number,
  localAddress: string,
  forwarded: (i: number) => string,
  count = 5,
): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push(await signIn(port, localAddress, forwarded(i)));
  return statuses;
}

describe("the sign-in rate limit", () => {
  it("keys on the socket address: a new X-Forwarded-For per try still gets 429 after three", async () => {
    const server = await serveAuth({ trustProxy: false });
    try {
      expect(await tries(server.port, "127.0.0.11", (i) => `203.0.113.${i + 1}`)).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await server.close();
    }
  });

  it("keeps one client's tries from using up another's", async () => {
    const server = await serveAuth({ trustProxy: false });
    try {
      expect(await tries(server.port, "127.0.0.12", () => "203.0.113.9", 4)).toEqual([401, 401, 401, 429]);
      expect(await tries(server.port, "127.0.0.13", () => "203.0.113.9", 1)).toEqual([401]);
    } finally {
      await server.close();
    }
  });

  it("behind a trusted proxy, keys on the address the proxy appended to X-Forwarded-For", async () => {
    const server = await serveAuth({ trustProxy: true });
    try {
      // The proxy (this socket) appends each client's address; a client's own entries come before it.
      expect(await tries(server.port, "127.0.0.14", (i) => `198.51.100.7, 192.0.2.${i + 1}`)).toEqual([
        401, 401, 401, 401, 401,
      ]);
      expect(await tries(server.port, "127.0.0.14", (i) => `198.51.100.${i}, 192.0.2.200`)).toEqual([
        401, 401, 401, 429, 429,
      ]);
    } finally {
      await server.close();
    }
  });
});

describe("the request stamp", () => {
  it("replaces a client-sent address header with the socket's address on every server of the process", async () => {
    stampClientAddresses(false);
    const seen: Array<string | undefined> = [];
    const server = http.createServer(
      (req, res) => (seen.push(req.headers[CLIENT_ADDRESS_HEADER] as string | undefined), res.end()),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      await new Promise<void>((resolve, reject) =>
        http
          .get(
            {
              host: "127.0.0.1",
              port,
              localAddress: "127.0.0.15",
              agent: false,
              headers: { [CLIENT_ADDRESS_HEADER]: "10.9.8.7", "x-forwarded-for": "10.9.8.7" },
            },
            (res) => (res.resume(), res.on("end", resolve)),
          )
          .on("error", reject),
      );
      expect(seen).toEqual(["127.0.0.15"]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
