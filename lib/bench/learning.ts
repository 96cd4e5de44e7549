/**
 * The learning benchmark's core: for one habit scenario and one SDPO configuration, a fresh
 * adapter is measured on N fresh held-out conversations (no correction in context, fixed sampling
 * seeds) and on unrelated families' held-out tasks, then trained by corrections on the path a
 * user's denial takes (a policy row in its own database, a queued training step claimed by the
 * app's PolicyRuntime.runNext, the teacher it selects, the denial built by denialExample, the
 * step's state saved and its version recorded) and measured again after each k in `ks`. A
 * correction's denied completion is the model's own habit-showing sample on a training-side task
 * when it produces one within a few tries, else the planned habit call scored under the current
 * weights (so the step still sees real sampling log-probs).
 */
import { PolicyRuntime, type StepResult } from "@/lib/agent/policy-runtime";
import { trainingLossFor } from "@/lib/agent/training";
import type { Message, Renderer, ToolSpec } from "@/lib/chat/types";
import { type Config, resolveConfig } from "@/lib/config";
import { ASSUMED_CONTEXT_WINDOW, replyTokens } from "@/lib/config/reply-tokens";
import { fillCorrection } from "@/lib/curriculum/habits";
import { detectHabit, type Scenario } from "@/lib/curriculum/scenarios";
import { createDb } from "@/lib/db/client";
import { getOrCreatePolicy, getPolicyForOwner } from "@/lib/db/queries/policies";
import { enqueueTrainingStep } from "@/lib/db/queries/training-steps";
import { createUser } from "@/lib/db/queries/users";
import { denialExample, type LossMode, type StepBatch, sdpoConfigFromSettings, type TeacherMode } from "@/lib/sdpo";
import { pickRehearsals, type RehearsalCall } from "@/lib/sdpo/rehearsal";
import type { SampledCompletion } from "@/lib/sdpo/train-step";
import type { LossFnName, SamplingClient, TrainingBackend } from "@/lib/training/types";
import type { DecisionPoint } from "./decision-points";
import { firstProposal, matchesIdeal, matchesIdealMove, type ProposedCall } from "./proposals";
import {
  goalVerdict,
  lastingVerdict,
  rate,
  round,
  type GoalVerdict,
  type LastingVerdict,
  type LearningPoint,
} from "./stats";

export interface RunConfig {
  lossMode: LossMode;
  teacherMode: TeacherMode;
  learningRate: number;
  /** The ema teacher's share of each step, and the frozen teacher's refresh interval (steps); the settings' defaults when unset. */
  emaTau?: number;
  teacherRefreshEvery?: number;
  /** Approved calls rehearsed per correction, and their per-token weight; the settings' defaults when unset. */
  rehearsalCalls?: number;
  rehearsalWeight?: number;
}

export interface LearningSetup {
  backend: TrainingBackend;
  model: string;
  renderer: Renderer;
  tools: ToolSpec[];
  rank: number;
  temperature: number;
  maxTokens: number;
  seed: number;
  /** Sampling tries on a training task before the planned habit call stands in. */
  habitTries: number;
  log: (line: string) => void;
}

export interface ScenarioData {
  scenario: Scenario;
  /** The evaluation conversations (N of them, cycling through the evaluation tasks). */
  evaluation: DecisionPoint[];
  /** Training-side tasks, one per correction. */
  training: Array<{ point: DecisionPoint; values: Record<string, string> }>;
  unrelated: DecisionPoint[];
  /** The user's approved calls (newest first) that a step may rehearse: other families' tasks, never the evaluation's. */
  approved?: RehearsalCall[];
}

export interface CorrectionRecord {
  k: number;
  seed: number;
  family: string;
  /** "sampled": the model's own habit reply; "planned": the planned habit call, scored. */
  source: "sampled" | "planned" | "none";
  correction: string;
  metrics: Record<string, number>;
  skipped?: string;
}

export interface RunResult extends RunConfig {
  rank: number;
  points: LearningPoint[];
  goal: GoalVerdict;
  lasting: LastingVerdict;
  corrections: CorrectionRecord[];
  seconds: number;
}

