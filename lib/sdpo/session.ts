/**
 * SDPOSession: the original product's Python API (ContinualSDPOSession) in TypeScript. It holds a
 * conversation, samples the next assistant message, collects denials (and, with RL, approvals)
 * on the sampled completion, and trains one SDPO step on them: init → sample → recordDenial →
 * trainSdpo → sample again with the new weights. Checkpoints save every `saveEvery` steps and on
 * demand; init resumes the latest one unless `checkpoint` names another.
 */
import { getRenderer } from "@/lib/chat";
import { ASSUMED_CONTEXT_WINDOW, replyTokens } from "@/lib/config/reply-tokens";
import type { AssistantMessage, Message, ParseErrorReason, Renderer, ToolSpec } from "@/lib/chat/types";
import {
  canScoreDistributions,
  type SamplingClient,
  type StopReason,
  type TrainingBackend,
  type TrainingClient,
} from "@/lib/training/types";
import type { RewardBaseline } from "./advantages";
import { assertLossModeSupported, capabilitiesOf, lossFnFor } from "./capabilities";
import type { CheckpointStore } from "./checkpoints";
import { sdpoConfig, type SDPOConfig } from "./config";
import { openPolicy } from "./resume";
import { buildTeacherMessages } from "./teacher";
import { createTeacher, fixedTeacher, type TeacherSource } from "./teachers";
import { trainStep, type DenialExample, type RewardExample, type StepOutcome } from "./train-step";

export interface SDPOSessionOptions {
  backend: TrainingBackend;
  model: string;
  /** `--checkpoint`: start from this state; never replaced by an auto-resume. */
  checkpoint?: string;
  /** `--teacher-model`: a different base model's sampler as a fixed teacher. */
  teacherModel?: string;
  /** `--teacher-checkpoint`: a sampler from this checkpoint path as a fixed teacher (wins over teacherModel). */
  teacherCheckpoint?: string;
  /** The reply length limit; unset (auto), a reply may use what the model's context leaves after the prompt. */
  maxTokens?: number;
  temperature?: number;
  /** Sampling seed; each sample() uses seed + its index, so a session is reproducible. */
  seed?: number;
  systemPrompt?: string;
  tools?: ToolSpec[];
  /** `--no-training` sets this false: sample only, nothing is kept for training. */
  enableTraining?: boolean;
  loraRank?: number;
  /** Save a checkpoint every N steps (0: never). */
  saveEvery?: number;
  checkpoints?: CheckpointStore;
  /** Defaults to getRenderer(model). */
  renderer?: Renderer;
  sdpo?: Partial<SDPOConfig>;
  /** Runs each step inside persistence (e.g. step-record's recordSdpoStep bound to a database). */
  recordStep?: (lossFn: string, run: () => Promise<StepOutcome>) => Promise<StepOutcome>;
}

/** A sampled assistant message with everything needed to train on it later. */
export interface Completion {
  promptMessages: Message[];
  promptTokens: number[];
  tokens: number[];
  logprobs: number[];
  promptLength: number;
  /** The original task when it was sampled. */
  task: string;
  stopReason: StopReason;
  text: string;
}

export type SampleOutcome =
  | { kind: "message"; message: AssistantMessage; completion: Completion }
  | { kind: "parse_error"; reason: ParseErrorReason; detail: string; completion: Completion };

export type TrainResult =
  | { metrics: Record<string, number>; reason?: undefined }
  | { metrics: Record<string, never>; reason: string };

interface PendingDenial {
  completion: Completion;
  feedback: string;
  solution?: string;
  environmentFeedback?: string;
}

export class SDPOSession {
  readonly config: SDPOConfig;
  messages: Message[] = [];
  /** The user's current task: the teacher's prompt slot. */
  task: string | null = null;
  sdpoSteps = 0;
  trainingClient: TrainingClient | null = null;
  samplingClient: SamplingClient | null = null;
  teacher: TeacherSource | null = null;
  renderer: Renderer | null = null;
  /** Where init's weights came from. */
  origin: "checkpoint" | "resume" | "fresh" | null = null;
  private baseline: RewardBaseline = { count: 0, mean: 0 };
  private denials: PendingDenial[] = [];
  private approvals: Completion[] = [];
  private ignored: string | null = null;
  private samples = 0;
  private vocabSize: number | undefined;
  private contextWindow = ASSUMED_CONTEXT_WINDOW;

  constructor(private readonly options: SDPOSessionOptions) {
    this.config = sdpoConfig(options.sdpo);
  }

  get learningRate(): number {
    return this.config.learningRate;
  }

  private get training(): boolean {
    return this.options.enableTraining ?? true;
  }

