/**
 * A reply's text while it is being sampled: token batches arrive from the sampler, the tokens so
 * far are decoded, and only the new text goes out as a delta. Deltas are coalesced (the first at
 * once, then at most one per interval), published one after another in order, and none after
 * end(), which sends what is left and waits for them all, so the caller's final event comes last.
 *   sampler → onTokens → IncrementalDecoder.take → publish(delta) … end() → rest → (caller: final)
 */
import type { SampleObserver } from "@/lib/training/types";

/** One delta per this many milliseconds at most: a smooth draft for a reader, a few rows a second to store. */
export const TOKEN_EVENT_INTERVAL_MS = 50;

const REPLACEMENT = 0xfffd;

/**
 * Text of the tokens so far, handed out in pieces that later tokens cannot change. Every take
 * decodes all the tokens again, so a token that finishes a multi-byte character (an emoji split
 * over byte tokens) yields the whole character; until then the decoder shows U+FFFD at the end,
 * which is held back. Tokens from the first stop token on are not text (the renderer cuts there).
 */
export class IncrementalDecoder {
  private readonly tokens: number[] = [];
  private stopped = false;
  private taken = "";

  constructor(
    private readonly decode: (ids: number[]) => string,
    private readonly stopTokens: readonly number[] = [],
  ) {}

  push(tokens: readonly number[]): void {
    for (const t of tokens) {
      if (this.stopped) return;
      if (this.stopTokens.includes(t)) {
        this.stopped = true;
        return;
      }
      this.tokens.push(t);
    }
  }

  /** The settled text not handed out yet; "" when there is none. */
  take(): string {
    return this.next(false);
  }

  /** Everything not handed out yet, an unfinished character included: the sample has ended. */
  rest(): string {
    return this.next(true);
  }

  private next(all: boolean): string {
    const text = this.tokens.length === 0 ? "" : this.decode(this.tokens);
    let end = text.length;
    if (!all) while (end > 0 && text.charCodeAt(end - 1) === REPLACEMENT) end--;
    // Byte-level decoding only ever extends the text; should a decoder revise earlier text, nothing
    // more is handed out, and the reply's final event still carries the whole of it.
    if (end <= this.taken.length || !text.startsWith(this.taken)) return "";
    const delta = text.slice(this.taken.length, end);
    this.taken = text.slice(0, end);
    return delta;
  }
}

export type TokenStreamOptions = {
  decode: (ids: number[]) => string;
  stopTokens?: readonly number[];
  publish: (delta: string) => Promise<unknown>;
  intervalMs?: number;
  /** Told about a delta that failed to publish; the stream goes on without it. */
  onError?: (error: unknown) => void;
};

/** A SampleObserver that publishes the reply's text as throttled deltas. */
export class TokenStream implements SampleObserver {
  private readonly decoder: IncrementalDecoder;
  private readonly intervalMs: number;
  private lastSent = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private chain: Promise<void> = Promise.resolve();
  private ended = false;

  constructor(private readonly options: TokenStreamOptions) {
    this.decoder = new IncrementalDecoder(options.decode, options.stopTokens);
    this.intervalMs = options.intervalMs ?? TOKEN_EVENT_INTERVAL_MS;
  }

  onTokens(tokens: number[]): void {
    if (this.ended) return;
    this.decoder.push(tokens);
    if (this.timer) return;
    const wait = this.lastSent + this.intervalMs - performance.now();
    if (wait <= 0) this.send(this.decoder.take());
    else
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.ended) this.send(this.decoder.take());
      }, wait);
  }

  /** Sends the text still held back and resolves once every delta has been published (or failed). */
  end(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.send(this.decoder.rest());
    }
    return this.chain;
  }

  private send(delta: string): void {
    // Nothing new yet (e.g. half a character): the next batch may send at once.
    if (delta === "") return;
    this.lastSent = performance.now();
    const onError = this.options.onError ?? (() => {});
    this.chain = this.chain.then(() => this.options.publish(delta)).then(() => undefined, onError);
  }
}
