/**
 * `npx tsx scripts/eval-first-call.ts [--episodes 30] [--seed 777] [--model NAME]` measures the
 * embedded model's first move on curriculum tasks it never trained on: workspaces from held-out
 * seeds (at or above HELD_OUT_SEED_BASE), planned without habits so each plan's first step is the
 * right one. The model runs as the app runs it (embedded backend, its renderer, the agent's system
 * prompt and tools), decoding greedily. Prints JSON: how many first replies were exactly the
 * planned call (or, for answer-only tasks, a plain answer), named the planned tool, and were a
 * valid call of a known tool; and how many were instead the habit-shaped call the curriculum
 * teaches at its habit rates (e.g. a wrong test command), which SDPO corrections then train away.
 */
import { parseArgs } from "node:util";
import { buildSystemPrompt } from "@/lib/agent/system-prompt";
import { getRenderer } from "@/lib/chat";
import { FAMILIES } from "@/lib/curriculum/families";
import { HELD_OUT_SEED_BASE, planEpisode } from "@/lib/curriculum/episodes";
import { DEFAULT_HABIT_CONFIG, HabitSchedule, type HabitConfig } from "@/lib/curriculum/habits";
import { FAMILY_IDS } from "@/lib/curriculum/plan";
import { Rng } from "@/lib/curriculum/prng";
import { CURRICULUM_CWD } from "@/lib/curriculum/runner";
import { generateWorkspace } from "@/lib/curriculum/workspace";
import { TOOL_SPECS, TOOLS, isToolName } from "@/lib/tools";
import { createEmbeddedBackend } from "@/lib/training/embedded";
import { EMBEDDED_MODEL } from "@/lib/training/models";

const { values } = parseArgs({
  options: {
    episodes: { type: "string", default: "30" },
    seed: { type: "string", default: "777" },
    model: { type: "string", default: EMBEDDED_MODEL },
  },
});

/** Sorted-key JSON, so argument objects compare by content. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

const withRates = (rate: number): HabitConfig => ({
  ...DEFAULT_HABIT_CONFIG,
  rates: { write_instead_of_edit: rate, edit_without_read: rate, wrong_test_command: rate },
  teacherShare: 0,
});
const planContext = (config: HabitConfig) => {
  const rng = new Rng(Number(values.seed));
  return { rng: rng.fork("steps"), schedule: new HabitSchedule(rng.fork("habits"), config), config, mistakeRate: 0 };
};
const ctx = planContext(withRates(0));
const habitCtx = planContext(withRates(1));
const renderer = await getRenderer(EMBEDDED_MODEL);
const backend = createEmbeddedBackend();
const sampler = await backend.createSamplingClient({ baseModel: values.model });
const system = buildSystemPrompt({ cwd: CURRICULUM_CWD });

const rows: Array<{
  family: string;
  expected: string;
  got: string;
  exact: boolean;
  habit: boolean;
  sameTool: boolean;
  valid: boolean;
}> = [];
for (let i = 0; rows.length < Number(values.episodes); i++) {
  const family = FAMILY_IDS[i % FAMILY_IDS.length]!;
  const workspace = generateWorkspace(HELD_OUT_SEED_BASE + Number(values.seed) * 1000 + i);
  if (!FAMILIES[family].applicable(workspace)) continue;
  const { plan } = planEpisode(ctx, family, workspace);
  const first = plan.steps[0]!;
  const expected = first.kind === "call" ? first.call : null;
  const habitFirst = planEpisode(habitCtx, family, workspace).plan.steps[0]!;
  const habitCall = habitFirst.kind === "call" || habitFirst.kind === "deny" ? habitFirst.call : null;
  const prompt = renderer.renderPrompt(
    [
      { role: "system", content: system },
      { role: "user", content: plan.task },
    ],
    TOOL_SPECS,
    { addGenerationPrompt: true },
  );
  const seq = (
    await sampler.sample(prompt.tokens, { maxTokens: 200, temperature: 0, seed: 0, stop: renderer.stopTokens })
  ).sequences[0]!;
  const parsed = renderer.parseCompletion(seq.tokens, seq.stopReason, { tools: TOOL_SPECS });
  const calls = parsed.kind === "message" ? (parsed.message.toolCalls ?? []) : [];
  const call = calls.length === 1 ? calls[0]! : null;
  const valid =
    call !== null && isToolName(call.name) && TOOLS[call.name].inputSchema.safeParse(call.arguments).success;
  const exact =
    expected === null
      ? parsed.kind === "message" && calls.length === 0
      : call !== null && call.name === expected.name && canonical(call.arguments) === canonical(expected.arguments);
  const habit =
    !exact &&
    call !== null &&
    habitCall !== null &&
    call.name === habitCall.name &&
    canonical(call.arguments) === canonical(habitCall.arguments);
  const sameTool = expected === null ? parsed.kind === "message" && calls.length === 0 : call?.name === expected.name;
  rows.push({
    family,
    expected: expected ? `${expected.name} ${canonical(expected.arguments)}` : "(plain answer)",
    got: call ? `${call.name} ${canonical(call.arguments)}` : parsed.text.slice(0, 120),
    exact,
    habit,
    sameTool,
    valid,
  });
}
await backend.close();
const count = (f: (r: (typeof rows)[number]) => boolean) => rows.filter(f).length;
const toolTasks = rows.filter((r) => r.expected !== "(plain answer)");
process.stdout.write(
  `${JSON.stringify(
    {
      model: values.model,
      episodes: rows.length,
      exact: count((r) => r.exact),
      habitShaped: count((r) => r.habit),
      sameTool: count((r) => r.sameTool),
      toolTasks: toolTasks.length,
      validCallsOnToolTasks: toolTasks.filter((r) => r.valid).length,
      exactRate: Number((count((r) => r.exact) / rows.length).toFixed(3)),
      validRateOnToolTasks: Number(
        (toolTasks.filter((r) => r.valid).length / Math.max(1, toolTasks.length)).toFixed(3),
      ),
      rows,
    },
    null,
    2,
  )}\n`,
);
