/**
 * The user's resolved settings (flags, environment, per-user overrides; lib/config) as SDPO's
 * config, so every SDPO flag the original had takes effect in one place: --kl-coef, --is-clip,
 * --learning-rate, --no-sdpo, --enable-rl, and ours. The policy's own flags (--checkpoint,
 * --teacher-model, --lora-rank, --no-training) are read by lib/agent/policy-runtime.ts.
 */
import { fromSettings, type SdpoSettings, sdpoConfig, type SDPOConfig } from "./config";

export function sdpoConfigFromSettings(s: SdpoSettings): SDPOConfig {
  return sdpoConfig(fromSettings(s));
}
