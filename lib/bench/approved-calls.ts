/**
 * The benchmark's stand-in for a user's history of approved calls: the untrained model's own first
 * replies on tasks of the other families, kept where the call is the task's ideal call (what a user
 * would approve unchanged). These tasks use their own seeds, never the evaluation's, so rehearsing
 * them cannot inflate the unrelated success the benchmark measures.
 */
import type { Renderer, ToolSpec } from "@/lib/chat/types";
import type { RehearsalCall } from "@/lib/sdpo/rehearsal";
import type { SamplingClient } from "@/lib/training/types";
import type { DecisionPoint } from "./decision-points";
import { firstProposal, matchesIdeal } from "./proposals";

export interface ApprovedCallOptions {
  renderer: Renderer;
  tools: ToolSpec[];
  temperature: number;
  maxTokens: number;
  seed: number;
}

/** Each point's sampled first reply, kept (prompt and reply tokens) when its call is the ideal one. */
export async function approvedCalls(
  sampler: SamplingClient,
  points: readonly DecisionPoint[],
  o: ApprovedCallOptions,
): Promise<RehearsalCall[]> {
  const kept: RehearsalCall[] = [];
  for (const [i, point] of points.entries()) {
    const promptTokens = o.renderer.renderPrompt(point.messages, o.tools, { addGenerationPrompt: true }).tokens;
    const seq = (
      await sampler.sample(promptTokens, {
        maxTokens: o.maxTokens,
        temperature: o.temperature,
        seed: o.seed + 20_000 + i,
        stop: o.renderer.stopTokens,
      })
    ).sequences[0]!;
    const p = firstProposal(o.renderer, o.tools, seq.tokens, seq.stopReason);
    if (matchesIdeal(p.call, point.ideal)) kept.push({ promptTokens, completionTokens: seq.tokens });
  }
  return kept;
}
