/**
 * Backend selection and the health probe: no Tinker settings means the embedded engine, a Tinker
 * URL or key means Tinker; one backend per process until the settings change; describeBackend
 * reports reachability with a reason and never throws.
 */
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FIXTURE_DIR } from "./contract-suite";
import { closeTrainingBackend, describeBackend, getTrainingBackend } from "./index";
import { BigramBackend } from "./tinker/bigram-backend.fixture";
import { createTinkerProtocolServer } from "./tinker/server";

const embeddedConfig = { tinkerUrl: undefined, tinkerApiKey: undefined, dataDir: "./.data", model: FIXTURE_DIR };
let server: http.Server;
let url: string;

beforeAll(async () => {
  server = createTinkerProtocolServer(new BigramBackend(), { apiKey: "k" });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await closeTrainingBackend();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("getTrainingBackend", () => {
  it("without a Tinker URL or key is the embedded backend, one per process", () => {
    const backend = getTrainingBackend(embeddedConfig);
    expect(backend.kind).toBe("embedded");
    expect(backend.capabilities.teacherModes).toContain("ema");
    expect(getTrainingBackend({ ...embeddedConfig })).toBe(backend);
  });

  it("with a Tinker URL and key is the Tinker backend, replacing the embedded one", () => {
    const embedded = getTrainingBackend(embeddedConfig);
    const tinker = getTrainingBackend({ ...embeddedConfig, tinkerUrl: url, tinkerApiKey: "k" });
    expect(tinker.kind).toBe("tinker");
    expect(tinker).not.toBe(embedded);
    expect(tinker.capabilities).toMatchObject({
      importanceSamplingClipRatio: false,
      teacherModes: ["student", "frozen"],
    });
  });

  it("a Tinker URL without a key is refused with the flag to set", () => {
    expect(() => getTrainingBackend({ ...embeddedConfig, tinkerUrl: url })).toThrow(
      /--tinker-api-key or set TINKER_API_KEY/,
    );
  });
});

describe("describeBackend", () => {
  it("reports a Tinker server that answers its health check as reachable", async () => {
    expect(await describeBackend({ ...embeddedConfig, tinkerUrl: url, tinkerApiKey: "k" })).toEqual({
      kind: "tinker",
      reachable: true,
      detail: `${url}/api/v1/healthz ok`,
    });
  });

  it("reports a Tinker URL with nothing listening as unreachable, with the reason", async () => {
    const health = await describeBackend(
      { ...embeddedConfig, tinkerUrl: "http://127.0.0.1:9", tinkerApiKey: "k" },
      500,
    );
    expect(health).toMatchObject({ kind: "tinker", reachable: false });
    expect(health.detail).toMatch(/^http:\/\/127\.0\.0\.1:9\/api\/v1\/healthz: /);
  });

  it("reports the embedded model's weights as present or names what is missing", async () => {
    expect(await describeBackend(embeddedConfig)).toMatchObject({ kind: "embedded", reachable: true });
    const missing = await describeBackend({ ...embeddedConfig, model: "no/such-model" });
    expect(missing).toMatchObject({ kind: "embedded", reachable: false });
    expect(missing.detail).toMatch(/unknown model no\/such-model/);
  });

  it("reports an invalid environment instead of throwing", async () => {
    vi.stubEnv("TINKER_BASE_URL", "ftp://example.invalid");
    try {
      const health = await describeBackend();
      expect(health).toMatchObject({ kind: "tinker", reachable: false });
      expect(health.detail).toMatch(/TINKER_BASE_URL/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("turns a configuration that cannot make a backend into an unreachable report", async () => {
    expect(await describeBackend({ ...embeddedConfig, tinkerUrl: url })).toMatchObject({
      kind: "tinker",
      reachable: false,
      detail: expect.stringMatching(/API key/),
    });
  });
});
