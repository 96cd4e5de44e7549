/**
 * The word lists every generated name comes from. Keeping them short keeps the curriculum's
 * vocabulary (and so the embedded model's trimmed vocabulary) small and closed.
 */

export const PROJECT_WORDS = [
  "garden",
  "ledger",
  "harbor",
  "orbit",
  "pantry",
  "atlas",
  "beacon",
  "meadow",
  "quarry",
  "canvas",
] as const;

export const MODULE_WORDS = ["tools", "stats", "text", "shapes", "prices", "inventory", "scores", "units"] as const;

export const NOUNS = [
  "apple",
  "item",
  "order",
  "point",
  "score",
  "price",
  "word",
  "task",
  "coin",
  "seed",
  "page",
  "cup",
] as const;

export const PACKAGE_DIRS = ["core", "lib", "util"] as const;

export const DOC_DIRS = ["docs", "notes"] as const;

/** "apple_box" → "appleBox" (JavaScript names) */
export function camelCase(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
