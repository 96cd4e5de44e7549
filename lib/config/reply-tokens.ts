/**
 * How many tokens a reply may take, from the reply length limit (`--max-tokens`) and the model's
 * context. Unset ("auto"), a reply may use whatever the context leaves after the prompt; set, it
 * is capped there too. Either way the prompt is trimmed so that the reply keeps at least half the
 * context (or the whole limit, when that is smaller): a setting can never ask for more than fits.
 */

/** Context assumed for a model whose backend does not report one (Qwen3's native 32k). */
export const ASSUMED_CONTEXT_WINDOW = 32_768;

/** Tokens kept free for the reply when the prompt is trimmed to fit (lib/agent/context.ts promptBudget). */
export function replyReserve({
  maxTokens,
  contextWindow,
}: {
  maxTokens: number | undefined;
  contextWindow: number;
}): number {
  return Math.min(maxTokens ?? contextWindow, Math.floor(contextWindow / 2));
}

/** The sampling call's maxTokens: the limit, or what is left of the context, whichever is less. */
export function replyTokens({
  maxTokens,
  contextWindow,
  promptTokens,
}: {
  maxTokens: number | undefined;
  contextWindow: number;
  promptTokens: number;
}): number {
  return Math.max(0, Math.min(maxTokens ?? contextWindow, contextWindow - promptTokens));
}
