import { describe, expect, it } from "vitest";
import { flagsToEnv, readEnv } from "./env";
import { parseFlags } from "./flags";
import { publicConfig, resolveConfig, validateUserSettings } from "./resolve";

describe("readEnv", () => {
  it("reads CONTINUALCODE_* variables and the original's names, ignoring empty ones", () => {
    expect(
      readEnv({
        CONTINUALCODE_TEMPERATURE: "0.3",
        CONTINUALCODE_NO_SUCH: "x",
        CONTINUALCODE_TRAINING: "false",
        TINKER_API_KEY: "tml-secret",
        TINKER_BASE_URL: "http://localhost:8000",
        PORT: "8080",
        CONTINUALCODE_DATA_DIR: "/data",
        CONTINUALCODE_MODEL: "",
      }),
    ).toEqual({
      temperature: 0.3,
      training: false,
      tinkerApiKey: "tml-secret",
      tinkerUrl: "http://localhost:8000",
      port: 8080,
      dataDir: "/data",
    });
  });

  it("prefers CONTINUALCODE_<KEY> over the original's name", () => {
    expect(readEnv({ CONTINUALCODE_PORT: "3100", PORT: "8080" })).toEqual({ port: 3100 });
    expect(readEnv({ CONTINUALCODE_TINKER_API_KEY: "a", TINKER_API_KEY: "b" })).toEqual({
      tinkerApiKey: "a",
    });
  });

  it("names the variable on a bad value and never echoes a secret", () => {
    expect(() => readEnv({ CONTINUALCODE_TEMPERATURE: "hot" })).toThrow(
      "CONTINUALCODE_TEMPERATURE: expected a number, got 'hot'",
    );
    expect(() => readEnv({ PORT: "0" })).toThrow("PORT: must be at least 1, got '0'");
    expect(() => readEnv({ CONTINUALCODE_TINKER_URL: "nope" })).toThrow(
      "CONTINUALCODE_TINKER_URL: must be an http(s) URL",
    );
  });

  it("reads back exactly what flagsToEnv wrote, so the server sees the command line's values", () => {
    const flags = parseFlags([
      "--temperature",
      "0.15",
      "--learning-rate",
      "3e-7",
      "--no-sdpo",
      "--loss-mode",
      "full_kl",
    ]);
    const env = flagsToEnv(flags);
    expect(env).toEqual({
      CONTINUALCODE_TEMPERATURE: "0.15",
      CONTINUALCODE_LEARNING_RATE: "3e-7",
      CONTINUALCODE_SDPO: "false",
      CONTINUALCODE_LOSS_MODE: "full_kl",
      CONTINUALCODE_FLAG_KEYS: "temperature,learningRate,sdpo,lossMode",
    });
    expect(readEnv(env)).toEqual(flags);
  });
});

describe("resolveConfig", () => {
  it("takes a user setting over a flag, a flag over the environment, the environment over the default", () => {
    const { config, sources } = resolveConfig({
      flags: { temperature: 0.2, maxTokens: 100 },
      env: {
        CONTINUALCODE_TEMPERATURE: "0.9",
        CONTINUALCODE_MAX_TOKENS: "200",
        CONTINUALCODE_KL_COEF: "0.5",
      },
      user: { temperature: 1.1 },
    });
    expect({ t: config.temperature, m: config.maxTokens, k: config.klCoef, r: config.loraRank }).toEqual({
      t: 1.1,
      m: 100,
      k: 0.5,
      r: 32,
    });
    expect({ t: sources.temperature, m: sources.maxTokens, k: sources.klCoef, r: sources.loraRank }).toEqual({
      t: "user",
      m: "flag",
      k: "env",
      r: "default",
    });
  });

  it("reports values the command line passed through the environment as flags", () => {
    const env = { ...flagsToEnv({ port: 3100 }), CONTINUALCODE_MODEL: "m" };
    const { config, sources } = resolveConfig({ env });
    expect([config.port, sources.port, sources.model]).toEqual([3100, "flag", "env"]);
  });

  it("ignores stored user values for operator-only keys and values that no longer validate", () => {
    const { config, sources } = resolveConfig({
      env: { CONTINUALCODE_BASH_TIMEOUT_SEC: "20" },
      user: { port: 1, bashTimeoutSec: 600, temperature: 9, loraRank: 16, unknown: true },
    });
    expect([config.port, config.bashTimeoutSec, config.temperature, config.loraRank]).toEqual([3000, 20, 0.7, 16]);
    expect([sources.port, sources.bashTimeoutSec, sources.temperature, sources.loraRank]).toEqual([
      "default",
      "env",
      "default",
      "user",
    ]);
  });

  it("rejects an invalid flag value naming the flag", () => {
    expect(() => resolveConfig({ flags: { temperature: -1 } })).toThrow("--temperature: must be at least 0");
  });

  it("with nothing set gives the defaults, every one marked as such", () => {
    const { config, sources } = resolveConfig({});
    expect(config.model).toBe("continualcode/qwen3-tiny-coder");
    expect(new Set(Object.values(sources))).toEqual(new Set(["default"]));
  });
});

