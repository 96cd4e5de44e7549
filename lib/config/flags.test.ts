import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, envName, fieldInfo, flagName } from "./fields";
import { parseFlags } from "./flags";

describe("parseFlags", () => {
  const cases: Array<[string[], Record<string, unknown>]> = [
    [[], {}],
    [["--model", "Qwen/Qwen3-4B-Instruct-2507"], { model: "Qwen/Qwen3-4B-Instruct-2507" }],
    [["--checkpoint", "tinker://run/1"], { checkpoint: "tinker://run/1" }],
    [["--teacher-model", "Qwen/Qwen3-8B"], { teacherModel: "Qwen/Qwen3-8B" }],
    [["--teacher-checkpoint=/ckpt/t"], { teacherCheckpoint: "/ckpt/t" }],
    [["--tinker-url", "https://tinker.example/api"], { tinkerUrl: "https://tinker.example/api" }],
    [["--tinker-api-key", "tml-abc"], { tinkerApiKey: "tml-abc" }],
    [["--max-tokens", "512"], { maxTokens: 512 }],
    [["--temperature", "0"], { temperature: 0 }],
    [["--temperature=1.25"], { temperature: 1.25 }],
    [["--no-training"], { training: false }],
    [["--training"], { training: true }],
    [["--no-sdpo"], { sdpo: false }],
    [["--enable-rl"], { enableRl: true }],
    [["--enable-rl=false"], { enableRl: false }],
    [["--lora-rank", "64"], { loraRank: 64 }],
    [["--learning-rate", "3e-5"], { learningRate: 3e-5 }],
    [["--kl-coef", "0.5"], { klCoef: 0.5 }],
    [["--is-clip", "1.5"], { isClip: 1.5 }],
    [["--auto-approve-readonly"], { autoApproveReadonly: true }],
    [["--port", "3100"], { port: 3100 }],
    [["--data-dir", "/var/cc"], { dataDir: "/var/cc" }],
    [["--teacher-mode", "ema", "--ema-tau", "0.1"], { teacherMode: "ema", emaTau: 0.1 }],
    [["--teacher-mode", "frozen", "--teacher-refresh-every", "5"], { teacherMode: "frozen", teacherRefreshEvery: 5 }],
    [["--loss-mode", "topk_kl"], { lossMode: "topk_kl" }],
    [["--save-every", "10"], { saveEvery: 10 }],
    [["--max-steps", "7"], { maxSteps: 7 }],
    [["--bash-timeout-sec", "600"], { bashTimeoutSec: 600 }],
    [["--unsandboxed-bash"], { unsandboxedBash: true }],
    [["--temperature", "0.1", "--temperature", "0.2"], { temperature: 0.2 }],
  ];
  it.each(cases)("%j parses to %j", (argv, expected) => {
    expect(parseFlags(argv)).toEqual(expected);
  });

  const bad: Array<[string[], string]> = [
    [["--temperature", "abc"], "--temperature: expected a number, got 'abc'"],
    [["--temperature", "2.5"], "--temperature: must be at most 2, got '2.5'"],
    [["--temperature"], "--temperature: expected a value"],
    [["--temperature", "--no-sdpo"], "--temperature: expected a value"],
    [["--max-tokens", "1.5"], "--max-tokens: must be a whole number, got '1.5'"],
    [["--lora-rank", "48"], "--lora-rank: must be a power of two (1, 2, 4 … 256), got '48'"],
    [["--lora-rank", "512"], "--lora-rank: must be at most 256, got '512'"],
    [["--is-clip", "1"], "--is-clip: must be greater than 1, got '1'"],
    [["--learning-rate", "0"], "--learning-rate: must be greater than 0, got '0'"],
    [["--teacher-mode", "mentor"], "--teacher-mode: must be one of student, ema, frozen, got 'mentor'"],
    [["--loss-mode", "kl"], "--loss-mode: must be one of token, full_kl, topk_kl, got 'kl'"],
    [["--bash-timeout-sec", "601"], "--bash-timeout-sec: must be at most 600, got '601'"],
    [["--port", "70000"], "--port: must be at most 65535, got '70000'"],
    [["--tinker-url", "ftp://x"], "--tinker-url: must be an http(s) URL, got 'ftp://x'"],
    [["--tinker-api-key", ""], "--tinker-api-key: must not be empty"],
    [["--enable-rl=maybe"], "--enable-rl: expected true or false, got 'maybe'"],
    [["--no-training=1"], "--no-training: takes no value"],
    [["--no-model"], "--no-model: unknown flag (see --help)"],
    [["--verbose"], "--verbose: unknown flag (see --help)"],
    [["serve"], "serve: unexpected argument (flags start with --; see --help)"],
  ];
  it.each(bad)("%j is rejected with %j", (argv, message) => {
    expect(() => parseFlags(argv)).toThrow(message);
  });
});

