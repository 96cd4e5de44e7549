import type http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BigramBackend } from "./bigram-backend.fixture";
import { RawTinker } from "./raw-http.fixture";
import { createTinkerProtocolServer } from "./server";

let server: http.Server;
let url: string;

beforeAll(async () => {
  server = createTinkerProtocolServer(new BigramBackend(), { apiKey: "tml-config" });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("client/config", () => {
  it("tells the SDK to use its plain httpx transport, uncompressed parallel chunks and the three-call from_state path", async () => {
    const answer = await new RawTinker(url, "tml-config").post("/api/v1/client/config", { sdk_version: "0.25.0" });
    expect(answer).toMatchObject({ status: 200 });
    expect(answer.body).toEqual({
      pjwt_auth_enabled: false,
      credential_default_source: "api_key",
      use_pyqwest_transport: false,
      proto_compress_fwdbwd: false,
      parallel_fwdbwd_chunks: true,
      create_model_via_load_weights: false,
    });
  });

  it("answers only a caller with the key", async () => {
    expect(
      (await new RawTinker(url, "tml-wrong").post("/api/v1/client/config", { sdk_version: "0.25.0" })).status,
    ).toBe(401);
  });
});
