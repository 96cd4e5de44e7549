import { describe, expect, it } from "vitest";
import { JwtCredential, decodeJwtExpiry } from "./auth";
import { ServerAuth } from "./server-auth";

const jwt = (exp: number) => `h.${Buffer.from(JSON.stringify({ exp })).toString("base64url")}.s`;

describe("JWT credential", () => {
  it("reads exp from the middle segment without checking the signature", () => {
    expect(decodeJwtExpiry(jwt(1234))).toBe(1234);
    expect(decodeJwtExpiry("tml-not-a-jwt")).toBeNull();
  });

  it("refreshes on demand when under 60 s remain, and not before", async () => {
    let nowMs = 1_000_000;
    let issued = 0;
    const credential = new JwtCredential(
      async () => jwt(nowMs / 1000 + 100 + issued++),
      () => nowMs,
    );
    await credential.start();
    const first = await credential.get();
    nowMs += 30_000; // 70 s left
    expect(await credential.get()).toBe(first);
    nowMs += 15_000; // 55 s left
    const second = await credential.get();
    expect(second).not.toBe(first);
    expect(issued).toBe(2);
    credential.close();
  });

  it("tokens the protocol server issues verify until they expire", () => {
    let now = 1000;
    const auth = new ServerAuth({ apiKey: "k", jwt: { ttlSeconds: 60 }, nowSeconds: () => now });
    const token = auth.issue();
    expect(decodeJwtExpiry(token)).toBe(1060);
    expect(auth.accepts(token)).toBe(true);
    expect(auth.accepts("k")).toBe(false);
    expect(auth.accepts(`${token.slice(0, -2)}xx`)).toBe(false);
    now = 1061;
    expect(auth.accepts(token)).toBe(false);
  });
});
