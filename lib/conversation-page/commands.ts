/**
 * The original's composer commands, matched exactly as it matched them (whole input, trimmed):
 * "/c" clears, "/metrics" shows the last step's metrics, "/q" (or "exit") leaves. Anything else
 * is a message to the agent. Added here: "/rewind" chooses an earlier turn to go back to (code,
 * conversation or both), "/undo" undoes the last rewind.
 */
export type Command = "clear" | "metrics" | "quit" | "rewind" | "undo_rewind";

export function commandOf(text: string): Command | null {
  switch (text.trim()) {
    case "/c":
      return "clear";
    case "/metrics":
      return "metrics";
    case "/q":
    case "exit":
      return "quit";
    case "/rewind":
      return "rewind";
    case "/undo":
      return "undo_rewind";
    default:
      return null;
  }
}