  async init(): Promise<void> {
    const o = this.options;
    this.renderer = o.renderer ?? (await getRenderer(o.model));
    this.contextWindow =
      (await o.backend.listModels()).find((m) => m.modelName === o.model)?.maxContextLength ?? ASSUMED_CONTEXT_WINDOW;
    if (this.training && this.config.enableSdpo)
      assertLossModeSupported(this.config.lossMode, capabilitiesOf(o.backend));
    const opened = await openPolicy({
      backend: o.backend,
      model: o.model,
      rank: o.loraRank ?? 32,
      seed: o.seed,
      checkpoint: o.checkpoint,
      store: o.checkpoints,
      enableTraining: this.training,
    });
    this.trainingClient = opened.trainer;
    this.samplingClient = opened.sampler;
    this.sdpoSteps = opened.step;
    this.origin = opened.origin;
    if (canScoreDistributions(opened.sampler)) this.vocabSize = (await opened.sampler.logSoftmaxRows([0], [0])).length;
    if (!opened.trainer) return;
    if (o.teacherCheckpoint !== undefined) {
      this.teacher = fixedTeacher(
        await o.backend.createSamplingClient({ baseModel: o.teacherModel ?? o.model, modelPath: o.teacherCheckpoint }),
      );
    } else if (o.teacherModel !== undefined && o.teacherModel !== o.model) {
      this.teacher = fixedTeacher(await o.backend.createSamplingClient({ baseModel: o.teacherModel }));
    } else {
      const c = this.config;
      this.teacher = await createTeacher({
        mode: c.teacherMode,
        trainer: opened.trainer,
        student: opened.sampler,
        step: opened.step,
        emaTau: c.emaTau,
        refreshEvery: c.teacherRefreshEvery,
      });
    }
  }

  /** Clears the conversation and any pending denials; weights and step count stay. */
  clear(): void {
    this.messages = [];
    this.task = null;
    this.denials = [];
    this.approvals = [];
    this.ignored = null;
  }

  /** A user message; unless `task` is false (a correction, a retry nudge), it is the new task. */
  addUserMessage(content: string, { task = true }: { task?: boolean } = {}): void {
    this.messages.push({ role: "user", content });
    if (task || this.task === null) this.task = content;
  }

  addAssistantMessage(message: AssistantMessage): void {
    this.messages.push(message);
  }

  addToolResult(toolCallId: string, content: string): void {
    const call = this.messages
      .flatMap((m) => (m.role === "assistant" ? (m.toolCalls ?? []) : []))
      .find((c) => c.id === toolCallId);
    if (!call) throw new Error(`no tool call ${toolCallId} in this conversation`);
    this.messages.push({ role: "tool", toolCallId, name: call.name, content });
  }

  promptMessages(): Message[] {
    const system: Message[] = this.options.systemPrompt ? [{ role: "system", content: this.options.systemPrompt }] : [];
    return [...system, ...this.messages];
  }

  async sample(): Promise<SampleOutcome> {
    const renderer = this.need(this.renderer, "renderer");
    const sampler = this.need(this.samplingClient, "sampling client");
    const promptMessages = this.promptMessages();
    const promptTokens = renderer.renderPrompt(promptMessages, this.options.tools ?? [], {
      addGenerationPrompt: true,
    }).tokens;
    const seed = this.options.seed === undefined ? undefined : this.options.seed + this.samples;
    this.samples++;
    const result = await sampler.sample(promptTokens, {
      maxTokens: replyTokens({
        maxTokens: this.options.maxTokens,
        contextWindow: this.contextWindow,
        promptTokens: promptTokens.length,
      }),
      temperature: this.options.temperature ?? 0.7,
      stop: renderer.stopTokens,
      seed,
    });
    const seq = result.sequences[0]!;
    const parsed = renderer.parseCompletion(seq.tokens, seq.stopReason, { tools: this.options.tools });
    const completion: Completion = {
      promptMessages,
      promptTokens,
      tokens: seq.tokens,
      logprobs: seq.logprobs,
      promptLength: promptTokens.length,
      task: this.task ?? "",
      stopReason: seq.stopReason,
      text: parsed.text,
    };
    return parsed.kind === "message"
      ? { kind: "message", message: parsed.message, completion }
      : { kind: "parse_error", reason: parsed.reason, detail: parsed.detail, completion };
  }

  /** Keeps a denial for the next trainSdpo(); false (and nothing kept) when there is nothing to learn. */
  recordDenial(
    completion: Completion | null,
    feedback: string,
    extra: { solution?: string; environmentFeedback?: string } = {},
  ): boolean {
    if (!this.trainingClient) return this.ignore("training is off (--no-training)");
    if (!completion || completion.tokens.length === 0)
      return this.ignore("there is no sampled completion to learn from");
    if (!feedback.trim()) return this.ignore("the correction is blank, so there is nothing to learn from");
    this.denials.push({ completion, feedback, ...extra });
    return true;
  }

