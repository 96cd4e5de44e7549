/**
 * Keyboard decisions on a proposed tool call: y approves, n denies (opens the correction box),
 * e edits. A key counts only when nobody is typing: never inside an input, a textarea, a select,
 * anything contenteditable or a Monaco editor, and never with a modifier held (Ctrl-N is the
 * browser's). The predicate takes a minimal element shape so it is testable without a DOM.
 */

export type DecisionKey = "approve" | "deny" | "edit";

/** The parts of a DOM element the predicate reads. */
export type TargetLike = {
  tagName?: string;
  isContentEditable?: boolean;
  closest?: (selector: string) => unknown;
} | null;

export type KeyLike = {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  repeat?: boolean;
  isComposing?: boolean;
  target: TargetLike;
};

const TEXT_TAGS = new Set(["INPUT", "TEXTAREA", "SELECT"]);

/** Is the event aimed at something the user types into? (Monaco's own textarea included.) */
export function isTypingTarget(target: TargetLike): boolean {
  if (!target) return false;
  if (target.tagName && TEXT_TAGS.has(target.tagName.toUpperCase())) return true;
  if (target.isContentEditable) return true;
  // Monaco renders a hidden textarea inside `.monaco-editor`; a focused editor of any kind is typing.
  return Boolean(target.closest?.(".monaco-editor, [contenteditable='true'], [data-typing-area]"));
}

/** The decision a key press asks for, or null when it must be left alone. */
export function decisionKeyFor(event: KeyLike): DecisionKey | null {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || event.isComposing) return null;
  if (isTypingTarget(event.target)) return null;
  switch (event.key) {
    case "y":
      return "approve";
    case "n":
      return "deny";
    case "e":
      return "edit";
    default:
      return null;
  }
}
