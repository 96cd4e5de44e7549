/**
 * The user's resolved settings (flags, environment, per-user overrides; lib/config) as SDPO's
 * config, so every SDPO flag the original had takes effect in one place: --kl-coef, --is-clip,
 * --learning-rate, --no-sdpo, --enable-rl, and ours. The policy's own flags (--checkpoint,
 * --teacher-model, --lora-rank, --no-training) are read by lib/agent/policy-runtime.ts.
 */
import type { Config } from "@/lib/config";
import { sdpoConfig, type SDPOConfig } from "./config";

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
