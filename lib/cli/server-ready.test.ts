import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { portInUse, waitUntilServing } from "./server-ready";

function listen(server: http.Server, port = 0): Promise<number> {
  return new Promise((resolve) => server.listen(port, () => resolve((server.address() as AddressInfo).port)));
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("portInUse", () => {
  it("is true while a server listens on the port and false once it has stopped", async () => {
    const server = http.createServer();
    const port = await listen(server);
    expect(await portInUse(port)).toBe(true);
    await close(server);
    expect(await portInUse(port)).toBe(false);
  });
});

describe("waitUntilServing", () => {
  it("waits for a server that starts listening later and reports its health status", async () => {
    // Take a free port, then serve on it only after a while, as `next start` does.
    const probe = http.createServer();
    const port = await listen(probe);
    await close(probe);
    const server = http.createServer((_req, res) => res.writeHead(503).end());
    const starting = sleep(400).then(() => listen(server, port));
    const ready = await waitUntilServing(`http://127.0.0.1:${port}/api/health`, {
      exited: new Promise(() => {}),
      intervalMs: 50,
    });
    await starting;
    await close(server);
    expect(ready).toMatchObject({ status: "answered", httpStatus: 503 });
    expect(ready.status === "answered" && ready.ms).toBeGreaterThanOrEqual(350);
  });

  it("gives up when the server exits before it ever answers", async () => {
    const probe = http.createServer();
    const port = await listen(probe);
    await close(probe);
    const ready = await waitUntilServing(`http://127.0.0.1:${port}/api/health`, { exited: sleep(200), intervalMs: 50 });
    expect(ready).toEqual({ status: "exited" });
  });
});
