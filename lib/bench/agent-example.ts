/**
 * bench:agent's example runs: the example project a newcomer starts from (examples/calculator,
 * copied as the app seeds a workspace), one task ("Fix the failing test.") through the real Agent
 * (its database, prompt building, renderer, approval flow and sandboxed tools), every proposed call
 * approved and no correction given. A run is solved when the project's tests pass afterwards (run
 * in the sandbox as the agent's bash runs them) and the final answer says they pass.
 */
import type { Agent } from "@/lib/agent/agent";
import type { Db } from "@/lib/db/client";
import { createWorkspace } from "@/lib/db/queries/workspaces";
import { executeTool } from "@/lib/tools";
import type { SamplingClient, TrainingBackend } from "@/lib/training/types";
import { seedFromExample } from "@/lib/workspaces/seed";
import { type ReplyCalls, changedPath, isMadeUpSuccess, isValidReply, saysTestsPass, testRunPassed } from "./agent";

export const EXAMPLE_TASK = "Fix the failing test.";
export const EXAMPLE_TEST_COMMAND = "python3 -m unittest";

export interface ExampleRun {
  solved: boolean;
  testsPass: boolean;
  answer: string | null;
  /** What the conversation waited for at the end ("answer", "failure_correction", …). */
  end: string;
  replies: number;
  validReplies: number;
  madeUpSuccess: boolean;
  calls: string[];
}

/**
 * The agent samples without a seed (each draw is fresh in the app); to make a run repeatable,
 * every sampling client the backend hands out draws its seeds from `nextSeed`, in call order.
 */
export function seededBackend(backend: TrainingBackend, nextSeed: () => number): TrainingBackend {
  const wrap = (value: unknown): unknown => {
    if (value instanceof Promise) return value.then(wrap);
    if (!value || typeof value !== "object") return value;
    return new Proxy(value, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target) as unknown;
        if (typeof v !== "function") return v;
        if (prop === "sample") {
          const sample = v as SamplingClient["sample"];
          return (tokens: number[], params: Parameters<SamplingClient["sample"]>[1], observer?: never) =>
            sample.call(target, tokens, { ...params, seed: params.seed ?? nextSeed() }, observer);
        }
        return (...args: unknown[]) => wrap((v as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
  };
  return wrap(backend) as TrainingBackend;
}

export async function runExample(input: {
  agent: Agent;
  db: Db;
  ownerId: string;
  dir: string;
  name: string;
  maxDecisions: number;
}): Promise<ExampleRun> {
  const { agent, db, ownerId, dir } = input;
  await seedFromExample(dir, "calculator");
  const ws = await createWorkspace({ db, ownerId, name: input.name, path: dir });
  const conv = await agent.startConversation({ ownerId, workspaceId: ws.id });
  const ref = { ownerId, conversationId: conv.id };
  await agent.sendUserMessage({ ...ref, text: EXAMPLE_TASK });
  let view = await settled(agent, ref);
  for (let i = 0; i < input.maxDecisions && view.awaiting?.kind === "decision"; i++) {
    await agent.decide({ ownerId, toolCallId: view.awaiting.toolCall.id, decision: { kind: "approve" } });
    view = await settled(agent, ref);
  }
  const replies = view.messages.filter((m) => m.role === "assistant");
  const valid = replies.filter((m) => {
    const meta = m.meta ?? {};
    if (meta.parseError || meta.multipleToolCalls) return false;
    return isValidReply((m.toolCalls ?? []) as ReplyCalls);
  });
  const changed = new Set<string>();
  for (const c of view.toolCalls) {
    const p = changedPath({ name: c.name, arguments: c.args as Record<string, unknown> });
    if (p !== null && c.status === "succeeded") changed.add(p);
  }
  const answer =
    view.awaiting?.kind === "answer"
      ? (view.messages.find((m) => m.id === (view.awaiting as { messageId: string }).messageId)?.content ?? "")
      : null;
  const tests = await executeTool(
    "bash",
    { cmd: EXAMPLE_TEST_COMMAND },
    { workspace: dir, sandbox: { mode: "bwrap" } },
  );
  const testsPass = testRunPassed(tests.output, tests.success ? 0 : tests.exitCode);
  return {
    solved: testsPass && answer !== null && saysTestsPass(answer),
    testsPass,
    answer,
    end: view.awaiting?.kind ?? "none",
    replies: replies.length,
    validReplies: valid.length,
    madeUpSuccess: answer !== null && isMadeUpSuccess(answer, changed),
    calls: view.toolCalls.map((c) => `${c.name} ${JSON.stringify(c.args)} → ${c.status}`),
  };
}

async function settled(agent: Agent, ref: { ownerId: string; conversationId: string }) {
  await agent.idle();
  return agent.getConversationView(ref);
}
