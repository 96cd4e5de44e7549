/**
 * `continualcode trainer serve` flags: defaults, repeated models, and bad values named by flag.
 * (The running server is exercised end to end in lib/training/tinker-contract.test.ts.)
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURE_DIR } from "@/lib/training/contract-suite";
import { EMBEDDED_MODEL } from "@/lib/training/models";
import { parseTrainerServe } from "./trainer-serve";

describe("trainer serve flags", () => {
  it("default to the bundled model on 127.0.0.1:8100 with no key, keeping what they serve in the data directory's trainer/", () => {
    const options = parseTrainerServe([], { CONTINUALCODE_DATA_DIR: "/srv/cc" });
    expect(options).toMatchObject({
      port: 8100,
      host: "127.0.0.1",
      apiKey: undefined,
      kernels: "fast",
      trainerDir: "/srv/cc/trainer",
      statesDir: "/srv/cc/trainer/states",
      maxBodyBytes: 64 * 1024 * 1024,
      seqGapTimeoutMs: 60_000,
    });
    expect(Object.keys(options.models)).toEqual([EMBEDDED_MODEL]);
  });

  it("serve each --model given, a directory under its own name", () => {
    const options = parseTrainerServe(
      [
        "--port",
        "0",
        "--api-key",
        "tml-k",
        "--model",
        FIXTURE_DIR,
        "--model",
        EMBEDDED_MODEL,
        "--data-dir",
        "/d",
        "--max-body-mib",
        "0.5",
        "--seq-gap-timeout-sec",
        "2.5",
      ],
      {},
    );
    expect(options.models).toEqual({
      [FIXTURE_DIR]: { dir: path.resolve(FIXTURE_DIR) },
      [EMBEDDED_MODEL]: expect.any(Object),
    });
    expect(options).toMatchObject({
      port: 0,
      apiKey: "tml-k",
      trainerDir: "/d/trainer",
      statesDir: "/d/trainer/states",
      maxBodyBytes: 512 * 1024,
      seqGapTimeoutMs: 2500,
    });
  });

  it("name the flag that is wrong", () => {
    expect(() => parseTrainerServe(["--port", "http"], {})).toThrow(/--port/);
    expect(() => parseTrainerServe(["--kernels", "gpu"], {})).toThrow(/--kernels/);
    expect(() => parseTrainerServe(["--model", "/no/such/dir"], {})).toThrow(/--model: \/no\/such\/dir/);
    expect(() => parseTrainerServe(["--bogus"], {})).toThrow(/bogus/);
    expect(() => parseTrainerServe(["--max-body-mib", "0"], {})).toThrow(/--max-body-mib/);
    expect(() => parseTrainerServe(["--seq-gap-timeout-sec", "0"], {})).toThrow(/--seq-gap-timeout-sec/);
  });

  it("refuse an API key the Tinker SDK would never send, without echoing it", () => {
    for (const key of ["secret-words", "tml-", "TML-abc"]) {
      let message = "";
      try {
        parseTrainerServe(["--api-key", key], {});
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^--api-key: the Tinker SDK only sends keys that start with "tml-"/);
      if (key.length > 4) expect(message).not.toContain(key);
    }
    expect(parseTrainerServe(["--api-key", "tml-abc"], {}).apiKey).toBe("tml-abc");
  });
});
