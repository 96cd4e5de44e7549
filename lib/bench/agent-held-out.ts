/**
 * bench:agent's held-out episodes: a curriculum task on a workspace the model never trained on
 * (a held-out seed), planned without habits so its first planned call is the right one, then run
 * by the model itself: every reply is sampled (temperature and seed given), every call it makes
 * is approved and executed with the real tools (bash in the bubblewrap sandbox) on a fresh copy
 * of the workspace, and its output goes back as the agent loop writes it. The episode ends at a
 * plain answer, an invalid reply, a failed call (the app would wait for a correction) or the
 * reply cap.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildSystemPrompt } from "@/lib/agent/system-prompt";
import { toolResultText } from "@/lib/agent/tool-messages";
import { classifyToolResult } from "@/lib/agent/tool-outcome";
import type { Message, Renderer } from "@/lib/chat/types";
import type { PlannedEpisode } from "@/lib/curriculum/episodes";
import { CURRICULUM_CWD, runCall, writeWorkspace } from "@/lib/curriculum/runner";
import type { NameSpace } from "@/lib/curriculum/workspace";
import { TOOL_SPECS, type ToolName } from "@/lib/tools";
import type { SamplingClient } from "@/lib/training/types";
import { type ReplyCalls, changedPath, isExactFirstReply, isMadeUpSuccess, isValidReply } from "./agent";

export type EpisodeEnd = "answer" | "invalid_reply" | "tool_failed" | "reply_cap";

export interface HeldOutRun {
  family: string;
  names: NameSpace;
  workspaceSeed: number;
  task: string;
  exactFirstCall: boolean;
  replies: number;
  validReplies: number;
  end: EpisodeEnd;
  /** The final answer's text (null: the episode ended another way). */
  answer: string | null;
  madeUpSuccess: boolean;
  /** The start of the reply that was not valid, for reading the report (null: none was). */
  invalidReply: string | null;
  /** The calls it made, as `name {args}` lines, for reading the report. */
  calls: string[];
}

export interface HeldOutOptions {
  sampler: SamplingClient;
  renderer: Renderer;
  temperature: number;
  maxTokens: number;
  maxReplies: number;
  /** Reply r of this episode samples with seed `seed + r`. */
  seed: number;
}

export async function runHeldOutEpisode(episode: PlannedEpisode, options: HeldOutOptions): Promise<HeldOutRun> {
  const { plan, workspace } = episode;
  const first = plan.steps[0]!;
  const planned = first.kind === "call" ? first.call : null;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-agent-"));
  const messages: Message[] = [
    { role: "system", content: buildSystemPrompt({ cwd: CURRICULUM_CWD }) },
    { role: "user", content: plan.task },
  ];
  const run: HeldOutRun = {
    family: plan.family,
    names: workspace.names,
    workspaceSeed: workspace.seed,
    task: plan.task,
    exactFirstCall: false,
    replies: 0,
    validReplies: 0,
    end: "reply_cap",
    answer: null,
    madeUpSuccess: false,
    invalidReply: null,
    calls: [],
  };
  const changed = new Set<string>();
  try {
    await writeWorkspace(workspace, dir);
    const ctx = { workspace: dir, sandbox: { mode: "bwrap" as const } };
    for (let r = 0; r < options.maxReplies; r++) {
      const prompt = options.renderer.renderPrompt(messages, TOOL_SPECS, { addGenerationPrompt: true });
      const seq = (
        await options.sampler.sample(prompt.tokens, {
          maxTokens: options.maxTokens,
          temperature: options.temperature,
          seed: options.seed + r,
          stop: options.renderer.stopTokens,
        })
      ).sequences[0]!;
      const parsed = options.renderer.parseCompletion(seq.tokens, seq.stopReason, { tools: TOOL_SPECS });
      const calls: ReplyCalls = parsed.kind === "message" ? (parsed.message.toolCalls ?? []) : null;
      run.replies++;
      if (r === 0) run.exactFirstCall = isExactFirstReply(calls, planned);
      if (!isValidReply(calls) || parsed.kind !== "message") {
        run.end = "invalid_reply";
        run.invalidReply = parsed.text.slice(0, 240);
        break;
      }
      run.validReplies++;
      if (calls!.length === 0) {
        run.end = "answer";
        run.answer = parsed.message.content;
        run.madeUpSuccess = isMadeUpSuccess(run.answer, changed);
        break;
      }
      const call = parsed.message.toolCalls![0]!;
      run.calls.push(`${call.name} ${JSON.stringify(call.arguments)}`);
      messages.push(parsed.message);
      // isValidReply checked the name against the registry.
      const result = await runCall({ name: call.name as ToolName, arguments: call.arguments }, ctx);
      messages.push({ role: "tool", toolCallId: call.id, name: call.name, content: toolResultText(result) });
      const p = changedPath(call);
      if (result.success && p !== null) changed.add(p);
      if (classifyToolResult(result).kind === "failed") {
        run.end = "tool_failed";
        break;
      }
    }
    return run;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
