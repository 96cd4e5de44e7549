/**
 * The original's composer commands, matched exactly as it matched them (whole input, trimmed):
 * "/c" clears, "/metrics" shows the last step's metrics, "/q" (or "exit") leaves. Anything else
 * is a message to the agent.
 */
export type Command = "clear" | "metrics" | "quit";

export function commandOf(text: string): Command | null {
  switch (text.trim()) {
    case "/c":
      return "clear";
    case "/metrics":
      return "metrics";
    case "/q":
    case "exit":
      return "quit";
    default:
      return null;
  }
}
