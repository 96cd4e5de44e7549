/**
 * Stop strings for a sampler that works in token ids: a sequence ends at the first token whose
 * text, together with the tokens before it, contains one of the strings, and keeps that token (as
 * a stop token is kept). Cutting a finished sample there gives the same sequences as stopping the
 * sampler there, since no token depends on the ones after it.
 */
import type { SampledSequence } from "../types";

export interface TokenDecoder {
  decode(ids: number[]): string;
}

export function cutAtStopStrings(
  seq: SampledSequence,
  stops: readonly string[],
  decoder: TokenDecoder,
): SampledSequence {
  if (stops.length === 0) return seq;
  const longest = Math.max(...stops.map((s) => s.length));
  for (let n = 1; n <= seq.tokens.length; n++) {
    // Only the text a stop string could end in needs decoding: the new token and enough before it.
    // A token is at least one character, so `longest` tokens back always covers the string.
    const window = decoder.decode(seq.tokens.slice(Math.max(0, n - longest - 1), n));
    if (stops.some((s) => window.includes(s))) {
      return { tokens: seq.tokens.slice(0, n), logprobs: seq.logprobs.slice(0, n), stopReason: "stop" };
    }
  }
  return seq;
}
