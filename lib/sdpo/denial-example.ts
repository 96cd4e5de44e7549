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
