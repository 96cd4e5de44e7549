/**
 * The learning benchmark's view of one sampled reply: the first tool call it proposes (parsed by
 * the renderer; a reply cut off by the token limit still names its tool and leading arguments,
 * which is enough to judge a habit), and whether that call is the ideal one by tool and key
 * arguments (the path a file tool acts on, a search's pattern, a command).
 */
import type { Renderer, ToolSpec } from "@/lib/chat/types";
import type { Call } from "@/lib/curriculum/plan";
import type { StopReason } from "@/lib/training/types";

export type ProposedCall = { name: string; arguments: Record<string, unknown> };

/** The arguments that make two calls the same move; anything else (content, line text) may differ. */
export const KEY_ARGS: Record<string, string[]> = {
  read: ["path"],
  write: ["path"],
  edit: ["path"],
  edit_lines: ["path"],
  glob: ["pat"],
  grep: ["pat"],
  bash: ["cmd"],
};

const norm = (v: unknown) => (typeof v === "string" ? v.trim().replace(/^\.\//, "") : JSON.stringify(v));

/** Same tool and same key arguments; `ideal` null means a plain answer (no call) is right. */
export function matchesIdeal(
  call: ProposedCall | null,
  ideal: Call | null,
  keys: (tool: string) => string[] = (tool) => KEY_ARGS[tool] ?? [],
): boolean {
  if (ideal === null) return call === null;
  if (call === null || call.name !== ideal.name) return false;
  return keys(ideal.name).every((k) => norm(call.arguments[k]) === norm(ideal.arguments[k]));
}

/**
 * The ideal move whichever file it names: same tool, same command or pattern, any path. A habit
 * is about the move (edit rather than write, read before edit, this test command), while copying
 * the task's path is a separate skill; the benchmark reports both rates so neither hides the other.
 */
export function matchesIdealMove(call: ProposedCall | null, ideal: Call | null): boolean {
  return matchesIdeal(call, ideal, (tool) => (KEY_ARGS[tool] ?? []).filter((k) => k !== "path"));
}

/**
 * The tool name and the complete string arguments at the front of a cut-off call, e.g.
 * `<tool_call>\n{"name": "write", "arguments": {"path": "a.py", "content": "…` → write {path}.
 */
export function partialCall(text: string): ProposedCall | null {
  const name = /"name"\s*:\s*"([^"\\]+)"/.exec(text)?.[1];
  if (!name) return null;
  const args: Record<string, unknown> = {};
  const body = text.slice(text.indexOf('"arguments"') + 1);
  for (const m of body.matchAll(/"(\w+)"\s*:\s*"((?:[^"\\]|\\.)*)"/g)) {
    if (m[1] === "arguments" || m[1] === "name") continue;
    try {
      args[m[1]!] ??= JSON.parse(`"${m[2]}"`);
    } catch {
      // A half-written escape: leave the argument out.
    }
  }
  return { name, arguments: args };
}

export interface Proposal {
  call: ProposedCall | null;
  /** The reply parsed as a message (false: a parse error, judged from its text). */
  parsed: boolean;
  text: string;
}

export function firstProposal(
  renderer: Renderer,
  tools: ToolSpec[],
  tokens: number[],
  stopReason: StopReason,
): Proposal {
  // A reply that is only the end-of-turn token is an empty answer (the tokenizer refuses to decode nothing).
  if (tokens.every((t) => renderer.stopTokens.includes(t))) return { call: null, parsed: true, text: "" };
  const parsed = renderer.parseCompletion(tokens, stopReason, { tools });
  if (parsed.kind === "message") {
    const first = parsed.message.toolCalls?.[0];
    return { call: first ? { name: first.name, arguments: first.arguments } : null, parsed: true, text: parsed.text };
  }
  return {
    call: parsed.text.includes("<tool_call>") ? partialCall(parsed.text) : null,
    parsed: false,
    text: parsed.text,
  };
}
