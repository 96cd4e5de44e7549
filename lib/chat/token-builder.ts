/**
 * Accumulates a prompt as tokens plus a per-token weight. Consecutive text of one weight is
 * encoded in one piece (as Hugging Face tokenises everything between two special tokens), and the
 * text is cut wherever the weight changes, so an assistant turn's tokens never merge with its
 * header: the sampled completion then re-renders to the same tokens (the prefix property).
 */
import type { RenderedPrompt } from "./types";
import type { Tokenizer } from "./tokenizer";
import { splitOnSpecials } from "./tokenizer";

export type Weight = 0 | 1;

export class TokenBuilder {
  private readonly tokens: number[] = [];
  private readonly weights: number[] = [];
  private pending = "";
  private pendingWeight: Weight = 0;

  constructor(private readonly tokenizer: Tokenizer) {}

  /** Text whose special-token strings stay text (message content, tool results, arguments). */
  text(text: string, weight: Weight): this {
    if (text.length === 0) return this;
    if (weight !== this.pendingWeight) this.flush();
    this.pendingWeight = weight;
    this.pending += text;
    return this;
  }

  /** One special token by its string, e.g. "<|im_start|>". */
  special(token: string, weight: Weight): this {
    this.flush();
    this.tokens.push(this.tokenizer.idOf(token));
    this.weights.push(weight);
    return this;
  }

  /** Renderer-written text in which the listed special-token strings are their single ids. */
  template(text: string, weight: Weight, specials: readonly string[]): this {
    for (const part of splitOnSpecials(text, specials)) {
      if (part.special) this.special(part.text, weight);
      else this.text(part.text, weight);
    }
    return this;
  }

  build(): RenderedPrompt {
    this.flush();
    return { tokens: [...this.tokens], weights: [...this.weights] };
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const ids = this.tokenizer.encode(this.pending);
    for (const id of ids) {
      this.tokens.push(id);
      this.weights.push(this.pendingWeight);
    }
    this.pending = "";
  }
}
