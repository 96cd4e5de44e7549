/**
 * Runs a planned episode for real: writes its workspace into a fresh temporary folder (file
 * times fixed, so glob's newest-first order is the same on every run), executes every planned
 * call with `executeTool` (bash in the bubblewrap sandbox), checks each outcome and the final
 * files against the plan, and builds the conversation the agent would have had, with tool
 * messages, denials and corrections written by lib/agent/tool-messages. Rendering that
 * conversation with the Qwen3 renderer gives the tokens and the supervised weights.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { deniedToolResult, failureCorrectionMessage, toolResultText } from "@/lib/agent/tool-messages";
import { buildSystemPrompt } from "@/lib/agent/system-prompt";
import type { Message, Renderer, ToolCall } from "@/lib/chat/types";
import { DEFAULT_SDPO_CONFIG } from "@/lib/sdpo/config";
import { buildReprompt } from "@/lib/sdpo/teacher";
import { TOOL_SPECS, executeTool, type ToolContext, type ToolResult } from "@/lib/tools";
import { stabiliseOutput } from "./output";
import type { Call, Plan } from "./plan";
import type { PlannedEpisode } from "./episodes";
import type { Workspace } from "./workspace";

/** The working directory the agent is told about: where bash sees the workspace. */
export const CURRICULUM_CWD = "/workspace";

/** Fixed file times (seconds since the epoch): file i of the workspace is i minutes newer. */
const BASE_MTIME = 1_767_225_600;

export interface RanEpisode {
  plan: Plan;
  messages: Message[];
  tokens: number[];
  weights: number[];
}

export async function writeWorkspace(ws: Workspace, dir: string): Promise<void> {
  const paths = Object.keys(ws.files);
  for (const [i, rel] of paths.entries()) {
    const abs = path.join(dir, rel);
    await fs.mkdir(path.dirname(abs), { recursive: true });
    await fs.writeFile(abs, ws.files[rel]!);
    const t = BASE_MTIME + 60 * i;
    await fs.utimes(abs, t, t);
  }
}

/** Runs one tool call as the agent would, with timings stabilised. */
export async function runCall(call: Call, ctx: ToolContext): Promise<ToolResult> {
  const result = await executeTool(call.name, call.arguments, ctx);
  return { ...result, output: stabiliseOutput(result.output) };
}

/**
 * grep and the test commands are the slow calls (a worker thread, a sandboxed process), and
 * episodes on the same workspace repeat them on the same files. Their results depend only on
 * the files' contents (bash sees the workspace at the same sandbox path every time, and the
 * commands planned here change nothing the tools can see), so they are memoised per content.
 */
const CACHED_TOOLS = new Set(["grep", "bash"]);
const MAX_CACHE = 20_000;
const cache = new Map<string, Promise<ToolResult>>();

/** Forgets every memoised result (so a test can compare against fresh executions). */
export function clearToolCache(): void {
  cache.clear();
}

async function contentKey(dir: string): Promise<string> {
  const hash = createHash("sha256");
  for (const [rel, text] of [...(await readTree(dir))].sort(([a], [b]) => (a < b ? -1 : 1)))
    hash.update(`${rel}\0${text}\0`);
  return hash.digest("hex");
}

export async function runCallCached(call: Call, ctx: ToolContext): Promise<ToolResult> {
  if (!CACHED_TOOLS.has(call.name)) return runCall(call, ctx);
  const key = `${await contentKey(ctx.workspace)}\0${call.name}\0${JSON.stringify(call.arguments)}`;
  let result = cache.get(key);
  if (!result) {
    if (cache.size >= MAX_CACHE) cache.clear();
    result = runCall(call, ctx);
    cache.set(key, result);
    result.catch(() => cache.delete(key));
  }
  return result;
}