describe("validateUserSettings", () => {
  it("accepts typed values and form text, and drops empty values (clearing the override)", () => {
    expect(
      validateUserSettings({
        temperature: "0.4",
        maxTokens: 256,
        training: "false",
        teacherMode: "ema",
        model: "",
      }),
    ).toEqual({
      ok: true,
      settings: { temperature: 0.4, maxTokens: 256, training: false, teacherMode: "ema" },
    });
  });

  it("names every bad, unknown or operator-only key", () => {
    expect(validateUserSettings({ temperature: "x", loraRank: 3, port: 80, colour: "red" })).toEqual({
      ok: false,
      errors: {
        temperature: "expected a number",
        loraRank: "must be a power of two (1, 2, 4 … 256)",
        port: "not a per-user setting",
        colour: "unknown setting",
      },
    });
    expect(validateUserSettings("temperature=1")).toEqual({
      ok: false,
      errors: { _: "expected an object of settings" },
    });
  });
});

describe("publicConfig", () => {
  it("masks the API key and leaves everything else alone", () => {
    const { config } = resolveConfig({ env: { TINKER_API_KEY: "tml-very-secret" } });
    const shown = publicConfig(config);
    expect(JSON.stringify(shown)).not.toContain("tml-very-secret");
    expect(shown.tinkerApiKey).toBe("••••••••");
    expect({ ...shown, tinkerApiKey: config.tinkerApiKey }).toEqual(config);
    expect(publicConfig(resolveConfig({}).config).tinkerApiKey).toBeUndefined();
  });
});

describe("resolveConfig with a model's recommendations", () => {
  const tiny = (model: string) => (model === "tiny" ? { learningRate: 3e-3, teacherMode: "ema" } : {});

  it("fills in what nobody set for the model in use and says the value came from the model", () => {
    const { config, sources } = resolveConfig({ env: { CONTINUALCODE_MODEL: "tiny" }, modelDefaults: tiny });
    expect(config.learningRate).toBe(3e-3);
    expect(config.teacherMode).toBe("ema");
    expect(sources.learningRate).toBe("model");
    expect(sources.klCoef).toBe("default");
  });

  it("yields to the user, a flag and the environment", () => {
    expect(
      resolveConfig({ env: { CONTINUALCODE_MODEL: "tiny", CONTINUALCODE_LEARNING_RATE: "2e-4" }, modelDefaults: tiny })
        .config.learningRate,
    ).toBe(2e-4);
    expect(
      resolveConfig({ flags: { model: "tiny", learningRate: 5e-4 }, modelDefaults: tiny }).config.learningRate,
    ).toBe(5e-4);
    const byUser = resolveConfig({
      env: { CONTINUALCODE_MODEL: "tiny" },
      user: { learningRate: 1e-4 },
      modelDefaults: tiny,
    });
    expect([byUser.config.learningRate, byUser.sources.learningRate]).toEqual([1e-4, "user"]);
  });

  it("follows the model the user chose, not the server's", () => {
    const { config, sources } = resolveConfig({
      env: { CONTINUALCODE_MODEL: "tiny" },
      user: { model: "Qwen/Qwen3-8B" },
      modelDefaults: tiny,
    });
    expect(config.learningRate).toBe(1e-5);
    expect(sources.learningRate).toBe("default");
  });
});