export interface Measured {
  correctedRate: number;
  habitRate: number;
  unrelatedSuccess: number;
  /** Replies that did not parse as a message (judged from their text). */
  parseErrors: number;
  /** Scenario conversations whose first call is the ideal move on any path (see matchesIdealMove). */
  correctedMoveRate: number;
  /** Scenario conversations whose first call uses the right tool (arguments aside: a tiny model may miscopy a path). */
  rightToolRate: number;
  /** The scenario conversations' first calls by tool ("none": no call). */
  firstTools: Record<string, number>;
}

/** Every conversation i samples with seed `seed + i`, so each measurement compares the same draws. */
export async function measure(
  setup: LearningSetup,
  sampler: SamplingClient,
  scenario: Scenario,
  data: Pick<ScenarioData, "evaluation" | "unrelated">,
): Promise<Measured> {
  const { renderer, tools } = setup;
  let parseErrors = 0;
  const propose = async (point: DecisionPoint, i: number) => {
    const prompt = renderer.renderPrompt(point.messages, tools, { addGenerationPrompt: true }).tokens;
    const seq = (
      await sampler.sample(prompt, {
        maxTokens: setup.maxTokens,
        temperature: setup.temperature,
        seed: setup.seed + i,
        stop: renderer.stopTokens,
      })
    ).sequences[0]!;
    const p = firstProposal(renderer, tools, seq.tokens, seq.stopReason);
    if (!p.parsed) parseErrors++;
    return p;
  };
  const corrected: boolean[] = [];
  const correctedMove: boolean[] = [];
  const habit: boolean[] = [];
  const firstTools: Record<string, number> = {};
  const rightTool: boolean[] = [];
  for (const [i, point] of data.evaluation.entries()) {
    const p = await propose(point, i);
    const tool = p.call?.name ?? "none";
    firstTools[tool] = (firstTools[tool] ?? 0) + 1;
    habit.push(p.call !== null && detectHabit(scenario.detector, p.call, point.detection));
    corrected.push(matchesRight(p.call, point));
    correctedMove.push(matchesIdealMove(p.call, point.ideal));
    rightTool.push((p.call?.name ?? null) === (point.ideal?.name ?? null));
  }
  const unrelated: boolean[] = [];
  for (const [i, point] of data.unrelated.entries())
    unrelated.push(matchesRight((await propose(point, 10_000 + i)).call, point));
  return {
    correctedRate: rate(corrected),
    correctedMoveRate: rate(correctedMove),
    habitRate: rate(habit),
    unrelatedSuccess: rate(unrelated),
    parseErrors,
    rightToolRate: rate(rightTool),
    firstTools,
  };
}

const matchesRight = (call: ProposedCall | null, point: DecisionPoint) => matchesIdeal(call, point.ideal);

/** A denied completion: what was sampled, with the messages it was sampled from and the task. */
interface Denied extends SampledCompletion {
  promptMessages: Message[];
  task: string;
}

/** The planned habit call as a completion of `prompt`, with the sampler's log-probs of its tokens. */
async function plannedCompletion(
  setup: LearningSetup,
  sampler: SamplingClient,
  point: DecisionPoint,
  promptTokens: number[],
): Promise<SampledCompletion | null> {
  if (!point.wrong) return null;
  const { renderer, tools } = setup;
  const message = {
    role: "assistant" as const,
    content: "",
    toolCalls: [{ id: "call_habit", name: point.wrong.name, arguments: point.wrong.arguments }],
  };
  const full = renderer.renderPrompt([...point.messages, message], tools, { addGenerationPrompt: false }).tokens;
  if (full.slice(0, promptTokens.length).some((t, i) => t !== promptTokens[i]))
    throw new Error(`held-out task ${point.seed}: the rendered habit call does not extend the prompt`);
  // The rendered turn ends with the end-of-turn token and a newline; the sampler stops at the former.
  let tokens = full.slice(promptTokens.length);
  const stop = tokens.findIndex((t) => renderer.stopTokens.includes(t));
  if (stop >= 0) tokens = tokens.slice(0, stop + 1);
  const lp = await sampler.computeLogprobs([...promptTokens, ...tokens]);
  return { promptTokens, completionTokens: tokens, samplingLogprobs: lp.slice(promptTokens.length).map((x) => x ?? 0) };
}

