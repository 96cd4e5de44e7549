import { describe, expect, it } from "vitest";
import { crossOriginRefusal } from "./same-origin";

const HOST = "ide.lan:3000";

function refusal(
  method: string,
  headers: Record<string, string>,
  options = { trustProxy: false } as { trustProxy: boolean; publicUrl?: string },
) {
  return crossOriginRefusal(method, new Headers({ host: HOST, ...headers }), options);
}

describe("the same-origin rule for requests that change state", () => {
  it.each<[string, Record<string, string>, "allowed" | "refused"]>([
    ["GET", {}, "allowed"],
    ["HEAD", { origin: "http://evil.example" }, "allowed"],
    ["POST", { origin: `http://${HOST}` }, "allowed"],
    ["POST", { origin: `https://${HOST}` }, "allowed"],
    ["POST", { "sec-fetch-site": "same-origin" }, "allowed"],
    ["POST", {}, "refused"],
    ["POST", { origin: "null" }, "refused"],
    ["POST", { origin: "http://evil.example" }, "refused"],
    ["DELETE", { origin: "http://ide.lan:3001" }, "refused"],
    ["PUT", { "sec-fetch-site": "cross-site", origin: "http://evil.example" }, "refused"],
    ["POST", { "sec-fetch-site": "same-site", origin: "http://other.lan:3000" }, "refused"],
    ["POST", { origin: "http://public.example", "x-forwarded-host": "public.example" }, "refused"],
  ])("%s with %o is %s", (method, headers, expected) => {
    expect(refusal(method, headers) === null ? "allowed" : "refused").toBe(expected);
  });

  it("names what was wrong", () => {
    expect(refusal("POST", {})).toBe("a request that changes state must come from this site (no Origin header)");
    expect(refusal("POST", { origin: "http://evil.example" })).toBe(
      "a request that changes state must come from this site (Origin http://evil.example is not ide.lan:3000)",
    );
  });

  it("takes X-Forwarded-Host only behind a trusted proxy, and the pinned public URL's host", () => {
    const behindProxy = { origin: "https://public.example", "x-forwarded-host": "public.example" };
    expect(refusal("POST", behindProxy, { trustProxy: true })).toBeNull();
    expect(
      refusal(
        "POST",
        { origin: "https://public.example" },
        { trustProxy: false, publicUrl: "https://public.example/" },
      ),
    ).toBeNull();
  });
});
