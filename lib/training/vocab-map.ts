/**
 * Token ids across the embedded backend's boundary. A model trained over a trimmed vocabulary
 * (a `vocab.json` beside its weights: the Qwen3 ids it keeps, in order) numbers its tokens
 * 0..n-1; everything above the TrainingBackend interface speaks Qwen3 ids. VocabMap translates
 * on the way in (prompts, datums, stop tokens, teacher top-k ids) and on the way out (sampled
 * tokens, top-k ids), so renderers, SDPO and the agent never see a compact id. Log-softmax rows
 * stay in the model's own vocabulary both ways (a 1,200-token model's rows are 1,200 wide, not
 * Qwen3's 151,936): a caller finds a token's column with `toModel`. SAME_IDS is the identity, for
 * models over the whole Qwen3 vocabulary.
 */
import fs from "node:fs";
import path from "node:path";
import type { Datum, SampleResult, SamplingParams } from "./types";

/** Qwen3 checkpoints' lm_head width: every Qwen3 token id lies below it. */
export const QWEN3_ROWS = 151_936;

export const VOCAB_FILE = "vocab.json";

/** How ids cross between callers (Qwen3) and the engine (the model's own numbering). */
export interface TokenSpace {
  /** The model's vocabulary size, or null when it is the callers' own. */
  readonly modelSize: number | null;
  toModel(ids: readonly number[]): number[];
  fromModel(ids: readonly number[]): number[];
  datumToModel(datum: Datum): Datum;
  samplingToModel(params: SamplingParams): SamplingParams;
  sampleFromModel(result: SampleResult): SampleResult;
  topkFromModel(top: { ids: Int32Array; logprobs: Float32Array }): { ids: Int32Array; logprobs: Float32Array };
}

export const SAME_IDS: TokenSpace = {
  modelSize: null,
  toModel: (ids) => [...ids],
  fromModel: (ids) => [...ids],
  datumToModel: (datum) => datum,
  samplingToModel: (params) => params,
  sampleFromModel: (result) => result,
  topkFromModel: (top) => top,
};

export class VocabMap implements TokenSpace {
  private readonly compactOf: Map<number, number>;

  private constructor(private readonly ids: readonly number[]) {
    for (let i = 1; i < ids.length; i++)
      if (!(ids[i]! > ids[i - 1]!)) throw new Error("vocab.json ids must be strictly ascending");
    if (ids.length > 0 && (ids[0]! < 0 || ids[ids.length - 1]! >= QWEN3_ROWS))
      throw new Error(`vocab.json ids must lie in [0, ${QWEN3_ROWS})`);
    this.compactOf = new Map(ids.map((id, i) => [id, i]));
  }

  /** Kept Qwen3 ids, ascending: compact id i stands for ids[i]. */
  static fromIds(ids: readonly number[]): VocabMap {
    return new VocabMap([...ids]);
  }

  /** The map in `dir`/vocab.json, or null when the model has no trimmed vocabulary. */
  static read(dir: string): VocabMap | null {
    const file = path.join(dir, VOCAB_FILE);
    if (!fs.existsSync(file)) return null;
    const json = JSON.parse(fs.readFileSync(file, "utf8")) as { tokenizer?: unknown; ids?: unknown };
    if (json.tokenizer !== "qwen3") throw new Error(`${file} is for tokenizer ${String(json.tokenizer)}, not qwen3`);
    if (!Array.isArray(json.ids) || !json.ids.every((id) => Number.isInteger(id)))
      throw new Error(`${file} needs an integer "ids" array`);
    return new VocabMap(json.ids as number[]);
  }

  get modelSize(): number {
    return this.ids.length;
  }

  toModel(ids: readonly number[]): number[] {
    return ids.map((id) => this.compact(id));
  }

  fromModel(ids: readonly number[]): number[] {
    return ids.map((c) => {
      const id = this.ids[c];
      if (id === undefined) throw new Error(`model token ${c} is outside its vocabulary of ${this.ids.length}`);
      return id;
    });
  }

  /** Only ids change: teacher rows are already in the model's vocabulary (logSoftmaxRows gave them so). */
  datumToModel(datum: Datum): Datum {
    const inputs = { ...datum.lossFnInputs, targetTokens: this.toModel(datum.lossFnInputs.targetTokens) };
    if (inputs.teacherTopkIds) inputs.teacherTopkIds = Int32Array.from(inputs.teacherTopkIds, (id) => this.compact(id));
    return { modelInput: this.toModel(datum.modelInput), lossFnInputs: inputs };
  }

  /** Stop tokens the model lacks can never be sampled, so they are dropped rather than refused. */
  samplingToModel(params: SamplingParams): SamplingParams {
    if (!params.stop) return params;
    return { ...params, stop: params.stop.filter((id) => this.compactOf.has(id)).map((id) => this.compact(id)) };
  }

  sampleFromModel(result: SampleResult): SampleResult {
    return { ...result, sequences: result.sequences.map((s) => ({ ...s, tokens: this.fromModel(s.tokens) })) };
  }

  topkFromModel(top: { ids: Int32Array; logprobs: Float32Array }): { ids: Int32Array; logprobs: Float32Array } {
    const ids = this.ids;
    return { ids: Int32Array.from(top.ids, (c) => ids[c]!), logprobs: top.logprobs };
  }

  private compact(id: number): number {
    const c = this.compactOf.get(id);
    if (c === undefined) {
      throw new Error(
        `token ${id} is outside the model's vocabulary of ${this.ids.length} tokens; render prompts with the model's renderer (withTrimmedVocab), which spells such text in byte tokens`,
      );
    }
    return c;
  }
}