/**
 * A fresh policy trained the way the app trains a user's: its own database (in memory), a user
 * and policy row, the app's settings, and the app's PolicyRuntime, which opens the adapter (with
 * the benchmark's seed), selects the teacher and runs each queued step.
 */
export interface Learner {
  settings: Config;
  /** The model's context, which caps a reply as the agent caps it. */
  contextWindow: number;
  /** Runs `fn` with the policy's current sampling weights. */
  withSampler<T>(fn: (sampler: SamplingClient) => Promise<T>): Promise<T>;
  /** Queues one step on `batch` and runs it through the policy's queue. */
  train(batch: StepBatch, lossFn: LossFnName): Promise<StepResult>;
  close(): Promise<void>;
}

export async function openLearner(setup: LearningSetup, config: RunConfig): Promise<Learner> {
  const handle = await createDb({ dataDir: "memory" });
  const { db } = handle;
  const settings = resolveConfig({
    flags: {
      model: setup.model,
      loraRank: setup.rank,
      temperature: setup.temperature,
      maxTokens: setup.maxTokens,
      lossMode: config.lossMode,
      teacherMode: config.teacherMode,
      learningRate: config.learningRate,
      emaTau: config.emaTau,
      teacherRefreshEvery: config.teacherRefreshEvery,
      rehearsalCalls: config.rehearsalCalls,
      rehearsalWeight: config.rehearsalWeight,
    },
  }).config;
  const owner = await createUser({ db, name: "bench", email: "bench@localhost" });
  const created = await getOrCreatePolicy({
    db,
    ownerId: owner.id,
    baseModel: setup.model,
    backend: setup.backend.kind,
    loraRank: setup.rank,
  });
  const runtime = new PolicyRuntime({ db, backend: setup.backend, seed: setup.seed });
  // Read fresh before each use, as the agent does: a trained step moves the policy's version.
  const policy = async () => (await getPolicyForOwner({ db, id: created.id, ownerId: owner.id }))!;
  const listed = (await setup.backend.listModels()).find((m) => m.modelName === setup.model);
  return {
    settings,
    contextWindow: listed?.maxContextLength ?? ASSUMED_CONTEXT_WINDOW,
    withSampler: async (fn) => runtime.use(await policy(), settings, (opened) => fn(opened.sampler)),
    async train(batch, lossFn) {
      await enqueueTrainingStep({ db, ownerId: owner.id, policyId: created.id, lossFn });
      const result = await runtime.runNext({ policy: await policy(), config: settings, build: async () => batch });
      if (!result) throw new Error("the queued training step could not be claimed");
      return result;
    },
    async close() {
      runtime.forget(created.id);
      await handle.close();
    },
  };
}