describe("the field table", () => {
  it("has every flag of the original product", () => {
    const original = [
      "--model",
      "--checkpoint",
      "--teacher-model",
      "--teacher-checkpoint",
      "--tinker-url",
      "--tinker-api-key",
      "--max-tokens",
      "--temperature",
      "--training",
      "--sdpo",
      "--enable-rl",
      "--lora-rank",
      "--learning-rate",
      "--kl-coef",
      "--is-clip",
      "--auto-approve-readonly",
    ];
    const flags = CONFIG_KEYS.map(flagName);
    expect(original.filter((f) => !flags.includes(f))).toEqual([]);
  });

  it("derives environment names as CONTINUALCODE_<UPPER_SNAKE> and keeps the original's aliases", () => {
    const byKey = Object.fromEntries(fieldInfo().map((f) => [f.key, f.env]));
    expect(byKey.maxTokens).toEqual(["CONTINUALCODE_MAX_TOKENS"]);
    expect(byKey.autoApproveReadonly).toEqual(["CONTINUALCODE_AUTO_APPROVE_READONLY"]);
    expect(byKey.tinkerApiKey).toEqual(["CONTINUALCODE_TINKER_API_KEY", "TINKER_API_KEY"]);
    expect(byKey.tinkerUrl).toEqual(["CONTINUALCODE_TINKER_URL", "TINKER_BASE_URL"]);
    expect(byKey.port).toEqual(["CONTINUALCODE_PORT", "PORT"]);
    expect(byKey.dataDir).toEqual(["CONTINUALCODE_DATA_DIR"]);
    expect(envName("bashTimeoutSec")).toBe("CONTINUALCODE_BASH_TIMEOUT_SEC");
  });

  it("marks the per-user settings and keeps operator settings and secrets off that list", () => {
    const perUser = fieldInfo()
      .filter((f) => f.perUser)
      .map((f) => f.key);
    for (const key of ["model", "temperature", "maxTokens", "loraRank", "learningRate", "klCoef", "isClip"] as const) {
      expect(perUser).toContain(key);
    }
    for (const key of [
      "teacherModel",
      "teacherCheckpoint",
      "autoApproveReadonly",
      "training",
      "sdpo",
      "enableRl",
    ] as const) {
      expect(perUser).toContain(key);
    }
    for (const key of ["lossMode", "teacherMode", "emaTau"] as const) expect(perUser).toContain(key);
    for (const key of ["port", "dataDir", "tinkerApiKey", "tinkerUrl", "unsandboxedBash", "bashTimeoutSec"] as const) {
      expect(perUser).not.toContain(key);
    }
    expect(
      fieldInfo()
        .filter((f) => f.secret)
        .map((f) => f.key),
    ).toEqual(["tinkerApiKey"]);
  });

  it("every default passes its own schema", async () => {
    const { configSchema, DEFAULTS } = await import("./schema");
    expect(configSchema.parse(DEFAULTS)).toEqual(DEFAULTS);
    expect(DEFAULTS).toMatchObject({
      model: "continualcode/qwen3-tiny-coder",
      maxTokens: undefined,
      temperature: 0.7,
      training: true,
      sdpo: true,
      enableRl: false,
      loraRank: 32,
      learningRate: 1e-5,
      klCoef: 1,
      isClip: 2,
      autoApproveReadonly: false,
      port: 3000,
      dataDir: "./.data",
      teacherMode: "student",
      emaTau: 0.05,
      teacherRefreshEvery: 10,
      lossMode: "token",
      saveEvery: 0,
      maxSteps: 50,
      bashTimeoutSec: 30,
      unsandboxedBash: false,
    });
  });
});