/** The teacher-shaped extra user message, exactly as lib/sdpo builds it with its defaults. */
export function teacherReprompt(task: string, correction: string, environmentFeedback?: string): string {
  const c = DEFAULT_SDPO_CONFIG;
  return buildReprompt(
    environmentFeedback === undefined
      ? { task, feedback: correction }
      : { task, feedback: correction, environmentFeedback },
    {
      templates: c.templates,
      maxRepromptChars: c.maxRepromptChars,
      removeThinkingFromDemonstration: c.removeThinkingFromDemonstration,
      includeEnvironmentFeedback: c.includeEnvironmentFeedback,
    },
  );
}

async function readTree(dir: string, rel = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.name === "__pycache__") continue;
    if (entry.isDirectory()) for (const [k, v] of await readTree(dir, child)) out.set(k, v);
    else out.set(child, await fs.readFile(path.join(dir, child), "utf8"));
  }
  return out;
}

/** Executes the plan in `dir` (an empty folder) and returns the conversation. */
export async function executePlan(episode: PlannedEpisode, dir: string): Promise<Message[]> {
  const { plan, workspace } = episode;
  await writeWorkspace(workspace, dir);
  const ctx: ToolContext = { workspace: dir, sandbox: { mode: "bwrap" } };
  const messages: Message[] = [
    { role: "system", content: buildSystemPrompt({ cwd: CURRICULUM_CWD }) },
    { role: "user", content: plan.task },
  ];
  let callIndex = 0;
  let last: ToolResult | null = null;
  const propose = (call: Call): ToolCall => {
    const toolCall = { id: `call_${callIndex++}`, name: call.name, arguments: call.arguments };
    messages.push({ role: "assistant", content: "", toolCalls: [toolCall] });
    return toolCall;
  };
  for (const step of plan.steps) {
    switch (step.kind) {
      case "call": {
        const toolCall = propose(step.call);
        last = await runCallCached(step.call, ctx);
        if (last.success !== (step.expect === "ok")) {
          throw new Error(
            `episode ${plan.family}/${plan.workspaceSeed}: ${step.call.name} ${JSON.stringify(step.call.arguments)} was expected to ${step.expect === "ok" ? "succeed" : "fail"}: ${last.output}`,
          );
        }
        messages.push({ role: "tool", toolCallId: toolCall.id, name: toolCall.name, content: toolResultText(last) });
        break;
      }
      case "deny": {
        const toolCall = propose(step.call);
        messages.push({
          role: "tool",
          toolCallId: toolCall.id,
          name: toolCall.name,
          content: deniedToolResult({ correction: step.correction }),
        });
        break;
      }
      case "fail_correction": {
        const text = step.correction.kind === "text" ? step.correction.text : last?.feedback;
        if (!text)
          throw new Error(
            `episode ${plan.family}/${plan.workspaceSeed}: a correction after a tool failure needs the tool's feedback`,
          );
        messages.push({ role: "user", content: failureCorrectionMessage({ correction: text }) });
        break;
      }
      case "reprompt": {
        let environment: string | undefined;
        if (step.environmentOf) {
          const failed = await runCallCached(step.environmentOf, ctx);
          if (failed.success)
            throw new Error(
              `episode ${plan.family}/${plan.workspaceSeed}: the teacher's environment call was expected to fail`,
            );
          environment = failed.output;
        }
        messages.push({ role: "user", content: teacherReprompt(plan.task, step.correction, environment) });
        break;
      }
      case "answer":
        messages.push({ role: "assistant", content: step.text });
        break;
      default: {
        const never: never = step;
        throw new Error(`unknown step ${JSON.stringify(never)}`);
      }
    }
  }
  const disk = await readTree(dir);
  const expected = episode.finalFiles;
  const same = disk.size === expected.size && [...expected].every(([k, v]) => disk.get(k) === v);
  if (!same)
    throw new Error(`episode ${plan.family}/${plan.workspaceSeed}: the workspace on disk differs from the plan`);
  return messages;
}

export async function runEpisode(episode: PlannedEpisode, renderer: Renderer): Promise<RanEpisode> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "curriculum-"));
  try {
    const messages = await executePlan(episode, dir);
    const { tokens, weights } = renderer.renderPrompt(messages, TOOL_SPECS, { addGenerationPrompt: false });
    return { plan: episode.plan, messages, tokens, weights };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