/** One correction: find the denied completion, queue its step, run it through the policy's queue. */
async function correct(
  setup: LearningSetup,
  learner: Learner,
  draw: () => number,
  scenario: Scenario,
  item: ScenarioData["training"][number],
  k: number,
  attempt: number,
  approved: readonly RehearsalCall[],
): Promise<CorrectionRecord> {
  const { point, values } = item;
  const { renderer, tools } = setup;
  const promptMessages = point.messages;
  const task = String(point.messages.find((m) => m.role === "user")?.content ?? "");
  const promptTokens = renderer.renderPrompt(promptMessages, tools, { addGenerationPrompt: true }).tokens;
  const correction = fillCorrection(scenario.corrections[attempt % scenario.corrections.length]!, values);
  const denied = await learner.withSampler(async (sampler): Promise<[Denied | null, CorrectionRecord["source"]]> => {
    for (let t = 0; t < setup.habitTries; t++) {
      const seq = (
        await sampler
          .sample(promptTokens, {
            maxTokens: replyTokens({
              maxTokens: setup.maxTokens,
              contextWindow: learner.contextWindow,
              promptTokens: promptTokens.length,
            }),
            temperature: setup.temperature,
            stop: renderer.stopTokens,
            seed: setup.seed + draw(),
          })
          .catch(() => null)
      )?.sequences[0];
      if (!seq) continue;
      const p = firstProposal(renderer, tools, seq.tokens, seq.stopReason);
      if (p.call && detectHabit(scenario.detector, p.call, point.detection)) {
        const sampled = { promptTokens, completionTokens: seq.tokens, samplingLogprobs: seq.logprobs };
        return [{ ...sampled, promptMessages, task }, "sampled"];
      }
    }
    const planned = await plannedCompletion(setup, sampler, point, promptTokens);
    return planned ? [{ ...planned, promptMessages, task }, "planned"] : [null, "none"];
  });
  const [completion, source] = denied;
  const base = { k, seed: point.seed, family: point.family, source, correction };
  if (!completion) return { ...base, metrics: {}, skipped: "no habit call to deny" };
  const sdpo = sdpoConfigFromSettings(learner.settings);
  const batch: StepBatch = {
    denials: [
      denialExample({
        completion,
        promptMessages: completion.promptMessages,
        task: completion.task,
        correction: { feedback: correction },
        renderer,
        tools,
        config: sdpo,
        reward: sdpo.enableRl ? -1 : undefined,
      }),
    ],
    rewards: [],
    rehearsals: pickRehearsals(approved, sdpo.rehearsalCalls),
  };
  const lossFn = trainingLossFor(learner.settings, completion, "correction");
  if (!lossFn) return { ...base, metrics: {}, skipped: "this configuration trains nothing on a correction" };
  const result = await learner.train(batch, lossFn);
  if (result.status === "failed") return { ...base, metrics: {}, skipped: result.error };
  const keep = ["loss", "sdpo_kl", "sdpo_tokens", "sdpo_ratio_mean", "sdpo_rehearsal_count", "time/total"];
  const metrics = Object.fromEntries(
    keep.filter((m) => result.metrics[m] !== undefined).map((m) => [m, round(result.metrics[m]!, 4)]),
  );
  return { ...base, metrics };
}

/** One configuration on one scenario: a fresh adapter, measured at k = 0 and after each k in `ks`. */
export async function runConfig(
  setup: LearningSetup,
  data: ScenarioData,
  config: RunConfig,
  ks: number[],
  before?: Measured,
): Promise<RunResult & { before: Measured }> {
  const t0 = performance.now();
  const learner = await openLearner(setup, config);
  try {
    // Each habit-seeking sample draws the next seed, so a run is reproducible.
    let draws = 0;
    const draw = () => draws++;
    const label = `${data.scenario.id} ${config.lossMode}:${config.teacherMode} lr=${config.learningRate}`;
    const measured = () => learner.withSampler((sampler) => measure(setup, sampler, data.scenario, data));
    const at0 = before ?? (await measured());
    const points: Array<LearningPoint & Omit<Measured, keyof LearningPoint>> = [{ k: 0, ...at0 }];
    setup.log(
      `${label} k=0 corrected=${at0.correctedRate} move=${at0.correctedMoveRate} habit=${at0.habitRate} unrelated=${at0.unrelatedSuccess}`,
    );
    const corrections: CorrectionRecord[] = [];
    let k = 0;
    for (const target of [...ks].sort((a, b) => a - b)) {
      while (k < target) {
        const item = data.training[k % data.training.length]!;
        corrections.push(await correct(setup, learner, draw, data.scenario, item, k + 1, k, data.approved ?? []));
        k++;
      }
      const m = await measured();
      points.push({ k, ...m });
      setup.log(
        `${label} k=${k} corrected=${m.correctedRate} move=${m.correctedMoveRate} habit=${m.habitRate} unrelated=${m.unrelatedSuccess}`,
      );
    }
    return {
      ...config,
      rank: setup.rank,
      points,
      goal: goalVerdict(points),
      lasting: lastingVerdict(points),
      corrections,
      seconds: round((performance.now() - t0) / 1000, 1),
      before: at0,
    };
  } finally {
    await learner.close();
  }
}
