/**
 * Reconstructs a held-out task's first decision point for the learning benchmark: the task is
 * planned again along the right path (the same plan the scenario file was built from), the
 * planned calls before the decision are run for real on the workspace (so the model sees true
 * tool output, e.g. the file it just read), and the conversation up to there is returned with the
 * ideal next call, the habit's wrong call (planned with the habit forced) and what the detector
 * needs to know (which files exist, which were read).
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildSystemPrompt } from "@/lib/agent/system-prompt";
import { toolResultText } from "@/lib/agent/tool-messages";
import type { Message } from "@/lib/chat/types";
import { HELD_OUT_SEED_BASE, planEpisode } from "@/lib/curriculum/episodes";
import { FAMILIES } from "@/lib/curriculum/families";
import { HABIT_IDS, HabitSchedule, type HabitConfig } from "@/lib/curriculum/habits";
import { FAMILY_IDS, type Call, type FamilyId, type HabitId, type Plan } from "@/lib/curriculum/plan";
import { Rng } from "@/lib/curriculum/prng";
import { CURRICULUM_CWD, runCallCached, writeWorkspace } from "@/lib/curriculum/runner";
import type { DetectionContext, Scenario } from "@/lib/curriculum/scenarios";
import { generateWorkspace } from "@/lib/curriculum/workspace";
import type { ToolContext } from "@/lib/tools";

export interface DecisionPoint {
  /** System prompt, the task, and every planned turn before the decision. */
  messages: Message[];
  task: string;
  /** The right call at the decision (the plan's next call); null when the right move is a plain answer. */
  ideal: Call | null;
  /** The habit's call at this point, when the habit can be planned here. */
  wrong: Call | null;
  detection: DetectionContext;
  family: string;
  seed: number;
}

const rates = (habit: HabitId | null): HabitConfig["rates"] => ({
  write_instead_of_edit: habit === "write_instead_of_edit" ? 1 : 0,
  edit_without_read: habit === "edit_without_read" ? 1 : 0,
  wrong_test_command: habit === "wrong_test_command" ? 1 : 0,
});

const isHabit = (id: string): id is HabitId => (HABIT_IDS as string[]).includes(id);
const isFamily = (id: string): id is FamilyId => (FAMILY_IDS as readonly string[]).includes(id);

/**
 * Plans `family` on workspace `seed` as the default scenarios were built (lib/curriculum/held-out):
 * the steps stream is `Rng(base + h).fork(seed)` for habit index h. With `habit`, that habit is
 * shown and denied at its decision point; the streams agree up to it.
 */
function planWith(seed: number, family: FamilyId, streamIndex: number, habit: HabitId | null): Plan {
  const config: HabitConfig = { rates: rates(habit), teacherShare: 0, denyShare: 1 };
  const rng = new Rng(HELD_OUT_SEED_BASE + streamIndex);
  const ctx = { rng: rng.fork(String(seed)), schedule: new HabitSchedule(rng, config), config, mistakeRate: 0 };
  return planEpisode(ctx, family, generateWorkspace(seed)).plan;
}

/** The plan whose task text is the scenario task's (the scenario's own stream first, then the others). */
function findPlan(scenarioId: string, task: Scenario["tasks"][number]): { plan: Plan; stream: number } | null {
  if (!isFamily(task.family)) return null;
  const own = HABIT_IDS.indexOf(scenarioId as HabitId);
  const streams = [...new Set([own, ...HABIT_IDS.keys()])].filter((s) => s >= 0);
  for (const stream of streams) {
    const plan = planWith(task.seed, task.family, stream, null);
    if (plan.task === task.task) return { plan, stream };
  }
  return null;
}

/**
 * Index of the decision step in a right-path plan, from the task's values: the first call running
 * `command`, else the first `tool` call on `path`, else the first call on `path`; else step 0.
 */
