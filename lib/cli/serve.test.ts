import { describe, expect, it } from "vitest";
import { readEnv, resolveConfig } from "@/lib/config";
import { planServe } from "./serve";

describe("planServe", () => {
  const root = "/opt/continualcode";

  it("hands the flags to the server through its environment, so the server resolves the same config", () => {
    const plan = planServe({
      argv: ["--port", "3100", "--temperature", "0.2", "--no-training", "--data-dir", "state"],
      env: { HOME: "/home/x", TINKER_API_KEY: "tml-k", CONTINUALCODE_TEMPERATURE: "0.9" },
      cwd: "/srv",
      root,
    });
    expect(plan.dataDir).toBe("/srv/state");
    expect(plan.env).toMatchObject({
      HOME: "/home/x",
      CONTINUALCODE_ROOT: root,
      CONTINUALCODE_DATA_DIR: "/srv/state",
      CONTINUALCODE_PORT: "3100",
      CONTINUALCODE_TEMPERATURE: "0.2",
      CONTINUALCODE_TRAINING: "false",
    });
    const server = resolveConfig({ env: plan.env });
    expect(server.config).toEqual({ ...plan.config, dataDir: "/srv/state" });
    expect([server.sources.port, server.sources.temperature, server.sources.tinkerApiKey]).toEqual([
      "flag",
      "flag",
      "env",
    ]);
    expect(readEnv(plan.env).tinkerApiKey).toBe("tml-k");
  });

  it("without flags serves on the default port with ./.data under the working directory", () => {
    const plan = planServe({ argv: [], env: {}, cwd: "/work", root });
    expect([plan.config.port, plan.dataDir]).toEqual([3000, "/work/.data"]);
  });

  it("throws the flag's error for a bad flag", () => {
    expect(() => planServe({ argv: ["--port", "http"], env: {}, cwd: "/", root })).toThrow(
      "--port: expected a number, got 'http'",
    );
  });
});
