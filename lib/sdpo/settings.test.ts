import { describe, expect, it } from "vitest";
import { DEFAULTS } from "@/lib/config";
import { DEFAULT_SDPO_CONFIG } from "./config";
import { sdpoConfigFromSettings } from "./settings";

describe("settings as SDPO options", () => {
  it("the settings table's defaults are the original's SDPO defaults, and the SDPO defaults are the table's", () => {
    expect(DEFAULT_SDPO_CONFIG).toMatchObject({
      klCoef: 1,
      isClip: 2,
      learningRate: 1e-5,
      lossMode: "token",
      teacherMode: "student",
      emaTau: 0.05,
      teacherRefreshEvery: 10,
      enableSdpo: true,
      enableRl: false,
    });
    expect(sdpoConfigFromSettings(DEFAULTS)).toEqual(DEFAULT_SDPO_CONFIG);
  });

  it("every SDPO flag reaches the config", () => {
    const config = {
      ...DEFAULTS,
      klCoef: 0.5,
      isClip: 3,
      learningRate: 2e-5,
      loraRank: 8,
      training: false,
      sdpo: false,
      enableRl: true,
      checkpoint: "/c",
      teacherModel: "Qwen/Qwen3-8B",
      teacherCheckpoint: "/t",
      teacherMode: "ema" as const,
      lossMode: "topk_kl" as const,
    };
    expect(sdpoConfigFromSettings(config)).toMatchObject({
      klCoef: 0.5,
      isClip: 3,
      learningRate: 2e-5,
      enableSdpo: false,
      enableRl: true,
      teacherMode: "ema",
      lossMode: "topk_kl",
    });
  });
});