export function decisionIndex(steps: Plan["steps"], values: Record<string, string>): number {
  const calls = steps.map((s) => (s.kind === "call" ? s.call : null));
  const find = (f: (c: Call) => boolean) => calls.findIndex((c) => c !== null && f(c));
  const tests: Array<((c: Call) => boolean) | null> = [
    values.command !== undefined ? (c) => c.name === "bash" && String(c.arguments.cmd).trim() === values.command : null,
    values.path !== undefined && values.tool !== undefined
      ? (c) => c.name === values.tool && c.arguments.path === values.path
      : null,
    values.path !== undefined ? (c) => c.arguments.path === values.path : null,
  ];
  for (const test of tests) {
    if (!test) continue;
    const i = find(test);
    if (i >= 0) return i;
  }
  return 0;
}

async function runPrefix(
  seed: number,
  steps: Plan["steps"],
  task: string,
): Promise<{ messages: Message[]; readPaths: Set<string>; files: Set<string> }> {
  const workspace = generateWorkspace(seed);
  const files = new Set(Object.keys(workspace.files));
  const readPaths = new Set<string>();
  const messages: Message[] = [
    { role: "system", content: buildSystemPrompt({ cwd: CURRICULUM_CWD }) },
    { role: "user", content: task },
  ];
  if (steps.length === 0) return { messages, readPaths, files };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bench-ws-"));
  try {
    await writeWorkspace(workspace, dir);
    const ctx: ToolContext = { workspace: dir, sandbox: { mode: "bwrap" } };
    for (const [i, step] of steps.entries()) {
      if (step.kind !== "call")
        throw new Error(`held-out task ${seed}: step ${i} before the decision is a ${step.kind}, not a call`);
      const id = `call_${i}`;
      messages.push({
        role: "assistant",
        content: "",
        toolCalls: [{ id, name: step.call.name, arguments: step.call.arguments }],
      });
      const result = await runCallCached(step.call, ctx);
      messages.push({ role: "tool", toolCallId: id, name: step.call.name, content: toolResultText(result) });
      if (result.success && step.call.name === "read") readPaths.add(String(step.call.arguments.path));
      if (result.success && step.call.name === "write") files.add(String(step.call.arguments.path));
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return { messages, readPaths, files };
}

/** The decision point of one scenario task. A task whose plan cannot be found starts from the bare task. */
export async function scenarioDecisionPoint(
  scenario: Pick<Scenario, "id">,
  task: Scenario["tasks"][number],
): Promise<DecisionPoint> {
  const found = findPlan(scenario.id, task);
  const steps = found?.plan.steps ?? [];
  const at = found ? decisionIndex(steps, task.values) : 0;
  const step = steps[at];
  const ideal = step?.kind === "call" ? step.call : null;
  let wrong: Call | null = null;
  if (found && isHabit(scenario.id) && isFamily(task.family)) {
    const forced = planWith(task.seed, task.family, found.stream, scenario.id).steps;
    const denied = forced[at];
    if (denied?.kind === "deny") wrong = denied.call;
  }
  const { messages, readPaths, files } = await runPrefix(task.seed, steps.slice(0, at), task.task);
  return {
    messages,
    task: task.task,
    ideal,
    wrong,
    detection: { existingFiles: files, readPaths },
    family: task.family,
    seed: task.seed,
  };
}

/** Held-out first decisions of other families: seeds from `seedBase` up, `count` tasks cycling through `families`. */
export async function familyDecisionPoints(
  families: FamilyId[],
  count: number,
  seedBase: number,
): Promise<DecisionPoint[]> {
  const out: DecisionPoint[] = [];
  const config: HabitConfig = { rates: rates(null), teacherShare: 0, denyShare: 0 };
  for (let i = 0; out.length < count && families.length > 0; i++) {
    const family = families[out.length % families.length]!;
    const seed = seedBase + i;
    const workspace = generateWorkspace(seed);
    if (!FAMILIES[family].applicable(workspace)) continue;
    const rng = new Rng(seed);
    const plan = planEpisode(
      { rng: rng.fork("steps"), schedule: new HabitSchedule(rng.fork("habits"), config), config, mistakeRate: 0 },
      family,
      workspace,
    ).plan;
    const first = plan.steps[0];
    const { messages, readPaths, files } = await runPrefix(seed, [], plan.task);
    out.push({
      messages,
      task: plan.task,
      ideal: first?.kind === "call" ? first.call : null,
      wrong: null,
      detection: { existingFiles: files, readPaths },
      family,
      seed,
    });
  }
  return out;
}
