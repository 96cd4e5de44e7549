/**
 * The user's resolved settings (flags, environment, per-user overrides; lib/config) as SDPO's
 * config and session options, so every flag the original had takes effect in one place:
 * --kl-coef, --is-clip, --learning-rate, --lora-rank, --no-training, --no-sdpo, --enable-rl,
 * --checkpoint, --teacher-model, --teacher-checkpoint, --max-tokens, --temperature, and ours.
 */
import type { Config } from "@/lib/config";
import { sdpoConfig, type SDPOConfig } from "./config";
import type { SDPOSessionOptions } from "./session";

type SdpoSettings = Pick<
  Config,
  | "klCoef"
  | "isClip"
  | "learningRate"
  | "sdpo"
  | "enableRl"
  | "teacherMode"
  | "emaTau"
  | "teacherRefreshEvery"
  | "lossMode"
>;
type SessionSettings = SdpoSettings &
  Pick<
    Config,
    | "model"
    | "checkpoint"
    | "teacherModel"
    | "teacherCheckpoint"
    | "maxTokens"
    | "temperature"
    | "training"
    | "loraRank"
    | "saveEvery"
  >;

export function sdpoConfigFromSettings(s: SdpoSettings): SDPOConfig {
  return sdpoConfig({
    klCoef: s.klCoef,
    isClip: s.isClip,
    learningRate: s.learningRate,
    enableSdpo: s.sdpo,
    enableRl: s.enableRl,
    teacherMode: s.teacherMode,
    emaTau: s.emaTau,
    teacherRefreshEvery: s.teacherRefreshEvery,
    lossMode: s.lossMode,
  });
}

/** Session options from settings; the caller adds the backend, renderer, stores and recorder. */
export function sessionOptionsFromSettings(s: SessionSettings): Omit<SDPOSessionOptions, "backend"> {
  return {
    model: s.model,
    checkpoint: s.checkpoint,
    teacherModel: s.teacherModel,
    teacherCheckpoint: s.teacherCheckpoint,
    maxTokens: s.maxTokens,
    temperature: s.temperature,
    enableTraining: s.training,
    loraRank: s.loraRank,
    saveEvery: s.saveEvery,
    sdpo: sdpoConfigFromSettings(s),
  };
}
