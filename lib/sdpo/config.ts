/**
 * SDPO's settings in one record, with the original product's defaults (seed-behaviour §3, §6) and
 * the switches it lacked or ignored (is_clip, teacher and loss modes, RL with a baseline). The
 * fields a user can set take their defaults from the settings table (lib/config/fields.ts) through
 * `fromSettings`, the one place a setting becomes SDPO's; the rest are the original's constants.
 * Everything in lib/sdpo reads only this record.
 */
import { type Config, DEFAULTS } from "@/lib/config/schema";
import type { LOSS_MODES } from "@/lib/config/fields";
import type { TeacherMode } from "@/lib/training/types";

export type { TeacherMode };
export type LossMode = (typeof LOSS_MODES)[number];

/**
 * The teacher's extra user message. Placeholders are `{task}`, `{solution}`, `{feedback}` and
 * `{environment}`; each is filled in one pass, so braces inside a correction survive as written.
 */
export interface TeacherTemplates {
  /** The whole message: the task slot, then the optional sections, then the closing instruction. */
  reprompt: string;
  /** Wraps the demonstration (the user's edited call) when there is one. */
  solution: string;
  /** Wraps the correction. */
  feedback: string;
  /** Wraps the tool's error output when the correction followed a tool failure. */
  environment: string;
}

export const DEFAULT_TEMPLATES: TeacherTemplates = {
  reprompt: "{task}{solution}{feedback}{environment}\n\nCorrectly solve the original question.",
  solution: "\n\nCorrect solution:\n\n{solution}",
  feedback: "\n\nThe following is feedback from your unsuccessful earlier attempt:\n\n{feedback}",
  environment: "\n\nEnvironment output:\n\n{environment}",
};

export interface SDPOConfig {
  /** Scales every per-token advantage (and, in the KL losses, each position's weight). */
  klCoef: number;
  /** Importance-sampling ratio cap: exp(current − sampling) above this is clipped. */
  isClip: number;
  learningRate: number;
  /** Boost small advantages toward `targetAdvAbsMean` by a gain in [1, adaptiveKlMaxGain]. */
  adaptiveKl: boolean;
  targetAdvAbsMean: number;
  adaptiveKlMaxGain: number;
  lossMode: LossMode;
  /** Teacher tokens per position for topk_kl. */
  topK: number;
  teacherMode: TeacherMode;
  /** EMA teacher update rate per step (teacherMode "ema"). */
  emaTau: number;
  /** Steps between refreshes of the frozen teacher (teacherMode "frozen"). */
  teacherRefreshEvery: number;
  templates: TeacherTemplates;
  /** Characters (not tokens) of the teacher's extra message; the task slot is trimmed first. */
  maxRepromptChars: number;
  /** Drop `<think>…</think>` from the demonstration before it goes into the solution slot. */
  removeThinkingFromDemonstration: boolean;
  /** Put a failed tool's output into the teacher context (the original left this off). */
  includeEnvironmentFeedback: boolean;
  /** `--no-sdpo`: denials train nothing (RL, when on, still does). */
  enableSdpo: boolean;
  /** `--enable-rl`: approved +1, denied −1, minus a running-mean baseline, over the completion. */
  enableRl: boolean;
  /** How many of the user's recent approved calls each correction's step also trains on, to keep them (0: none). */
  rehearsalCalls: number;
  /** The advantage on each token of a rehearsed approved call: how hard the step holds on to it. */
  rehearsalWeight: number;
}

/** The settings SDPO reads (their flags, defaults and ranges are lib/config/fields.ts's). */
export type SdpoSettings = Pick<
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
  | "rehearsalCalls"
  | "rehearsalWeight"
>;

/** The part of SDPO's record that settings decide, from those settings. */
export function fromSettings(s: SdpoSettings) {
  return {
    klCoef: s.klCoef,
    isClip: s.isClip,
    learningRate: s.learningRate,
    enableSdpo: s.sdpo,
    enableRl: s.enableRl,
    teacherMode: s.teacherMode,
    emaTau: s.emaTau,
    teacherRefreshEvery: s.teacherRefreshEvery,
    lossMode: s.lossMode,
    rehearsalCalls: s.rehearsalCalls,
    rehearsalWeight: s.rehearsalWeight,
  } satisfies Partial<SDPOConfig>;
}

export const DEFAULT_SDPO_CONFIG: SDPOConfig = {
  // Not settings: the original's constants.
  adaptiveKl: true,
  targetAdvAbsMean: 0.03,
  adaptiveKlMaxGain: 4.0,
  topK: 20,
  templates: DEFAULT_TEMPLATES,
  maxRepromptChars: 10_240,
  removeThinkingFromDemonstration: false,
  includeEnvironmentFeedback: true,
  // Settings: their defaults are the settings table's.
  ...fromSettings(DEFAULTS),
};

/** Adam as the original ran it: β1 0.9, β2 0.95, ε 1e-8, no weight decay or clipping. */
export function adamFor(config: Pick<SDPOConfig, "learningRate">) {
  return { learningRate: config.learningRate, beta1: 0.9, beta2: 0.95, eps: 1e-8 };
}

export function sdpoConfig(overrides: Partial<SDPOConfig> = {}): SDPOConfig {
  return { ...DEFAULT_SDPO_CONFIG, ...overrides, templates: { ...DEFAULT_TEMPLATES, ...overrides.templates } };
}
