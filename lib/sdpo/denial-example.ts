/**
 * A denial as a step trains on it: the sampled completion, and the teacher's prompt (the student's
 * messages plus the correction, rendered with the same tools) that scores it again. One builder
 * for every caller: the agent's queue (a step rebuilt from the database) and the learning
 * benchmark (a correction made in memory).
 */
import type { Message, Renderer, ToolSpec } from "@/lib/chat/types";
import type { SDPOConfig } from "./config";
import { buildTeacherMessages } from "./teacher";
import type { DenialExample, SampledCompletion } from "./train-step";

export interface Correction {
  feedback: string;
  /** The user's demonstration (an edited call), when there is one. */
  solution?: string;
  /** The tool's error output, when the correction followed a tool failure. */
  environmentFeedback?: string;
}

export function denialExample({
  completion,
  promptMessages,
  task,
  correction,
  renderer,
  tools,
  config,
  reward,
}: {
  completion: SampledCompletion;
  /** What the student saw when it sampled `completion`. */
  promptMessages: Message[];
  /** The user's original task. */
  task: string;
  correction: Correction;
  renderer: Renderer;
  tools: ToolSpec[];
  config: SDPOConfig;
  /** RL's −1, once per completion, when RL is on. */
  reward?: number;
}): DenialExample {
  const teacherMessages = buildTeacherMessages(
    {
      promptMessages,
      task,
      feedback: correction.feedback,
      solution: correction.solution,
      environmentFeedback: correction.environmentFeedback,
    },
    config,
  );
  return {
    promptTokens: completion.promptTokens,
    completionTokens: completion.completionTokens,
    samplingLogprobs: completion.samplingLogprobs,
    teacherPromptTokens: renderer.renderPrompt(teacherMessages, tools, { addGenerationPrompt: true }).tokens,
    hasSolution: Boolean(correction.solution?.trim()),
    reward,
  };
}

/**
 * The denial cut to fit a context of `window` positions under both prompts. The teacher's prompt
 * is the student's plus the correction, so a reply that filled the student's window (a model
 * rambling to its token limit) no longer fits behind it; the step then trains on the reply's first
 * tokens, whose teacher scores are exact, instead of failing. Null when not even one token fits.
 */
export function fitToWindow(example: DenialExample, window: number): DenialExample | null {
  const room = window - Math.max(example.promptTokens.length, example.teacherPromptTokens.length);
  if (room >= example.completionTokens.length) return example;
  if (room < 1) return null;
  return {
    ...example,
    completionTokens: example.completionTokens.slice(0, room),
    samplingLogprobs: example.samplingLogprobs.slice(0, room),
  };
}
