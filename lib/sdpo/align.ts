/**
 * Pairs scored log-probs with the tokens they score. A sampler's computeLogprobs returns one entry
 * per token of the sequence it was given: entry i = log p(token i | tokens < i), entry 0 null. For
 * a prompt of N tokens followed by a completion of T tokens, the completion's log-probs are
 * therefore entries N..N+T-1 (the original product read N-1..N+T-2, one token early).
 */

export function sliceCompletionLogprobs(
  all: ReadonlyArray<number | null>,
  promptLength: number,
  completionLength: number,
): number[] {
  if (all.length !== promptLength + completionLength) {
    throw new Error(
      `expected ${promptLength + completionLength} log-probs (prompt ${promptLength} + completion ${completionLength}), got ${all.length}`,
    );
  }
  if (promptLength < 1) throw new Error("a scored prompt needs at least one token");
  return all.slice(promptLength, promptLength + completionLength).map((lp, t) => {
    if (lp === null) throw new Error(`completion token ${t} has no log-prob`);
    return lp;
  });
}

/**
 * Positions (in the full sequence) whose next-token distributions predict the completion: the row
 * at position N-1+t is the distribution over completion token t.
 */
export function completionRowPositions(promptLength: number, completionLength: number): number[] {
  return Array.from({ length: completionLength }, (_, t) => promptLength - 1 + t);
}
