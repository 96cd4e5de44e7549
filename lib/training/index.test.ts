/**
 * Backend selection and the health probe: no Tinker settings means the embedded engine, a Tinker
 * URL or key means Tinker; describeBackend reports reachability with a reason and never throws.
 */
import type http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FIXTURE_DIR } from "./contract-suite";
import { type AnyBackend, createTrainingBackend, describeBackend } from "./index";
import { BigramBackend } from "./tinker/bigram-backend.fixture";
import { createTinkerProtocolServer } from "./tinker/server";

const embeddedConfig = { tinkerUrl: undefined, tinkerApiKey: undefined, dataDir: "./.data", model: FIXTURE_DIR };
let server: http.Server;
let url: string;
const made: AnyBackend[] = [];
const make = (config: Parameters<typeof createTrainingBackend>[0]) => {
  const backend = createTrainingBackend(config);
  made.push(backend);
  return backend;
};

beforeAll(async () => {
  server = createTinkerProtocolServer(new BigramBackend(), { apiKey: "k" });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(made.map((b) => b.close()));
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("createTrainingBackend", () => {
  it("without a Tinker URL or key is the embedded backend", () => {
    const backend = make(embeddedConfig);
    expect(backend.kind).toBe("embedded");
    expect(backend.capabilities.teacherModes).toContain("ema");
  });

  it("with a Tinker URL and key is the Tinker backend", () => {
    const tinker = make({ ...embeddedConfig, tinkerUrl: url, tinkerApiKey: "k" });
    expect(tinker.kind).toBe("tinker");
    expect(tinker.capabilities).toMatchObject({
      importanceSamplingClipRatio: false,
      teacherModes: ["student", "frozen"],
    });
  });

  it("a Tinker URL without a key is refused with the flag to set", () => {
    expect(() => make({ ...embeddedConfig, tinkerUrl: url })).toThrow(/--tinker-api-key or set TINKER_API_KEY/);
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
    expect(await describeBackend(embeddedConfig, 2_000, make(embeddedConfig))).toMatchObject({
      kind: "embedded",
      reachable: true,
    });
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
