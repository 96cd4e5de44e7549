/**
 * The original's quick corrections for a denial, as chips: each key names one common mistake and
 * fills the correction box with its text (which the person may still change before sending).
 */
export const CORRECTION_CHIPS = [
  { key: "f", label: "wrong file", text: "Wrong file: use read/glob/grep first to find the right one." },
  { key: "r", label: "read first", text: "Read the file before editing it." },
  { key: "e", label: "use edit_lines", text: "Use edit_lines instead of edit." },
  { key: "t", label: "tool error", text: "Tool error: fix the arguments and retry." },
] as const;

export type CorrectionChip = (typeof CORRECTION_CHIPS)[number];