  /** An approved call: with RL on, reward +1 at the next trainSdpo(); otherwise nothing. */
  recordApproval(completion: Completion): boolean {
    if (!this.trainingClient) return this.ignore("training is off (--no-training)");
    if (!this.config.enableRl) return this.ignore("approvals train only with RL on (--enable-rl)");
    this.approvals.push(completion);
    return true;
  }

  /** One step on everything recorded since the last one; the records are cleared either way. */
  async trainSdpo(): Promise<TrainResult> {
    const trainer = this.trainingClient;
    if (!trainer) return { metrics: {}, reason: "training is off (--no-training)" };
    const denials = this.denials;
    const approvals = this.approvals;
    const ignored = this.ignored;
    this.denials = [];
    this.approvals = [];
    this.ignored = null;
    if (denials.length === 0 && approvals.length === 0)
      return { metrics: {}, reason: ignored ?? "no corrections were recorded" };
    const batch = this.batchFrom(denials, approvals);
    const ctx = {
      trainer,
      student: this.need(this.samplingClient, "sampler"),
      teacher: this.need(this.teacher, "teacher"),
      capabilities: capabilitiesOf(this.options.backend),
      step: this.sdpoSteps,
      baseline: this.baseline,
      vocabSize: this.vocabSize,
    };
    const run = () => trainStep(ctx, batch, this.config);
    const lossFn =
      batch.denials.length > 0 && this.config.enableSdpo ? lossFnFor(this.config.lossMode) : "importance_sampling";
    const outcome = this.options.recordStep ? await this.options.recordStep(lossFn, run) : await run();
    switch (outcome.status) {
      case "trained":
        this.samplingClient = outcome.student;
        this.sdpoSteps = outcome.step;
        this.baseline = outcome.baseline;
        if ((this.options.saveEvery ?? 0) > 0 && outcome.step % this.options.saveEvery! === 0)
          await this.saveCheckpoint();
        return { metrics: outcome.metrics };
      case "skipped":
      case "rejected":
        return { metrics: {}, reason: outcome.reason };
      default: {
        const never: never = outcome;
        throw new Error(`unknown step outcome ${String(never)}`);
      }
    }
  }

  /** Saves weights and optimizer state; the store makes it what a restart resumes. */
  async saveCheckpoint(name = `step-${String(this.sdpoSteps).padStart(6, "0")}`): Promise<string> {
    const trainer = this.need(this.trainingClient, "training client");
    const statePath = await trainer.saveState(name);
    await this.options.checkpoints?.record({ name, step: this.sdpoSteps, statePath });
    return statePath;
  }

  private batchFrom(
    denials: PendingDenial[],
    approvals: Completion[],
  ): { denials: DenialExample[]; rewards: RewardExample[] } {
    const renderer = this.need(this.renderer, "renderer");
    const tools = this.options.tools ?? [];
    const c = this.config;
    const rewarded = new Set<Completion>();
    // With RL on, each denied completion gets reward −1 once, however many corrections it drew.
    const rewardFor = (completion: Completion): number | undefined => {
      if (!c.enableRl || rewarded.has(completion)) return undefined;
      rewarded.add(completion);
      return -1;
    };
    const sampled = (x: Completion) => ({
      promptTokens: x.promptTokens,
      completionTokens: x.tokens,
      samplingLogprobs: x.logprobs,
    });
    if (!c.enableSdpo) {
      const rewards = denials.flatMap((d) => {
        const r = rewardFor(d.completion);
        return r === undefined ? [] : [{ ...sampled(d.completion), reward: r }];
      });
      return { denials: [], rewards: [...rewards, ...approvals.map((a) => ({ ...sampled(a), reward: 1 }))] };
    }
    const examples = denials.map((d): DenialExample => {
      const teacherMessages = buildTeacherMessages(
        {
          promptMessages: d.completion.promptMessages,
          task: d.completion.task,
          feedback: d.feedback,
          solution: d.solution,
          environmentFeedback: d.environmentFeedback,
        },
        c,
      );
      const teacherPromptTokens = renderer.renderPrompt(teacherMessages, tools, { addGenerationPrompt: true }).tokens;
      return {
        ...sampled(d.completion),
        teacherPromptTokens,
        hasSolution: Boolean(d.solution?.trim()),
        reward: rewardFor(d.completion),
      };
    });
    return { denials: examples, rewards: approvals.map((a) => ({ ...sampled(a), reward: 1 })) };
  }

  private ignore(reason: string): false {
    this.ignored = reason;
    return false;
  }

  private need<T>(value: T | null, what: string): T {
    if (value === null) throw new Error(`the SDPO session has no ${what}: call init() first`);
    return value;
  }
}
