/**
 * Generates the training set: plans the episodes, runs them (a few at a time, since most of the
 * wait is on sandboxed processes and grep workers), keeps those within the token budget in plan
 * order, and summarises them. The records hold Qwen3 ids; the trimmed vocabulary built from
 * them maps those to the embedded model's compact ids.
 */
import { buildSystemPrompt } from "@/lib/agent/system-prompt";
import type { Renderer } from "@/lib/chat/types";
import { TrimmedVocab, type ByteLevel } from "@/lib/chat/trimmed-vocab";
import { TOOL_SPECS } from "@/lib/tools";
import { planEpisodes, type PlanOptions } from "./episodes";
import { HABIT_IDS } from "./habits";
import { FAMILY_IDS, type FamilyId, type HabitId, type HabitRecord, type MistakeId } from "./plan";
import { CURRICULUM_CWD, runEpisode, type RanEpisode } from "./runner";

export interface CurriculumRecord {
  tokens: number[];
  weights: number[];
  family: FamilyId;
  habits: HabitRecord[];
  mistakes: MistakeId[];
  workspaceSeed: number;
}

export interface HabitStats {
  /** Decisions taken with no correction in context, and how many showed the habit. */
  baseDecisions: number;
  shown: number;
  rate: number;
  denied: number;
  approved: number;
  teacherShaped: number;
}

export interface CurriculumStats {
  episodes: number;
  droppedOverBudget: number;
  droppedPerFamily: Record<FamilyId, number>;
  perFamily: Record<FamilyId, number>;
  tokens: number;
  assistantTokens: number;
  meanSequence: number;
  maxSequence: number;
  maxTokens: number;
  /** The system turn of every prompt (system prompt plus tools block), and the tools block alone. */
  systemAndToolsTokens: number;
  toolsBlockTokens: number;
  systemPromptTokens: number;
  vocabularySize: number;
  habits: Record<HabitId, HabitStats>;
  mistakes: Record<MistakeId, number>;
}

export interface GenerateOptions extends PlanOptions {
  renderer: Renderer;
  byteLevel: ByteLevel;
  maxTokens: number;
  concurrency: number;
  /**
   * A fixed vocabulary (an existing model's): the renderer must already spell text outside it in
   * byte tokens (withTrimmedVocab), and the dataset keeps it, so a run can continue that model.
   */
  vocab?: TrimmedVocab;
  /** Called as each episode finishes (any order): for progress reports. */
  onProgress?: (done: number, total: number) => void;
}

export function toRecord(ran: RanEpisode): CurriculumRecord {
  const { plan } = ran;
  return {
    tokens: ran.tokens,
    weights: ran.weights,
    family: plan.family,
    habits: plan.habits,
    mistakes: plan.mistakes,
    workspaceSeed: plan.workspaceSeed,
  };
}

export function habitStats(records: Array<{ habits: HabitRecord[] }>): Record<HabitId, HabitStats> {
  const out = {} as Record<HabitId, HabitStats>;
  for (const id of HABIT_IDS) {
    const all = records.flatMap((r) => r.habits.filter((h) => h.habit === id));
    const base = all.filter((h) => h.decision !== "teacher");
    const shown = base.filter((h) => h.decision === "habit");
    out[id] = {
      baseDecisions: base.length,
      shown: shown.length,
      rate: base.length === 0 ? 0 : Number((shown.length / base.length).toFixed(4)),
      denied: shown.filter((h) => h.followUp === "denied").length,
      approved: shown.filter((h) => h.followUp === "approved").length,
      teacherShaped: all.length - base.length,
    };
  }
  return out;
}

export async function generateCurriculum(
  options: GenerateOptions,
): Promise<{ records: CurriculumRecord[]; stats: CurriculumStats; vocab: TrimmedVocab }> {
  const planned = planEpisodes(options);
  const ran: Array<RanEpisode | undefined> = new Array(planned.length);
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, options.concurrency) }, async () => {
      while (next < planned.length) {
        const i = next++;
        ran[i] = await runEpisode(planned[i]!, options.renderer);
        options.onProgress?.(++done, planned.length);
      }
    }),
  );
  const all = ran.filter((r): r is RanEpisode => r !== undefined);
  const kept = all.filter((r) => r.tokens.length <= options.maxTokens);
  const droppedPerFamily = Object.fromEntries(
    FAMILY_IDS.map((f) => [f, all.filter((r) => r.plan.family === f && r.tokens.length > options.maxTokens).length]),
  ) as Record<FamilyId, number>;
  const records = kept.map(toRecord);

  const tokenizer = options.renderer.tokenizer;
  const used = new Set<number>();
  for (const r of records) for (const id of r.tokens) used.add(id);
  if (options.vocab) {
    const missing = [...used].filter((id) => !options.vocab!.has(id));
    if (missing.length > 0)
      throw new Error(`${missing.length} token ids are outside the fixed vocabulary (render with withTrimmedVocab)`);
  }
  const vocab = options.vocab ?? TrimmedVocab.build(used, tokenizer, options.byteLevel);

  const system = buildSystemPrompt({ cwd: CURRICULUM_CWD });
  const prefix = options.renderer.renderPrompt([{ role: "system", content: system }], TOOL_SPECS, {
    addGenerationPrompt: false,
  });
  const toolsOnly = options.renderer.renderPrompt([], TOOL_SPECS, { addGenerationPrompt: false });
  const perFamily = Object.fromEntries(
    FAMILY_IDS.map((f) => [f, records.filter((r) => r.family === f).length]),
  ) as Record<FamilyId, number>;
  const mistakes = { read_wrong_path: 0, edit_old_mismatch: 0, read_test_not_module: 0 } satisfies Record<
    MistakeId,
    number
  >;
  for (const r of records) for (const m of r.mistakes) mistakes[m]++;
  const lengths = records.map((r) => r.tokens.length);
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const stats: CurriculumStats = {
    episodes: records.length,
    droppedOverBudget: planned.length - records.length,
    droppedPerFamily,
    perFamily,
    tokens,
    assistantTokens: records.reduce((s, r) => s + r.weights.reduce((a, w) => a + w, 0), 0),
    meanSequence: records.length === 0 ? 0 : Math.round(tokens / records.length),
    maxSequence: Math.max(0, ...lengths),
    maxTokens: options.maxTokens,
    systemAndToolsTokens: prefix.tokens.length,
    toolsBlockTokens: toolsOnly.tokens.length,
    systemPromptTokens: tokenizer.encode(system).length,
    vocabularySize: vocab.size,
    habits: habitStats(records),
    mistakes,
  };
  return { records, stats, vocab };
}

/** One JSON line per record, in order: the dataset file. */
export function recordsToJsonl(records: CurriculumRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join("\n") + (records.length > 0 ? "\n" : "");
}
