/**
 * The learning benchmark's core: for one habit scenario and one SDPO configuration, a fresh
 * adapter is measured on N fresh held-out conversations (no correction in context, fixed sampling
 * seeds) and on unrelated families' held-out tasks, then trained by corrections exactly as the
 * agent trains on a denial (SDPOSession.recordDenial → trainSdpo) and measured again after each
 * k in `ks`. A correction's denied completion is the model's own habit-showing sample on a
 * training-side task when it produces one within a few tries, else the planned habit call scored
 * under the current weights (so the step still sees real sampling log-probs).
 */
import type { Renderer, ToolSpec } from "@/lib/chat/types";
import { fillCorrection } from "@/lib/curriculum/habits";
import { detectHabit, type Scenario } from "@/lib/curriculum/scenarios";
import { SDPOSession, type Completion, type LossMode, type TeacherMode } from "@/lib/sdpo";
import type { SamplingClient, TrainingBackend } from "@/lib/training/types";
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

/** The planned habit call as a completion of `prompt`, with the sampler's log-probs of its tokens. */
async function plannedCompletion(
  setup: LearningSetup,
  sampler: SamplingClient,
  point: DecisionPoint,
  promptTokens: number[],
): Promise<Completion | null> {
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
  const logprobs = lp.slice(promptTokens.length).map((x) => x ?? 0);
  const text = renderer.tokenizer.decode(tokens);
  return {
    promptMessages: point.messages,
    promptTokens,
    tokens,
    logprobs,
    promptLength: promptTokens.length,
    task: point.task,
    stopReason: "stop",
    text,
  };
}

/** One correction: find the denied completion, record the denial, train one SDPO step. */
async function correct(
  setup: LearningSetup,
  session: SDPOSession,
  scenario: Scenario,
  item: ScenarioData["training"][number],
  k: number,
  attempt: number,
): Promise<CorrectionRecord> {
  const { point, values } = item;
  session.clear();
  const [, user, ...rest] = point.messages;
  session.addUserMessage(String(user!.content));
  for (const m of rest) session.messages.push(m);
  const correction = fillCorrection(scenario.corrections[attempt % scenario.corrections.length]!, values);
  let completion: Completion | null = null;
  let source: CorrectionRecord["source"] = "none";
  for (let t = 0; t < setup.habitTries && !completion; t++) {
    // A reply of nothing but the end-of-turn token makes the renderer throw; it shows no habit.
    const out = await session.sample().catch(() => null);
    if (!out) continue;
    const p = firstProposal(setup.renderer, setup.tools, out.completion.tokens, out.completion.stopReason);
    if (p.call && detectHabit(scenario.detector, p.call, point.detection)) {
      completion = out.completion;
      source = "sampled";
    }
  }
  if (!completion) {
    completion = await plannedCompletion(
      setup,
      session.samplingClient!,
      point,
      setup.renderer.renderPrompt(session.promptMessages(), setup.tools, { addGenerationPrompt: true }).tokens,
    );
    if (completion) source = "planned";
  }
  const base = { k, seed: point.seed, family: point.family, source, correction };
  if (!completion) return { ...base, metrics: {}, skipped: "no habit call to deny" };
  session.recordDenial(completion, correction);
  const result = await session.trainSdpo();
  const keep = ["loss", "sdpo_kl", "sdpo_tokens", "sdpo_ratio_mean", "time/total"];
  const metrics = Object.fromEntries(
    keep.filter((m) => result.metrics[m] !== undefined).map((m) => [m, round(result.metrics[m]!, 4)]),
  );
  return result.reason ? { ...base, metrics, skipped: result.reason } : { ...base, metrics };
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
  const session = new SDPOSession({
    backend: setup.backend,
    model: setup.model,
    renderer: setup.renderer,
    tools: setup.tools,
    systemPrompt: String(data.evaluation[0]!.messages[0]!.content),
    loraRank: setup.rank,
    seed: setup.seed,
    temperature: setup.temperature,
    maxTokens: setup.maxTokens,
    sdpo: {
      lossMode: config.lossMode,
      teacherMode: config.teacherMode,
      learningRate: config.learningRate,
      ...(config.emaTau !== undefined ? { emaTau: config.emaTau } : {}),
      ...(config.teacherRefreshEvery !== undefined ? { teacherRefreshEvery: config.teacherRefreshEvery } : {}),
    },
  });
  await session.init();
  const label = `${data.scenario.id} ${config.lossMode}:${config.teacherMode} lr=${config.learningRate}`;
  const at0 = before ?? (await measure(setup, session.samplingClient!, data.scenario, data));
  const points: Array<LearningPoint & Omit<Measured, keyof LearningPoint>> = [{ k: 0, ...at0 }];
  setup.log(
    `${label} k=0 corrected=${at0.correctedRate} move=${at0.correctedMoveRate} habit=${at0.habitRate} unrelated=${at0.unrelatedSuccess}`,
  );
  const corrections: CorrectionRecord[] = [];
  let k = 0;
  for (const target of [...ks].sort((a, b) => a - b)) {
    while (k < target) {
      const item = data.training[k % data.training.length]!;
      corrections.push(await correct(setup, session, data.scenario, item, k + 1, k));
      k++;
    }
    const m = await measure(setup, session.samplingClient!, data.scenario, data);
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
}
