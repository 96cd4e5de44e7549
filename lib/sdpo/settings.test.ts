import { describe, expect, it } from "vitest";
import { DEFAULTS } from "@/lib/config";
import { DEFAULT_SDPO_CONFIG } from "./config";
import { sessionOptionsFromSettings } from "./settings";

describe("settings as SDPO options", () => {
  it("the defaults are the original's SDPO defaults", () => {
    const o = sessionOptionsFromSettings(DEFAULTS);
    expect(o.sdpo).toEqual({ ...DEFAULT_SDPO_CONFIG });
    expect(o).toMatchObject({
      enableTraining: true,
      loraRank: 32,
      maxTokens: undefined,
      temperature: 0.7,
      saveEvery: 0,
    });
  });

  it("every training flag reaches the session", () => {
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
    const o = sessionOptionsFromSettings(config);
    expect(o).toMatchObject({
      enableTraining: false,
      loraRank: 8,
      checkpoint: "/c",
      teacherModel: "Qwen/Qwen3-8B",
      teacherCheckpoint: "/t",
    });
    expect(o.sdpo).toMatchObject({
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
