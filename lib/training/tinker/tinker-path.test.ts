import { describe, expect, it } from "vitest";
import { checkCheckpointName, formatTinkerPath, parseTinkerPath } from "./tinker-path";

describe("tinker:// checkpoint paths", () => {
  it("a path the server formats parses back to its parts", () => {
    const parts = { runId: "session-0a1b2c3d4e5f:train:0", kind: "weights" as const, name: "step-000002" };
    expect(formatTinkerPath(parts)).toBe("tinker://session-0a1b2c3d4e5f:train:0/weights/step-000002");
    expect(parseTinkerPath(formatTinkerPath(parts))).toEqual(parts);
    expect(parseTinkerPath("tinker://run/sampler_weights/final.v2")).toEqual({
      runId: "run",
      kind: "sampler_weights",
      name: "final.v2",
    });
  });

  it.each([
    ["/etc/passwd"],
    ["/work/.data/trainer/states/abc-1/step2"],
    ["file:///etc/passwd"],
    ["tinker://run/weights/../../../etc"],
    ["tinker://run/weights/.."],
    ["tinker://run/weights/."],
    ["tinker://../weights/x"],
    ["tinker://run/weights/a/b"],
    ["tinker://run/weights/a%2F..%2Fb"],
    ["tinker://run/other/x"],
    ["tinker://run/weights/"],
    ["tinker://run/weights/x\u0000y"],
    ["tinker://run/weights/.hidden"],
    [`tinker://run/weights/${"a".repeat(600)}`],
  ])("%s is not a checkpoint path", (text) => {
    expect(parseTinkerPath(text)).toBeNull();
  });

  it("a name to save under is one plain segment", () => {
    for (const good of ["step2", "final.v2", "2026-12-01_a"]) expect(() => checkCheckpointName(good)).not.toThrow();
    for (const bad of ["", ".", "..", "../x", "a/b", ".hidden", "x y", "a\\b"]) {
      expect(() => checkCheckpointName(bad)).toThrow(/checkpoint name must be/);
    }
  });
});
